"""The :class:`Inpainter` base class: one subclass per fill method, its :class:`Capabilities` declared once.

An inpainter receives an image already prepared by the pipeline (cropped around a hole, scaled to its
working size, padded to its ``pad_multiple``) and returns a filled image of the same size; the pipeline
pastes back only hole pixels. So a subclass only implements the method itself, never the bookkeeping.

What a model can do and how it wants its input is one frozen :class:`Capabilities` object, declared as
the class attribute ``caps``. :meth:`Inpainter.capabilities` is what everyone else reads: the declared
object with what the installed weights add (their working size, an unguided import's lack of sketch
support, the recorded validation scores), so the model panel, the model manager, ``auto`` and
``inpaintstudio models`` cannot disagree.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from inpaintstudio.engine import selection
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.detail import AttentionMap
from inpaintstudio.errors import Remedy


@dataclass(frozen=True)
class ModelStatus:
    """Whether a model can run here, and if not, why (shown in `inpaintstudio models` and the app)."""

    ready: bool
    state: str  # "ready", "no weights needed", "missing", "damaged", "unavailable"
    message: str = ""  # what is wrong, in words for anyone
    remedy: Remedy | None = None  # what to do about it (each front end words it its own way)


# The names these facts had as separate class attributes; a subclass declaring one is refused, so that
# ``caps`` stays the only place they are said.
_LEGACY = {
    "supports_sketch": "sketch",
    "supports_outpaint": "outpaint",
    "supports_exclude": "exclude",
    "native_size": "working_size",
    "pad_multiple": "pad_multiple",
    "min_size": "min_size",
    "context": "context",
}


@dataclass(frozen=True)
class Capabilities:
    """What a model can do and how it wants its input (one per inpainter class, see the module doc)."""

    sketch: bool = False  # follows sketch strokes
    outpaint: bool = False  # can extend borders (fill a band around the picture)
    # Can be told not to copy from some known pixels (the sampling exclusion): its ``inpaint`` then takes
    # an ``exclude`` keyword (H x W bool, True = do not copy from here, never set on hole pixels).
    exclude: bool = False
    # Side the method works best at; larger crops are scaled down to it. None: any size. A request may
    # ask for another (FillRequest.working_size).
    working_size: int | None = None
    pad_multiple: int = 1  # height and width of the network input must be multiples of this
    min_size: int = 1  # smallest side the method accepts (after padding); smaller crops are scaled up
    # Context kept around a hole, as a multiple of the hole's size (engine/processing.plan_regions).
    context: float = 0.5
    # Recorded validation scores {job: {"psnr", "l1", "detail", "images"}} (engine/selection.py); filled
    # in by :meth:`Inpainter.capabilities`, never declared. Empty: never measured.
    scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict, hash=False)


class Inpainter(ABC):
    # -- declared by every subclass -----------------------------------------------------------------
    name: ClassVar[str]
    label: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    learned: ClassVar[bool] = False
    caps: ClassVar[Capabilities] = Capabilities()
    # A learned family's network configuration for new weights (what training starts from); None for
    # methods without a network. An imported variant inherits its family's but is not trained.
    default_config: ClassVar[Mapping[str, Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for old, new in _LEGACY.items():
            if old in vars(cls):
                raise TypeError(f"{cls.__qualname__} declares '{old}'; declare caps = Capabilities({new}=...)")

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    # -- availability ------------------------------------------------------------------------------
    @classmethod
    def status(cls) -> ModelStatus:
        """Cheap check whether the model can run (weights present and intact, library loadable)."""
        return ModelStatus(True, "no weights needed")

    @classmethod
    def capabilities(cls) -> Capabilities:
        """The declared :attr:`caps` with what is recorded about this model: a classical fill's validation
        scores (``models/scores.json``). Learned models add their weights' facts (engine/learned.py)."""
        recorded = selection.classical_scores()
        return replace(cls.caps, scores={job: by[cls.name] for job, by in recorded.items() if cls.name in by})

    @classmethod
    def trainable(cls) -> bool:
        """A learned family with its own default configuration, so it can be trained from scratch (an
        imported variant inherits its family's and is not)."""
        return cls.learned and "default_config" in vars(cls)

    # -- life cycle --------------------------------------------------------------------------------
    def load(self, ctx: JobContext | None = None) -> None:
        """Prepare for filling (build the network, read weights). Called once; the instance is cached."""
        return None  # classical methods need no preparation

    def unload(self) -> None:
        """Release memory held by the model (network, GPU buffers)."""
        return None

    # -- the method --------------------------------------------------------------------------------
    @abstractmethod
    def inpaint(self, image: np.ndarray, mask: np.ndarray, sketch: np.ndarray | None, ctx: JobContext) -> np.ndarray:
        """Fill the hole.

        image: H x W x 3 uint8 RGB; mask: H x W bool (True = hole); sketch: H x W bool edge strokes or
        None (only passed to models that support sketches). H and W are multiples of ``pad_multiple``.
        Returns H x W x 3 uint8 RGB; only the hole pixels of it are used.
        """

    def inpaint_with_attention(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        sketch: np.ndarray | None,
        ctx: JobContext,
        exclude: np.ndarray | None = None,
    ) -> tuple[np.ndarray, AttentionMap | None]:
        """:meth:`inpaint`, plus where the model drew each hole cell from (for detail transfer), if it can say."""
        if exclude is None:  # inpainters without an exclusion do not take the keyword
            return self.inpaint(image, mask, sketch, ctx), None
        return self.inpaint(image, mask, sketch, ctx, exclude=exclude), None
