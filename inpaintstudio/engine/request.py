"""Frozen fill requests and results: the only things that cross from the app to the worker and back.

A request is a snapshot: it copies the image, mask, sketch and sampling exclusion and marks the copies
read-only, so the user can keep painting while a fill runs without the worker ever seeing a half-painted
stroke.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from inpaintstudio.geometry import Rect

STRATEGIES = ("crop", "resize")


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    """A read-only private copy; an array that already is one (read-only, owning its memory, of the right
    type) is taken as it is, so a caller that made its own snapshot does not pay for a second copy."""
    if array.dtype == dtype and array.base is None and not array.flags.writeable and array.flags.c_contiguous:
        return array
    out = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def _as_bool(array: np.ndarray) -> np.ndarray:
    if array.dtype == bool:
        return array
    fresh = array != 0  # a new array nobody else holds: freezing it is enough
    fresh.flags.writeable = False
    return fresh


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
    detail: bool = True  # learned models: add the photo's own full-resolution detail (engine/detail.py)
    blend: bool = True  # learned models: meet the photo at the hole's edge without a step (engine/blend.py)
    # H x W bool, True = never copy from here (the sampling exclusion), or None. Only known pixels matter:
    # excluded hole pixels are filled like any other.
    exclude: np.ndarray | None = None
    # The side crops are scaled to before the model sees them; None = the model's own (its weights', else
    # its declared one: Capabilities.working_size). ``inpaintstudio eval --working-size`` tries others.
    working_size: int | None = None

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be H x W x 3 uint8, got {image.shape} {image.dtype}")
        mask = np.asarray(self.mask)
        if mask.shape != image.shape[:2]:
            raise ValueError(f"mask is {mask.shape[1]}x{mask.shape[0]}, image is {image.shape[1]}x{image.shape[0]}")
        object.__setattr__(self, "image", _frozen(image, np.uint8))
        object.__setattr__(self, "mask", _frozen(_as_bool(mask), bool))
        if self.sketch is not None:
            sketch = np.asarray(self.sketch)
            if sketch.shape != image.shape[:2]:
                raise ValueError("sketch and image differ in size")
            object.__setattr__(self, "sketch", _frozen(_as_bool(sketch), bool))
        if self.exclude is not None:
            exclude = np.asarray(self.exclude)
            if exclude.shape != image.shape[:2]:
                raise ValueError("the sampling exclusion and the image differ in size")
            object.__setattr__(self, "exclude", _frozen(_as_bool(exclude), bool))
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        if self.working_size is not None and self.working_size < 1:
            raise ValueError(f"working_size must be a positive number of pixels, got {self.working_size}")

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
class Patch:
    """One filled rectangle of a result: the rectangle's pixels with its hole pixels replaced."""

    rect: Rect  # in result (canvas) coordinates
    pixels: np.ndarray  # rect.h x rect.w x 3 uint8
    hole: np.ndarray  # rect.h x rect.w bool: the pixels whose values came from the model

    def cropped(self, rect: Rect) -> Patch:
        """The part of this patch inside ``rect`` (result coordinates); may be empty."""
        part = self.rect.intersect(rect)
        local = part.translated(-self.rect.x, -self.rect.y).slices() if not part.is_empty() else (slice(0, 0),) * 2
        return Patch(part, self.pixels[local], self.hole[local])


@dataclass(frozen=True)
class FillResult:
    """What a fill produced, kept as patches over the unchanged input.

    A fill changes only the pixels around its holes, so the result holds the input canvas (shared,
    read-only, never copied) and one patch per filled region. Whoever needs the whole picture (saving,
    the compare view, the tests) asks for :attr:`image`, composed once on first use; the document applies
    the patches alone, so the cost of a fill follows the holes and not the photo.
    """

    base: np.ndarray  # canvas-sized H' x W' x 3 uint8: the input (the grown canvas when extending)
    patches: tuple[Patch, ...]
    offset: tuple[int, int]  # (x, y) of the original image's top-left corner inside the result
    source_size: tuple[int, int]  # (width, height) of the image the request was made from
    model: str
    device: str
    seconds: float
    notices: tuple[str, ...] = field(default=())

    @classmethod
    def whole(
        cls, image: np.ndarray, filled: np.ndarray, offset: tuple[int, int], source_size: tuple[int, int], model: str
    ) -> FillResult:
        """A result given as a whole picture and the mask of its filled pixels (one patch over all of it)."""
        image = np.asarray(image)
        rect = Rect.of_array(image)
        return cls(image, (Patch(rect, image, np.asarray(filled, bool)),), offset, source_size, model, "cpu", 0.0)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the result: the canvas, larger than the source when extending."""
        return int(self.base.shape[1]), int(self.base.shape[0])

    @property
    def changed(self) -> bool:
        return any(patch.hole.any() for patch in self.patches)

    @cached_property
    def image(self) -> np.ndarray:
        """The whole result picture (composed on first use; read-only)."""
        out = np.array(self.base, copy=True)
        for patch in self.patches:
            np.copyto(out[patch.rect.slices()], patch.pixels, where=patch.hole[..., None])
        out.flags.writeable = False
        return out

    @cached_property
    def filled(self) -> np.ndarray:
        """H' x W' bool: every pixel whose value came from the model (composed on first use; read-only)."""
        out = np.zeros(self.base.shape[:2], bool)
        for patch in self.patches:
            out[patch.rect.slices()] |= patch.hole
        out.flags.writeable = False
        return out
