"""What the app shows about each registered model (read from the registry; no list of names here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from inpaintstudio.engine import registry
from inpaintstudio.errors import DOWNLOAD, IMPORT, TRAIN, Remedy, with_remedy

log = logging.getLogger(__name__)

# The app's wording of a remedy (the command line names a command instead): where in the menus it is done,
# and inside the model manager, which of its buttons does it.
TRAIN_WORDS = "train weights (inpaintstudio train, see the README)"  # the app cannot train; the command line can
REMEDY_MENUS = {
    DOWNLOAD: "download them in Fill > Manage Models",
    IMPORT: "import a checkpoint in Fill > Manage Models",
    TRAIN: TRAIN_WORDS,
}
REMEDY_BUTTONS = {
    DOWNLOAD: "press Download to get them",
    IMPORT: "import a checkpoint with Import...",
    TRAIN: TRAIN_WORDS,
}


def app_message(message: str, remedy: Remedy | None) -> str:
    """A message with its remedy worded as the app's menu path."""
    return with_remedy(message, remedy, lambda r: REMEDY_MENUS[r.kind])


def manager_message(message: str, remedy: Remedy | None) -> str:
    """A message with its remedy worded as the model manager's button."""
    return with_remedy(message, remedy, lambda r: REMEDY_BUTTONS[r.kind])


@dataclass(frozen=True)
class ModelInfo:
    name: str
    label: str
    summary: str
    learned: bool
    sketch: bool
    outpaint: bool
    ready: bool
    state: str
    message: str
    # what auto would pick this model for, and why (engine/selection.py), e.g. ("holes", "best recorded ...")
    recommended: tuple[tuple[str, str], ...] = ()

    def tooltip(self) -> str:
        caps = [c for c, on in (("uses sketch strokes", self.sketch), ("extends borders", self.outpaint)) if on]
        lines = [f"<b>{self.label}</b>", self.summary]
        if caps:
            lines.append("Can: " + ", ".join(caps))
        lines.append("Ready" if self.ready else "Not available: " + (self.message or self.state))
        lines += [f"Recommended for {job}: {reason}" for job, reason in self.recommended]
        return "<br>".join(line for line in lines if line)

    @property
    def shown_label(self) -> str:
        """The label in the model list: a star marks the model recommended for a job."""
        return f"{self.label} \u2605" if self.recommended else self.label


def available_models() -> list[ModelInfo]:
    """Every registered model with its capabilities and status; classical ones first, then learned."""
    try:
        classes = registry.all_inpainters()
    except Exception:  # a broken model module must not take the app down; show what did register
        log.exception("loading the model registry failed")
        classes = registry.all_inpainters()
    picks = recommendations()
    infos = []
    for cls in classes:
        try:
            status = cls.status()
            ready, state, message = status.ready, status.state, app_message(status.message, status.remedy)
        except Exception as exc:  # noqa: BLE001 - shown to the user as the reason
            ready, state, message = False, "unavailable", f"{type(exc).__name__}: {exc}"
        caps = cls.capabilities()
        infos.append(
            ModelInfo(
                name=cls.name,
                label=cls.label or cls.name,
                summary=cls.summary,
                learned=bool(cls.learned),
                sketch=caps.sketch,  # an unguided imported DeepFill v2 says no, as everywhere else
                outpaint=caps.outpaint,
                ready=bool(ready),
                state=state,
                message=message,
                recommended=tuple((job, reason) for job, (name, reason) in picks.items() if name == cls.name),
            )
        )
    infos.sort(key=lambda m: (m.learned, not m.ready))
    return infos


JOB_WORDS = {"holes": "filling holes", "borders": "extending borders"}


def recommendations() -> dict[str, tuple[str, str]]:
    """{job: (model, why)}: what auto picks for holes and for borders, by the recorded scores."""
    from inpaintstudio.engine import selection

    picks: dict[str, tuple[str, str]] = {}
    for job in selection.JOBS:
        try:
            choice = registry.select(job)
        except Exception:  # noqa: BLE001 - a broken score file must not take the model list down
            log.exception("choosing the recommended model for %s failed", job)
            continue
        if choice.model:
            picks[JOB_WORDS[job]] = (choice.model, choice.reason)
    return picks


def model_info(name: str) -> ModelInfo | None:
    return next((m for m in available_models() if m.name == name), None)
