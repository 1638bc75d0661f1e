"""Undo / redo as patches, never whole-image copies.

- :class:`TileEdit`: a brush stroke. The layer is cut into 64 x 64 tiles and only the tiles the stroke
  touched are kept (before and after, zlib-compressed). A long diagonal stroke thus costs a band of
  tiles, not its whole bounding box, and mask tiles (mostly 0 or 255) compress to a few hundred bytes.
- :class:`RectEdit`: one bounding-box patch of a layer (a fill result, a cleared or inverted mask).
- :class:`CanvasEdit`: the canvas grew (borders extended); keeps only the new border strips.
- :class:`ExtentEdit`, :class:`CompositeEdit`: the extent rectangle, and several edits as one step.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from inpaintstudio.geometry import Rect

TILE = 64
_edit_ids = itertools.count(1)


@dataclass(frozen=True)
class Packed:
    """A compressed array patch."""

    data: bytes
    shape: tuple[int, ...]
    dtype: str

    @classmethod
    def of(cls, array: np.ndarray) -> Packed:
        return cls(zlib.compress(np.ascontiguousarray(array).tobytes(), 1), array.shape, array.dtype.str)

    def unpack(self) -> np.ndarray:
        return np.frombuffer(zlib.decompress(self.data), dtype=np.dtype(self.dtype)).reshape(self.shape)

    @property
    def nbytes(self) -> int:
        return len(self.data)


class Layers(Protocol):
    """What an edit needs of the document it undoes and redoes: its layers, its extent, and telling
    observers what changed. :class:`~inpaintstudio.document.document.Document` is one."""

    def layer(self, name: str) -> np.ndarray: ...
    def layers(self) -> dict[str, np.ndarray]: ...
    def replace_layers(self, layers: dict[str, np.ndarray], extent: Rect) -> None: ...
    def set_extent_raw(self, extent: Rect) -> None: ...
    def notify(self, kind: str, rect: Rect | None = None) -> None: ...


class Edit(Protocol):
    label: str
    edit_id: int

    def undo(self, doc: Layers) -> None: ...
    def redo(self, doc: Layers) -> None: ...
    @property
    def nbytes(self) -> int: ...


def tile_rect(ty: int, tx: int, height: int, width: int) -> Rect:
    return Rect.from_edges(tx * TILE, ty * TILE, min(width, (tx + 1) * TILE), min(height, (ty + 1) * TILE))


def tiles_of(rect: Rect) -> itertools.product:
    return itertools.product(
        range(rect.y // TILE, (rect.bottom - 1) // TILE + 1), range(rect.x // TILE, (rect.right - 1) // TILE + 1)
    )


@dataclass
class TileEdit:
    label: str
    layer: str
    before: dict[tuple[int, int], Packed]
    after: dict[tuple[int, int], Packed]
    edit_id: int = field(default_factory=lambda: next(_edit_ids))

    def _write(self, doc: Layers, tiles: dict[tuple[int, int], Packed]) -> None:
        array = doc.layer(self.layer)
        changed = Rect(0, 0, 0, 0)
        for (ty, tx), packed in tiles.items():
            rect = tile_rect(ty, tx, *array.shape[:2])
            array[rect.slices()] = packed.unpack()
            changed = changed.union(rect)
        doc.notify(self.layer, changed)

    def undo(self, doc: Layers) -> None:
        self._write(doc, self.before)

    def redo(self, doc: Layers) -> None:
        self._write(doc, self.after)

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.before.values()) + sum(p.nbytes for p in self.after.values())


class TileRecorder:
    """Collects the 'before' tiles of a layer while a stroke is drawn, then makes its TileEdit."""

    def __init__(self, layer_name: str, array: np.ndarray) -> None:
        self.layer_name = layer_name
        self.array = array
        self.before: dict[tuple[int, int], Packed] = {}

    def touch(self, rect: Rect) -> None:
        h, w = self.array.shape[:2]
        for key in tiles_of(rect):
            if key not in self.before:
                self.before[key] = Packed.of(self.array[tile_rect(*key, h, w).slices()])

    def finish(self, label: str) -> TileEdit | None:
        h, w = self.array.shape[:2]
        before, after = {}, {}
        for key, packed in self.before.items():
            current = self.array[tile_rect(*key, h, w).slices()]
            if not np.array_equal(current, packed.unpack()):  # drop tiles the stroke did not change
                before[key] = packed
                after[key] = Packed.of(current)
        return TileEdit(label, self.layer_name, before, after) if after else None


@dataclass
class RectEdit:
    label: str
    layer: str
    rect: Rect
    before: Packed
    after: Packed
    edit_id: int = field(default_factory=lambda: next(_edit_ids))

    @classmethod
    def capture(
        cls, label: str, layer: str, array: np.ndarray, rect: Rect, change: Callable[[np.ndarray], None]
    ) -> RectEdit:
        """Record the patch around ``change``, which modifies ``array[rect]`` in place."""
        view = array[rect.slices()]
        before = Packed.of(view)
        change(view)
        return cls(label, layer, rect, before, Packed.of(view))

    def undo(self, doc: Layers) -> None:
        doc.layer(self.layer)[self.rect.slices()] = self.before.unpack()
        doc.notify(self.layer, self.rect)

    def redo(self, doc: Layers) -> None:
        doc.layer(self.layer)[self.rect.slices()] = self.after.unpack()
        doc.notify(self.layer, self.rect)

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes


@dataclass
class ExtentEdit:
    label: str
    before: Rect
    after: Rect
    edit_id: int = field(default_factory=lambda: next(_edit_ids))
    nbytes: int = 0

    def undo(self, doc: Layers) -> None:
        doc.set_extent_raw(self.before)

    def redo(self, doc: Layers) -> None:
        doc.set_extent_raw(self.after)


@dataclass
class CanvasEdit:
    """The image grew from ``old_size`` to ``new_size`` with the old image at ``offset``.

    Only the new border strips of each layer are stored (for redo); undo crops them away again.
    """

    label: str
    old_size: tuple[int, int]  # (width, height)
    offset: tuple[int, int]
    strips: dict[str, list[tuple[Rect, Packed]]]
    old_extent: Rect
    edit_id: int = field(default_factory=lambda: next(_edit_ids))

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for strips in self.strips.values() for _, p in strips)

    def inner(self) -> Rect:
        return Rect(self.offset[0], self.offset[1], *self.old_size)

    def undo(self, doc: Layers) -> None:
        doc.replace_layers(
            {name: arr[self.inner().slices()].copy() for name, arr in doc.layers().items()}, self.old_extent
        )

    def redo(self, doc: Layers) -> None:
        first = next(iter(self.strips.values()))
        width = max(r.right for r, _ in first)
        height = max(r.bottom for r, _ in first)
        layers = {}
        for name, arr in doc.layers().items():
            grown = np.zeros((height, width, *arr.shape[2:]), arr.dtype)
            grown[self.inner().slices()] = arr
            for rect, packed in self.strips[name]:
                grown[rect.slices()] = packed.unpack()
            layers[name] = grown
        doc.replace_layers(layers, Rect(0, 0, width, height))

    @staticmethod
    def strips_of(array: np.ndarray, inner: Rect) -> list[tuple[Rect, Packed]]:
        h, w = array.shape[:2]
        rects = [
            Rect.from_edges(0, 0, w, inner.y),
            Rect.from_edges(0, inner.bottom, w, h),
            Rect.from_edges(0, inner.y, inner.x, inner.bottom),
            Rect.from_edges(inner.right, inner.y, w, inner.bottom),
        ]
        return [(r, Packed.of(array[r.slices()])) for r in rects if not r.is_empty()]


@dataclass
class CompositeEdit:
    label: str
    edits: list
    edit_id: int = field(default_factory=lambda: next(_edit_ids))

    def undo(self, doc: Layers) -> None:
        for edit in reversed(self.edits):
            edit.undo(doc)

    def redo(self, doc: Layers) -> None:
        for edit in self.edits:
            edit.redo(doc)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.edits)


class History:
    """A linear undo stack with a position; a new edit after undos discards the redo branch.

    Oldest steps are forgotten when the stack exceeds ``max_bytes`` or ``max_steps``.
    """

    def __init__(self, max_bytes: int = 1_500_000_000, max_steps: int = 1000) -> None:
        self.max_bytes = max_bytes
        self.max_steps = max_steps
        self.edits: list = []
        self.position = 0  # number of applied edits

    def push(self, edit: Edit) -> None:
        del self.edits[self.position :]
        self.edits.append(edit)
        self.position = len(self.edits)
        while len(self.edits) > 1 and (len(self.edits) > self.max_steps or self.nbytes > self.max_bytes):
            self.edits.pop(0)
            self.position -= 1

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.edits)

    def can_undo(self) -> bool:
        return self.position > 0

    def can_redo(self) -> bool:
        return self.position < len(self.edits)

    def current_id(self) -> int:
        """Identifies the document state; compared with the id recorded at save time."""
        return self.edits[self.position - 1].edit_id if self.position else 0

    def labels(self) -> list[str]:
        return [e.label for e in self.edits]
