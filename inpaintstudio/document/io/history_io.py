"""The undo history in a project file: a JSON index plus one binary file of patches, never pickle.

``history/index.json`` describes each step (its kind, label, layer, rectangles, tile keys, shapes and
dtypes); every compressed patch (:class:`~inpaintstudio.document.history.Packed`) is stored as-is, once
(identical patches, such as one stroke's "after" tile and the next stroke's "before", are shared), in
``history/blobs.bin`` and referenced by ``[offset, length, shape, dtype]``.

Only a window of steps around the current position is kept: at most :data:`MAX_STEPS` steps and
:data:`MAX_BYTES` of patches, undo steps first, then redo steps. Reading validates everything before a
single edit is built: kinds, layer names, dtypes, shapes, rectangles against the layer sizes at that
point of the history (canvas growth included), and every patch's decompressed size (a zlib bomb is
refused). A damaged history is an :class:`~inpaintstudio.errors.ImageLoadError`.

Layers in :data:`OPTIONAL_LAYERS` (the sampling exclusion, added in project format 2) may be missing from
a canvas step's strips: files written before the layer existed have none, and since new border area is
always empty in them, their all-zero strips are not written at all. Reading puts zero strips back.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from inpaintstudio.document.history import (
    TILE,
    CanvasEdit,
    CompositeEdit,
    ExtentEdit,
    History,
    Packed,
    RectEdit,
    TileEdit,
    tile_rect,
)
from inpaintstudio.document.io.imageio import megapixels
from inpaintstudio.errors import ImageLoadError
from inpaintstudio.geometry import Rect

FORMAT = 1
INDEX_NAME = "history/index.json"
BLOBS_NAME = "history/blobs.bin"
MAX_STEPS = 50
MAX_BYTES = 200_000_000
MAX_DEPTH = 4  # composite edits inside composite edits
MAX_NODES = 100_000  # edits and patches described by one index
_COORD_LIMIT = 1 << 31
_INFLATE_PIECE = 1 << 20  # bytes of a patch inflated at a time while checking it
OPTIONAL_LAYERS = ("exclude",)


class _Damaged(Exception):  # noqa: N818 - internal, turned into ImageLoadError
    pass


@dataclass(frozen=True)
class LayerSpec:
    """What a layer's patches must look like: dtype and the dimensions after height and width."""

    dtype: np.dtype
    trailing: tuple[int, ...] = ()


# -- writing -------------------------------------------------------------------------------------------


def _encodable(edit: object, depth: int = 0) -> bool:
    if isinstance(edit, CompositeEdit):
        return depth < MAX_DEPTH and all(_encodable(e, depth + 1) for e in edit.edits)
    return isinstance(edit, TileEdit | RectEdit | ExtentEdit | CanvasEdit)


def _edits_of(edit: object) -> list:
    return [e for child in edit.edits for e in _edits_of(child)] if isinstance(edit, CompositeEdit) else [edit]


def touches_layer(history: History, layer: str, max_steps: int = MAX_STEPS, max_bytes: int = MAX_BYTES) -> bool:
    """Whether a stored step (of the window) paints ``layer``: a file holding one needs that layer."""
    start, end = window(history, max_steps, max_bytes)
    return any(getattr(leaf, "layer", None) == layer for edit in history.edits[start:end] for leaf in _edits_of(edit))


def _empty(strips: list[tuple[Rect, Packed]]) -> bool:
    return not any(packed.unpack().any() for _, packed in strips)


def window(history: History, max_steps: int = MAX_STEPS, max_bytes: int = MAX_BYTES) -> tuple[int, int]:
    """The stored steps ``edits[start:end]``: undo steps back from the position first, then redo steps."""
    edits, position = history.edits, history.position
    start, total = position, 0
    while start > 0 and position - start < max_steps:
        edit = edits[start - 1]
        if not _encodable(edit) or total + edit.nbytes > max_bytes:
            break
        total += edit.nbytes
        start -= 1
    end = position
    while end < len(edits) and end - start < max_steps:
        edit = edits[end]
        if not _encodable(edit) or total + edit.nbytes > max_bytes:
            break
        total += edit.nbytes
        end += 1
    return start, end


class _BlobWriter:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self._seen: dict[bytes, int] = {}

    def add(self, packed: Packed) -> list:
        offset = self._seen.get(packed.data)
        if offset is None:
            offset = self._seen[packed.data] = self.size
            self.chunks.append(packed.data)
            self.size += len(packed.data)
        return [offset, len(packed.data), list(packed.shape), packed.dtype]


def _rect(rect: Rect) -> list[int]:
    return [rect.x, rect.y, rect.w, rect.h]


