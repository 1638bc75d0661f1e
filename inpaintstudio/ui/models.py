"""What the app shows about each registered model (read from the registry; no list of names here)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from inpaintstudio.engine import registry

log = logging.getLogger(__name__)

_CLI_HINTS = (  # the engine's advice names commands; in the app the model manager does the same
    (re.compile(r"download them with: inpaintstudio models download \S+"), "download them in Fill > Manage Models"),
    (re.compile(r"import a checkpoint \(inpaintstudio models import FILE --as \S+\)"),
     "import a checkpoint in Fill > Manage Models"),
)  # fmt: skip


def app_message(message: str) -> str:
    """A model status message with its command-line advice turned into the app's menu path."""
    for pattern, replacement in _CLI_HINTS:
        message = pattern.sub(replacement, message)
    return message


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

    def tooltip(self) -> str:
        caps = [c for c, on in (("uses sketch strokes", self.sketch), ("extends borders", self.outpaint)) if on]
        lines = [f"<b>{self.label}</b>", self.summary]
        if caps:
            lines.append("Can: " + ", ".join(caps))
        lines.append("Ready" if self.ready else "Not available: " + (self.message or self.state))
        return "<br>".join(line for line in lines if line)


def available_models() -> list[ModelInfo]:
    """Every registered model with its capabilities and status; classical ones first, then learned."""
    try:
        classes = registry.all_inpainters()
    except Exception:  # a broken model module must not take the app down; show what did register
        log.exception("loading the model registry failed")
        classes = registry.all_inpainters()
    infos = []
    for cls in classes:
        try:
            status = cls.status()
            ready, state, message = status.ready, status.state, status.message
        except Exception as exc:  # noqa: BLE001 - shown to the user as the reason
            ready, state, message = False, "unavailable", f"{type(exc).__name__}: {exc}"
        infos.append(
            ModelInfo(
                name=cls.name,
                label=cls.label or cls.name,
                summary=cls.summary,
                learned=bool(cls.learned),
                sketch=bool(cls.supports_sketch),
                outpaint=bool(cls.supports_outpaint),
                ready=bool(ready),
                state=state,
                message=app_message(message),
            )
        )
    infos.sort(key=lambda m: (m.learned, not m.ready))
    return infos


def model_info(name: str) -> ModelInfo | None:
    return next((m for m in available_models() if m.name == name), None)
