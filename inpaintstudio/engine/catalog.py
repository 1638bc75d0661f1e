"""What there is to know about each registered model, in one dictionary (CLI listing, model manager)."""

from __future__ import annotations

from inpaintstudio.engine import weights
from inpaintstudio.errors import WeightsError


def spec_of(cls: type) -> weights.WeightsSpec | None:
    """The manifest entry of a learned model (also when its file is damaged), or None."""
    if not cls.learned:
        return None
    try:
        return cls.weights_spec()
    except WeightsError:  # the manifest itself is unreadable; the status says so
        return None


def model_info(cls: type) -> dict[str, object]:
    """Capabilities, readiness and weights facts of a model class, as plain JSON-able values."""
    status = cls.status()
    caps = cls.capabilities()  # a variant's capabilities can depend on its weights (5-channel DeepFill)
    spec = spec_of(cls)
    return {
        "name": cls.name,
        "kind": "learned" if cls.learned else "classical",
        "sketch": caps.sketch,
        "outpaint": caps.outpaint,
        "exclude": caps.exclude,
        "native_size": caps.working_size,
        "ready": status.ready,
        "weights": status.state,
        "message": status.message,  # what is wrong; "remedy" says what to do about it, unworded
        "remedy": status.remedy.to_json() if status.remedy else None,
        "licence": spec.licence if spec else "",
        "origin": spec.origin if spec else "",
        "weights_file": spec.file if spec else "",
        "weights_size": spec.size if spec else None,
        "sha256": spec.sha256 if spec else "",
        "url": spec.url if spec else "",
    }