def _encode(edit: object, blobs: _BlobWriter) -> dict[str, Any]:
    if isinstance(edit, TileEdit):
        return {
            "kind": "tile",
            "label": edit.label,
            "layer": edit.layer,
            "before": [[ty, tx, blobs.add(p)] for (ty, tx), p in edit.before.items()],
            "after": [[ty, tx, blobs.add(p)] for (ty, tx), p in edit.after.items()],
        }
    if isinstance(edit, RectEdit):
        return {
            "kind": "rect",
            "label": edit.label,
            "layer": edit.layer,
            "rect": _rect(edit.rect),
            "before": blobs.add(edit.before),
            "after": blobs.add(edit.after),
        }
    if isinstance(edit, ExtentEdit):
        return {"kind": "extent", "label": edit.label, "before": _rect(edit.before), "after": _rect(edit.after)}
    if isinstance(edit, CanvasEdit):
        return {
            "kind": "canvas",
            "label": edit.label,
            "old_size": list(edit.old_size),
            "offset": list(edit.offset),
            "old_extent": _rect(edit.old_extent),
            "strips": {
                name: [[_rect(r), blobs.add(p)] for r, p in strips]
                for name, strips in edit.strips.items()
                if name not in OPTIONAL_LAYERS or not _empty(strips)
            },
        }
    if isinstance(edit, CompositeEdit):
        return {"kind": "composite", "label": edit.label, "edits": [_encode(e, blobs) for e in edit.edits]}
    raise TypeError(f"cannot store a history step of type {type(edit).__name__}")


def serialise(
    history: History, saved_position: int | None, *, max_steps: int = MAX_STEPS, max_bytes: int = MAX_BYTES
) -> tuple[bytes, list[bytes]]:
    """(index JSON, blob chunks to be written one after the other) for the window of ``history``."""
    start, end = window(history, max_steps, max_bytes)
    blobs = _BlobWriter()
    steps = [_encode(edit, blobs) for edit in history.edits[start:end]]
    saved = saved_position - start if saved_position is not None and start <= saved_position <= end else None
    index = {
        "format": FORMAT,
        "position": history.position - start,
        "saved_position": saved,
        "dropped": start + (len(history.edits) - end),
        "blob_bytes": blobs.size,
        "edits": steps,
    }
    return json.dumps(index, separators=(",", ":")).encode("utf-8"), blobs.chunks


# -- reading -------------------------------------------------------------------------------------------


@dataclass
class RestoredHistory:
    edits: list
    position: int
    saved_position: int | None


