"""Integer rectangles in image coordinates, shared by the document and the engine.

A rectangle is half-open: it covers columns ``x .. x + w - 1`` and rows ``y .. y + h - 1``.
The document's extent (the outpainting canvas) is such a rectangle and its ``x`` / ``y`` may be
negative when the user has pulled the left or top border outwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @classmethod
    def from_edges(cls, left: int, top: int, right: int, bottom: int) -> Rect:
        return cls(int(left), int(top), max(0, int(right) - int(left)), max(0, int(bottom) - int(top)))

    @classmethod
    def of_array(cls, array: np.ndarray) -> Rect:
        return cls(0, 0, int(array.shape[1]), int(array.shape[0]))

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return self.w * self.h

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def intersect(self, other: Rect) -> Rect:
        return Rect.from_edges(
            max(self.x, other.x), max(self.y, other.y), min(self.right, other.right), min(self.bottom, other.bottom)
        )

    def union(self, other: Rect) -> Rect:
        if self.is_empty():
            return other
        if other.is_empty():
            return self
        return Rect.from_edges(
            min(self.x, other.x), min(self.y, other.y), max(self.right, other.right), max(self.bottom, other.bottom)
        )

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    def expanded(self, margin: int) -> Rect:
        return Rect(self.x - margin, self.y - margin, self.w + 2 * margin, self.h + 2 * margin)

    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def transposed(self) -> Rect:
        """The same rectangle in a transposed picture (rows and columns swapped)."""
        return Rect(self.y, self.x, self.h, self.w)

    def slices(self) -> tuple[slice, slice]:
        """Row and column slices, for indexing a numpy array (the rectangle must lie inside it)."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    def padding_around(self, inner: Rect) -> tuple[int, int, int, int]:
        """How far this rectangle reaches past ``inner`` on each side: (left, top, right, bottom), >= 0."""
        return (
            max(0, inner.x - self.x),
            max(0, inner.y - self.y),
            max(0, self.right - inner.right),
            max(0, self.bottom - inner.bottom),
        )


def mask_bbox(mask: np.ndarray) -> Rect:
    """Bounding box of the non-zero pixels of a 2-D array; an empty Rect when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return Rect(0, 0, 0, 0)
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return Rect.from_edges(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
