"""Classical fills: fast, need no weights, always available as fallbacks and as baselines.

- ``telea``: Telea's fast marching method (OpenCV); smooth, good for thin scratches and small holes.
- ``navier-stokes``: Bertalmio et al.'s fluid-dynamics inpainting (OpenCV); continues isophotes.
- ``patchmatch``: Barnes et al.'s PatchMatch (pypatchmatch); copies texture, can fill a border band.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from inpaintstudio.engine.base import Inpainter, ModelStatus
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.registry import register
from inpaintstudio.errors import ModelUnavailableError


class _OpenCVInpainter(Inpainter):
    flag: ClassVar[int]
    radius: ClassVar[int] = 5  # neighbourhood considered per pixel; 3-7 is the usual range

    def inpaint(self, image: np.ndarray, mask: np.ndarray, sketch: np.ndarray | None, ctx: JobContext) -> np.ndarray:
        ctx.progress(0.0, f"{self.name}: diffusing into the hole")
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        out = cv2.inpaint(bgr, mask.astype(np.uint8) * 255, self.radius, self.flag)
        return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


@register
class TeleaInpainter(_OpenCVInpainter):
    name = "telea"
    label = "Telea (OpenCV)"
    summary = "Fast marching diffusion; quick, smooth, best for small holes and scratches"
    flag = cv2.INPAINT_TELEA


@register
class NavierStokesInpainter(_OpenCVInpainter):
    name = "navier-stokes"
    label = "Navier-Stokes (OpenCV)"
    summary = "Fluid-dynamics diffusion that continues edges into the hole; small holes"
    flag = cv2.INPAINT_NS


@register
class PatchMatchInpainter(Inpainter):
    name = "patchmatch"
    label = "PatchMatch"
    summary = "Copies texture patches from the rest of the image; also extends borders"
    supports_outpaint = True
    # PatchMatch's cost grows with the hole and the source area; above this side the crop is filled at
    # this size and scaled up, which keeps a 24-megapixel border extension to seconds.
    native_size = 2048
    patch_size: ClassVar[int] = 3  # radius: 7 x 7 patches, the library's recommended setting
    seed: ClassVar[int] = 0  # fixed, so the same input gives the same fill

    @classmethod
    def status(cls) -> ModelStatus:
        try:
            import patchmatch
        except ImportError:
            return ModelStatus(False, "unavailable", "the pypatchmatch package is not installed")
        if not patchmatch.patchmatch_available:
            return ModelStatus(False, "unavailable", "pypatchmatch's native library could not be loaded")
        return ModelStatus(True, "no weights needed")

    def inpaint(self, image: np.ndarray, mask: np.ndarray, sketch: np.ndarray | None, ctx: JobContext) -> np.ndarray:
        try:
            import patchmatch
        except ImportError as exc:
            raise ModelUnavailableError("the pypatchmatch package is not installed") from exc
        ctx.progress(0.0, "patchmatch: searching patches")
        if mask.all():
            # Nothing to copy from: PatchMatch needs known pixels.
            raise ModelUnavailableError("patchmatch needs some known pixels around the hole")
        patchmatch.set_random_seed(self.seed)
        return patchmatch.inpaint(np.ascontiguousarray(image), mask.astype(np.uint8) * 255, patch_size=self.patch_size)
