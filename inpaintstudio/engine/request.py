"""Frozen fill requests and results: the only things that cross from the app to the worker and back.

A request is a snapshot: it copies the image, mask and sketch and marks the copies read-only, so the
user can keep painting while a fill runs without the worker ever seeing a half-painted stroke.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inpaintstudio.geometry import Rect

STRATEGIES = ("crop", "resize")


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    out = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class FillRequest:
    image: np.ndarray  # H x W x 3 uint8 RGB
    mask: np.ndarray  # H x W bool, True = hole
    model: str
    sketch: np.ndarray | None = None  # H x W bool edge strokes, or None
    extent: Rect | None = None  # the canvas in image coordinates; None = the image itself
    device: str = "auto"
    strategy: str = "crop"  # "crop": work around each hole; "resize": scale the whole canvas
    margin: int | None = None  # context margin around a hole in pixels; None = chosen from the hole size

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be H x W x 3 uint8, got {image.shape} {image.dtype}")
        mask = np.asarray(self.mask)
        if mask.shape != image.shape[:2]:
            raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {image.shape[1]}x{image.shape[0]}")
        object.__setattr__(self, "image", _frozen(image, np.uint8))
        object.__setattr__(self, "mask", _frozen(mask != 0, bool))
        if self.sketch is not None:
            sketch = np.asarray(self.sketch)
            if sketch.shape != image.shape[:2]:
                raise ValueError("sketch and image differ in size")
            object.__setattr__(self, "sketch", _frozen(sketch != 0, bool))
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")

    @property
    def image_rect(self) -> Rect:
        return Rect.of_array(self.image)

    @property
    def canvas(self) -> Rect:
        return self.extent if self.extent is not None else self.image_rect

    @property
    def extends(self) -> bool:
        return self.canvas != self.image_rect


@dataclass(frozen=True)
class FillResult:
    image: np.ndarray  # canvas-sized H' x W' x 3 uint8 RGB
    filled: np.ndarray  # H' x W' bool: the pixels whose values came from the model
    offset: tuple[int, int]  # (x, y) of the original image's top-left corner inside the result
    source_size: tuple[int, int]  # (width, height) of the image the request was made from
    model: str
    device: str
    seconds: float
    notices: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.filled.any())
