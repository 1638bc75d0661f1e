"""What the model manager shows of each registered model (from ``engine.catalog.model_info``, as the
``inpaintstudio models`` listing), and which of its actions apply to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inpaintstudio import paths
from inpaintstudio.engine import registry, weights
from inpaintstudio.errors import InpaintStudioError, Remedy
from inpaintstudio.ui.icons import ACCENT, DISABLED
from inpaintstudio.ui.models import manager_message

log = logging.getLogger(__name__)

COLUMNS = ("Model", "Kind", "Sketch", "Extend", "Working size", "Weights", "Disk", "Licence", "Origin")
STATES = {  # weights state -> (shown text, icon, colour)
    "ready": ("Ready", "ready", ACCENT),
    "no weights needed": ("No weights needed", "capable", DISABLED),
    "missing": ("Missing", "missing", "#e0a040"),
    "damaged": ("Damaged", "missing", "#e05555"),
}


@dataclass(frozen=True)
class ModelRow:
    """One model as the manager shows it."""

    name: str
    label: str
    summary: str
    fields: dict[str, Any]  # engine.catalog.model_info(cls)
    working_size: int | None
    spec: weights.WeightsSpec | None
    family: bool  # public checkpoints can be imported as variants of it

    @property
    def state(self) -> str:
        return str(self.fields["weights"])

    @property
    def removable(self) -> bool:
        """An imported variant (listed in the user's manifest with a base family)."""
        return bool(self.spec and self.spec.base and Path(self.spec.folder) == paths.user_models_dir())

    @property
    def downloadable(self) -> bool:
        return bool(self.spec and self.spec.url) and self.state in ("missing", "damaged")


def model_rows() -> list[ModelRow]:
    """Every registered model; one that cannot even describe itself is listed as unavailable."""
    from inpaintstudio.engine.catalog import model_info, spec_of

    rows = []
    for cls in registry.all_inpainters():
        spec = spec_of(cls)
        try:
            fields = model_info(cls)
            remedy = fields.get("remedy")
            fields["message"] = manager_message(str(fields.get("message") or ""), Remedy(**remedy) if remedy else None)
            size = cls.capabilities().working_size
        except Exception as exc:  # noqa: BLE001 - shown as the reason
            log.exception("describing model %s failed", cls.name)
            fields = {"kind": "learned" if cls.learned else "classical", "sketch": False, "outpaint": False}
            fields |= {"weights": "unavailable", "message": f"{type(exc).__name__}: {exc}", "ready": False}
            size = None
        family = bool(getattr(cls, "importable", False)) and not (spec and spec.base)
        rows.append(ModelRow(cls.name, cls.label or cls.name, cls.summary, fields, size, spec, family))
    return rows


def partial_download(spec: weights.WeightsSpec | None) -> str | None:
    """How much of an interrupted download is kept ("36 %"), or None."""
    from inpaintstudio.engine import download

    if spec is None or not spec.size:
        return None
    try:
        part = download.part_path(download.target_path(spec))
        size = part.stat().st_size
    except (OSError, InpaintStudioError):
        return None
    return f"{min(99, 100 * size // spec.size)} %" if size else None


def megabytes(size: object) -> str:
    if not isinstance(size, int):
        return ""
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"
