"""The :class:`Inpainter` base class: one subclass per fill method, capabilities declared on the class.

An inpainter receives an image already prepared by the pipeline (cropped around a hole, scaled to its
working size, padded to its ``pad_multiple``) and returns a filled image of the same size; the pipeline
pastes back only hole pixels. So a subclass only implements the method itself, never the bookkeeping.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

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


class Inpainter(ABC):
    # -- declared by every subclass -----------------------------------------------------------------
    name: ClassVar[str]
    label: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    learned: ClassVar[bool] = False
    # Side length the method works best at; larger crops are scaled down to it. None: any size.
    native_size: ClassVar[int | None] = None
    # Height and width of the network input must be multiples of this.
    pad_multiple: ClassVar[int] = 1
    # Smallest side the method accepts (after padding); smaller crops are scaled up.
    min_size: ClassVar[int] = 1
    # Context kept around a hole, as a multiple of the hole's size (engine/processing.plan_regions).
    context: ClassVar[float] = 0.5
    supports_sketch: ClassVar[bool] = False
    supports_outpaint: ClassVar[bool] = False
    # Can be told not to copy from some known pixels (the sampling exclusion): its ``inpaint`` then takes
    # an ``exclude`` keyword (H x W bool, True = do not copy from here, never set on hole pixels).
    supports_exclude: ClassVar[bool] = False

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    # -- availability ------------------------------------------------------------------------------
    @classmethod
    def status(cls) -> ModelStatus:
        """Cheap check whether the model can run (weights present and intact, library loadable)."""
        return ModelStatus(True, "no weights needed")

    @classmethod
    def working_size(cls) -> int | None:
        """The side crops are scaled to before filling (the native size, unless the weights say otherwise)."""
        return cls.native_size

    @classmethod
    def capabilities(cls) -> dict[str, object]:
        return {
            "name": cls.name,
            "learned": cls.learned,
            "native_size": cls.working_size(),
            "pad_multiple": cls.pad_multiple,
            "sketch": cls.supports_sketch,
            "outpaint": cls.supports_outpaint,
            "exclude": cls.supports_exclude,
        }

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