class _Reader:
    """Parses the index into edits (pass 1), then checks them against the layer sizes (pass 2)."""

    def __init__(self, blobs: bytes, layers: dict[str, LayerSpec], max_pixels: int | None = None) -> None:
        self.blobs = blobs
        self.layers = layers
        self.max_pixels = max_pixels
        self.nodes = 0
        self._checked: set[tuple[int, int, int]] = set()

    # pass 1: structure ------------------------------------------------------------------------------
    def count(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Damaged(f"more than {MAX_NODES} entries")

    @staticmethod
    def integer(value: Any, what: str, low: int = -_COORD_LIMIT, high: int = _COORD_LIMIT) -> int:
        if type(value) is not int or not low <= value <= high:
            raise _Damaged(f"{what} is not a valid integer: {value!r}")
        return value

    def rect(self, value: Any, what: str) -> Rect:
        if not isinstance(value, list) or len(value) != 4:
            raise _Damaged(f"{what} is not a rectangle")
        x, y = (self.integer(v, what) for v in value[:2])
        w, h = (self.integer(v, what, 0) for v in value[2:])
        return Rect(x, y, w, h)

    def pair(self, value: Any, what: str, low: int) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            raise _Damaged(f"{what} is not a pair of integers")
        return self.integer(value[0], what, low), self.integer(value[1], what, low)

    @staticmethod
    def text(value: Any, what: str) -> str:
        if not isinstance(value, str) or len(value) > 1000:
            raise _Damaged(f"{what} is not a short text")
        return value

    def layer(self, value: Any) -> str:
        if value not in self.layers:
            raise _Damaged(f"unknown layer {value!r}")
        return value

    def packed(self, value: Any, layer: str) -> Packed:
        self.count()
        if not isinstance(value, list) or len(value) != 4:
            raise _Damaged("a patch reference is malformed")
        offset = self.integer(value[0], "a patch offset", 0)
        length = self.integer(value[1], "a patch length", 1)
        if offset + length > len(self.blobs):
            raise _Damaged("a patch lies outside the patch file (it is truncated)")
        shape, dtype = value[2], value[3]
        if not isinstance(shape, list) or not all(type(v) is int and 0 <= v < _COORD_LIMIT for v in shape):
            raise _Damaged("a patch shape is malformed")
        spec = self.layers[layer]
        if dtype != spec.dtype.str:
            raise _Damaged(f"a patch of the {layer} has dtype {dtype!r}, expected {spec.dtype.str!r}")
        if len(shape) != 2 + len(spec.trailing) or tuple(shape[2:]) != spec.trailing:
            raise _Damaged(f"a patch of the {layer} has shape {shape}")
        return Packed(self.blobs[offset : offset + length], tuple(shape), dtype)

    def tiles(self, value: Any, layer: str) -> dict[tuple[int, int], Packed]:
        if not isinstance(value, list):
            raise _Damaged("a stroke's tiles are malformed")
        out: dict[tuple[int, int], Packed] = {}
        for item in value:
            if not isinstance(item, list) or len(item) != 3:
                raise _Damaged("a stroke tile is malformed")
            key = (self.integer(item[0], "a tile row", 0), self.integer(item[1], "a tile column", 0))
            out[key] = self.packed(item[2], layer)
        return out

    def edit(self, value: Any, depth: int = 0) -> object:
        self.count()
        if not isinstance(value, dict):
            raise _Damaged("a step is not an object")
        kind, label = value.get("kind"), self.text(value.get("label"), "a step label")
        if kind == "tile":
            layer = self.layer(value.get("layer"))
            before, after = self.tiles(value.get("before"), layer), self.tiles(value.get("after"), layer)
            if before.keys() != after.keys() or not before:
                raise _Damaged("a stroke's before and after tiles differ")
            return TileEdit(label, layer, before, after)
        if kind == "rect":
            layer = self.layer(value.get("layer"))
            rect = self.rect(value.get("rect"), "a patch rectangle")
            return RectEdit(
                label, layer, rect, self.packed(value.get("before"), layer), self.packed(value.get("after"), layer)
            )
        if kind == "extent":
            return ExtentEdit(
                label, self.rect(value.get("before"), "an extent"), self.rect(value.get("after"), "an extent")
            )
        if kind == "canvas":
            strips = value.get("strips")
            required = set(self.layers) - set(OPTIONAL_LAYERS)
            if not isinstance(strips, dict) or not required <= set(strips) <= set(self.layers):
                raise _Damaged("a canvas step does not hold strips of exactly the document's layers")
            parsed: dict[str, list[tuple[Rect, Packed]]] = {}
            for name in self.layers:  # the document's layer order, as CanvasEdit.redo expects
                if name not in strips:
                    continue  # an optional layer: empty strips are filled in below
                items = strips[name]
                if not isinstance(items, list) or not items:
                    raise _Damaged("a canvas step has no strips")
                parsed[name] = []
                for item in items:
                    if not isinstance(item, list) or len(item) != 2:
                        raise _Damaged("a canvas strip is malformed")
                    parsed[name].append((self.rect(item[0], "a strip rectangle"), self.packed(item[1], name)))
            return CanvasEdit(
                label,
                self.pair(value.get("old_size"), "a canvas size", 1),
                self.pair(value.get("offset"), "a canvas offset", 0),
                parsed,
                self.rect(value.get("old_extent"), "an extent"),
            )
        if kind == "composite":
            children = value.get("edits")
            if depth >= MAX_DEPTH or not isinstance(children, list):
                raise _Damaged("a combined step is malformed or nested too deeply")
            return CompositeEdit(label, [self.edit(c, depth + 1) for c in children])
        raise _Damaged(f"unknown kind of step {kind!r}")

    # pass 2: geometry -------------------------------------------------------------------------------
    @staticmethod
    def grown_size(edit: CanvasEdit) -> tuple[int, int]:
        first = next(iter(edit.strips.values()))
        return max(r.right for r, _ in first), max(r.bottom for r, _ in first)

    def size_before(self, edit: object, size: tuple[int, int]) -> tuple[int, int]:
        """The layer size before ``edit`` given the size after it (walking the undo steps backwards)."""
        if isinstance(edit, CanvasEdit):
            if self.grown_size(edit) != size:
                raise _Damaged("a canvas step does not match the size of the layers")
            return edit.old_size
        if isinstance(edit, CompositeEdit):
            for child in reversed(edit.edits):
                size = self.size_before(child, size)
        return size

    def check_patch(self, packed: Packed, rect: Rect, size: tuple[int, int]) -> None:
        if rect.is_empty() or not Rect(0, 0, *size).contains(rect) or packed.shape[:2] != (rect.h, rect.w):
            raise _Damaged(f"a patch {packed.shape[:2]} does not fit its place {rect} in a {size[0]}x{size[1]} layer")
        expected = math.prod(packed.shape) * np.dtype(packed.dtype).itemsize  # Python ints: never overflows
        key = (len(packed.data), hash(packed.data), expected)  # shared patches are inflated once
        if key in self._checked:
            return
        # Inflated a piece at a time and counted, never held: memory stays small whatever the data says.
        inflater, pending, inflated = zlib.decompressobj(), packed.data, 0
        try:
            while not inflater.eof:
                piece = inflater.decompress(pending, _INFLATE_PIECE)
                pending = inflater.unconsumed_tail
                inflated += len(piece)
                if inflated > expected or not (piece or pending):
                    break
        except zlib.error as exc:
            raise _Damaged(f"a patch is corrupt ({exc})") from None
        if inflated != expected or not inflater.eof:
            raise _Damaged("a patch does not hold the number of pixels its shape says")
        self._checked.add(key)

    def empty_strips(self, name: str, rects: list[Rect]) -> list[tuple[Rect, Packed]]:
        spec = self.layers[name]
        return [(rect, Packed.of(np.zeros((rect.h, rect.w, *spec.trailing), spec.dtype))) for rect in rects]

    @staticmethod
    def check_extent(extent: Rect, size: tuple[int, int]) -> None:
        if not extent.contains(Rect(0, 0, *size)):
            raise _Damaged(f"an extent {extent} does not contain the {size[0]}x{size[1]} image")

    def check(self, edit: object, size: tuple[int, int]) -> tuple[int, int]:
        """Check ``edit`` against the layer size before it; returns the size after it."""
        if isinstance(edit, TileEdit):
            w, h = size
            for tiles in (edit.before, edit.after):
                for (ty, tx), packed in tiles.items():
                    if ty * TILE >= h or tx * TILE >= w:
                        raise _Damaged("a stroke tile lies outside the layer")
                    self.check_patch(packed, tile_rect(ty, tx, h, w), size)
        elif isinstance(edit, RectEdit):
            self.check_patch(edit.before, edit.rect, size)
            self.check_patch(edit.after, edit.rect, size)
        elif isinstance(edit, ExtentEdit):
            for extent in (edit.before, edit.after):
                self.check_extent(extent, size)
        elif isinstance(edit, CanvasEdit):
            grown = self.grown_size(edit)
            if self.max_pixels and grown[0] * grown[1] > self.max_pixels:
                raise ImageLoadError(
                    f"the undo history grows the canvas to {grown[0]}x{grown[1]} ({megapixels(grown[0] * grown[1])} "
                    f"megapixels), above the limit of {megapixels(self.max_pixels)} megapixels"
                )
            if not Rect(0, 0, *grown).contains(edit.inner()) or edit.old_size != size:
                raise _Damaged("a canvas step does not match the size of the layers")
            self.check_extent(edit.old_extent, size)
            rects = [r for r, _ in next(iter(edit.strips.values()))]
            for strips in edit.strips.values():
                if [r for r, _ in strips] != rects:
                    raise _Damaged("the layers of a canvas step have different strips")
                for rect, packed in strips:
                    self.check_patch(packed, rect, grown)
            # An optional layer the step does not hold was empty there: zero strips, made only now that
            # the rectangles are known to fit the grown canvas.
            edit.strips = {name: edit.strips.get(name) or self.empty_strips(name, rects) for name in self.layers}
            return grown
        elif isinstance(edit, CompositeEdit):
            for child in edit.edits:
                size = self.check(child, size)
        return size


def deserialise(
    index_bytes: bytes,
    blobs: bytes,
    layers: dict[str, LayerSpec],
    size: tuple[int, int],
    *,
    max_pixels: int | None = None,
) -> RestoredHistory:
    """Edits, position and saved position from a stored history, for layers of ``size`` (width, height)
    now. Raises ImageLoadError (without the file name; the caller adds it) when anything does not fit, or
    when a step would grow the canvas above ``max_pixels`` (None: no limit)."""
    try:
        try:
            index = json.loads(index_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Damaged(f"its index is not valid JSON ({exc})") from None
        if not isinstance(index, dict):
            raise _Damaged("its index is not an object")
        if index.get("format") != FORMAT:
            raise _Damaged(f"unknown history format {index.get('format')!r} (this version reads format {FORMAT})")
        steps = index.get("edits")
        if not isinstance(steps, list):
            raise _Damaged("it lists no steps")
        reader = _Reader(blobs, layers, max_pixels)
        edits = [reader.edit(step) for step in steps]
        position = reader.integer(index.get("position"), "the position", 0, len(edits))
        saved = index.get("saved_position")
        saved = None if saved is None else reader.integer(saved, "the saved position", 0, len(edits))
        for edit in reversed(edits[:position]):
            size = reader.size_before(edit, size)
        for edit in edits:
            size = reader.check(edit, size)
    except _Damaged as exc:
        raise ImageLoadError(f"the undo history is damaged: {exc}") from None
    except RecursionError:
        raise ImageLoadError("the undo history is damaged: it is nested too deeply") from None
    return RestoredHistory(edits, position, saved)
