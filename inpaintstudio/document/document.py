"""The document: a photo with its mask, sketch and extent, and the history of what was done to it.

Pure Python and numpy; the app's widgets subscribe to :class:`Change` notifications and write back only
through the methods here, each of which is one undoable step.

Layers (all the photo's size):
- ``image``: H x W x 3 RGB, uint8 or uint16 (16-bit files stay 16-bit);
- ``alpha``: H x W of the same dtype, only for photos that have transparency;
- ``mask``: H x W uint8 coverage, 0..255; a pixel is hole when >= 128 (hole = 1 in the fill);
- ``sketch``: H x W uint8 coverage of the user's edge strokes, used from 128 up;
- ``exclude``: H x W uint8 coverage of the sampling exclusion, used from 128 up: known pixels a fill
  must not copy from (a second row of meerkats the fill would otherwise clone into the hole).
The extent is a rectangle in image coordinates (x / y may be negative) covering the image; when it is
larger, Fill extends the photo to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inpaintstudio.document.brush import Brush, apply_coverage, segment_coverage
from inpaintstudio.document.history import CanvasEdit, CompositeEdit, ExtentEdit, History, RectEdit, TileRecorder
from inpaintstudio.document.io import imageio
from inpaintstudio.engine import registry
from inpaintstudio.engine.pipeline import check_exclusion
from inpaintstudio.engine.request import FillRequest, FillResult, Patch
from inpaintstudio.errors import InputError
from inpaintstudio.geometry import Rect, mask_bbox

LAYER_NAMES = ("image", "alpha", "mask", "sketch", "exclude")
THRESHOLD = 128
# The layers painted with a brush, and how history labels and messages name them.
PAINTED_LAYERS = {"mask": "Mask", "sketch": "Sketch", "exclude": "Exclusion"}


@dataclass(frozen=True)
class Change:
    """What changed: a layer name with the rectangle, or 'extent', 'canvas' (size), 'history', 'saved'."""

    kind: str
    rect: Rect | None = None


class Stroke:
    """One drag of a brush, eraser or sketch pen: segments are drawn as points arrive; one undo step."""

    def __init__(self, doc: Document, layer: str, brush: Brush, erase: bool, label: str) -> None:
        self.doc, self.layer, self.brush, self.erase, self.label = doc, layer, brush, erase, label
        self._array = doc.layer(layer)
        self._recorder = TileRecorder(layer, self._array)
        self._last: tuple[float, float] | None = None
        self.changed = Rect(0, 0, 0, 0)

    def add_point(self, x: float, y: float) -> Rect:
        """Draw from the previous point to (x, y) in image coordinates; returns the changed rectangle."""
        point = (float(x), float(y))
        start = self._last or point
        rect, coverage = segment_coverage(self.brush, start, point, self.doc.rect, continuing=self._last is not None)
        self._last = point
        if rect.is_empty():
            return rect
        self._recorder.touch(rect)
        apply_coverage(self._array, rect, coverage, self.erase)
        self.changed = self.changed.union(rect)
        self.doc.notify(self.layer, rect)
        return rect

    def end(self) -> bool:
        """Finish the stroke; returns whether it changed anything (and so became a history step)."""
        edit = self._recorder.finish(self.label)
        if edit is None:
            return False
        self.doc.push(edit)
        return True


class Document:
    def __init__(
        self,
        pixels: np.ndarray,
        alpha: np.ndarray | None = None,
        meta: imageio.ImageMeta | None = None,
        path: Path | None = None,
    ) -> None:
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype not in (np.uint8, np.uint16):
            raise InputError(f"a document needs H x W x 3 uint8 or uint16 pixels, got {pixels.shape} {pixels.dtype}")
        h, w = pixels.shape[:2]
        # The document owns its layers: it copies what it is given, so a caller's array never changes under it.
        self._layers: dict[str, np.ndarray] = {
            "image": np.array(pixels, order="C", copy=True),
            "mask": np.zeros((h, w), np.uint8),
            "sketch": np.zeros((h, w), np.uint8),
            "exclude": np.zeros((h, w), np.uint8),
        }
        if alpha is not None:
            self._layers["alpha"] = np.array(alpha, dtype=pixels.dtype, order="C", copy=True)
        self.meta = meta or imageio.ImageMeta()
        self.path = path  # the photo this document saves to (for a project: the photo it was made from)
        self.project_path: Path | None = None  # the .inpaint project file it was opened from / saved to
        self.extent = Rect(0, 0, w, h)
        self.history = History()
        self._saved_id = 0
        self._listeners: list[Callable[[Change], None]] = []

    @classmethod
    def open(cls, path: Path | str, *, max_pixels: int | None = imageio.DEFAULT_MAX_PIXELS) -> Document:
        loaded = imageio.load_image(path, max_pixels=max_pixels)
        return cls(loaded.pixels, loaded.alpha, loaded.meta, Path(path))

    # -- observation -------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def notify(self, kind: str, rect: Rect | None = None) -> None:
        change = Change(kind, rect)
        for listener in list(self._listeners):
            listener(change)

    # -- layers ------------------------------------------------------------------------------------
    def layer(self, name: str) -> np.ndarray:
        return self._layers[name]

    def layers(self) -> dict[str, np.ndarray]:
        return dict(self._layers)

    def replace_layers(self, layers: dict[str, np.ndarray], extent: Rect) -> None:
        """Swap in layers of a new size (canvas growth and its undo); listeners get a 'canvas' change."""
        self._layers = {k: np.ascontiguousarray(v) for k, v in layers.items()}
        self.extent = extent
        self.notify("canvas", self.rect)

    @property
    def image(self) -> np.ndarray:
        return self._layers["image"]

    @property
    def alpha(self) -> np.ndarray | None:
        return self._layers.get("alpha")

    @property
    def mask(self) -> np.ndarray:
        return self._layers["mask"]

    @property
    def sketch(self) -> np.ndarray:
        return self._layers["sketch"]

    @property
    def exclude(self) -> np.ndarray:
        return self._layers["exclude"]

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self.width, self.height)

    def hole(self) -> np.ndarray:
        return self.mask >= THRESHOLD

    def display_rgb8(self) -> np.ndarray:
        """The image as 8-bit RGB (a view when it already is), for display and for fills."""
        return imageio.to_uint8(self.image)

    # -- history -----------------------------------------------------------------------------------
    def push(self, edit: object) -> None:
        self.history.push(edit)
        self.notify("history")

    def undo(self) -> bool:
        if not self.history.can_undo():
            return False
        self.history.position -= 1
        self.history.edits[self.history.position].undo(self)
        self.notify("history")
        return True

    def redo(self) -> bool:
        if not self.history.can_redo():
            return False
        self.history.edits[self.history.position].redo(self)
        self.history.position += 1
        self.notify("history")
        return True

    def jump_to(self, position: int) -> None:
        """Undo or redo until ``position`` steps are applied (the history panel's click)."""
        position = max(0, min(position, len(self.history.edits)))
        while self.history.position > position and self.undo():
            pass
        while self.history.position < position and self.redo():
            pass

    @property
    def dirty(self) -> bool:
        return self.history.current_id() != self._saved_id

    def mark_saved(self, path: Path | None = None) -> None:
        self._saved_id = self.history.current_id()
        if path is not None:
            self.path = Path(path)
        self.notify("saved")

    def saved_position(self) -> int | None:
        """The history position at which the document was last saved, or None when that state is not in
        the history any more (project and recovery files store it, so a restored document is as dirty as
        the one that was snapshotted)."""
        if self._saved_id == 0:
            return 0
        for index, edit in enumerate(self.history.edits):
            if edit.edit_id == self._saved_id:
                return index + 1
        return None

    def restore_saved_position(self, position: int | None) -> None:
        """Mark the state after ``position`` history steps as the saved one (None: no state is saved)."""
        if position is None or not 0 <= position <= len(self.history.edits):
            self._saved_id = -1  # matches no state: the document stays dirty until saved
        else:
            self._saved_id = self.history.edits[position - 1].edit_id if position else 0
        self.notify("saved")

    def save(self, path: Path | str, *, quality: int = 95) -> tuple[str, ...]:
        """Save the image; returns the notes for the user (metadata the format could not carry)."""
        notes = imageio.save_image(path, self.image, self.alpha, self.meta, quality=quality)
        self.mark_saved(Path(path))
        return notes

    # -- painting ----------------------------------------------------------------------------------
    def begin_stroke(self, layer: str, brush: Brush, *, erase: bool = False) -> Stroke:
        if layer not in PAINTED_LAYERS:
            raise ValueError(f"strokes paint the mask, the sketch or the exclusion, not '{layer}'")
        return Stroke(self, layer, brush, erase, f"{PAINTED_LAYERS[layer]} {'erase' if erase else 'stroke'}")

    def _edit_layer(self, label: str, layer: str, rect: Rect, change: Callable[[np.ndarray], None]) -> bool:
        if rect.is_empty():
            return False
        edit = RectEdit.capture(label, layer, self._layers[layer], rect, change)
        if edit.before.data == edit.after.data:
            return False
        self.notify(layer, rect)
        self.push(edit)
        return True

    def clear_layer(self, layer: str) -> bool:
        label = f"Clear {PAINTED_LAYERS.get(layer, layer).lower()}"
        return self._edit_layer(label, layer, mask_bbox(self._layers[layer]), lambda v: v.fill(0))

    def invert_mask(self) -> bool:
        return self._edit_layer("Invert mask", "mask", self.rect, lambda v: np.subtract(255, v, out=v))

    def set_binary_layer(self, layer: str, binary: np.ndarray, label: str) -> bool:
        """Replace the mask, sketch or exclusion with a loaded map (True = set), as one step."""
        if binary.shape != self.mask.shape:
            raise InputError(
                f"the {layer} is {binary.shape[1]}x{binary.shape[0]} but the image is {self.width}x{self.height}"
            )
        values = np.where(binary, 255, 0).astype(np.uint8)
        return self._edit_layer(label, layer, self.rect, lambda v: np.copyto(v, values))

    # -- extent ------------------------------------------------------------------------------------
    def set_extent_raw(self, extent: Rect) -> None:
        self.extent = extent
        self.notify("extent", extent)

    def set_extent(self, extent: Rect, label: str = "Extend borders") -> bool:
        if not extent.contains(self.rect):
            raise InputError("the extent must contain the whole image")
        if extent == self.extent:
            return False
        edit = ExtentEdit(label, self.extent, extent)
        self.set_extent_raw(extent)
        self.push(edit)
        return True

    # -- fills -------------------------------------------------------------------------------------
    def fill_request(self, model: str, *, device: str = "auto", strategy: str = "crop") -> FillRequest:
        """Snapshot the current state for a fill (copies, so painting can go on meanwhile).

        Refuses (InputError) a classical fill when the mask covers the whole image: telea, navier-stokes
        and patchmatch fill a hole from the pixels around it, and with none they would hand the input back
        unchanged as if it had been filled; and, for a model that honours it, an exclusion that leaves
        nothing to copy from.
        """
        # Arrays made fresh here are handed over read-only, so the request takes them without a second
        # copy (this runs on the GUI thread and a 50-megapixel photo is 150 MB); the request copies the
        # document's own 8-bit image itself.
        sketch = self.sketch >= THRESHOLD
        sketch.flags.writeable = False
        hole = self.hole()
        hole.flags.writeable = False
        cls = registry.get(model)
        if hole.all() and not cls.learned:
            raise InputError(
                f"the mask covers the whole image, so nothing could be filled: {model} fills a hole from the "
                "pixels around it; leave some of the image unmasked"
            )
        exclude = self.exclude >= THRESHOLD
        exclude.flags.writeable = False
        if not exclude.any():
            exclude = None
        elif cls.capabilities().exclude:
            check_exclusion(hole, exclude)  # said at once, not after the fill has started
        image = self.display_rgb8()
        if image is not self.image:  # converted from 16 bits: already a fresh array
            image.flags.writeable = False
        return FillRequest(
            image=image,
            mask=hole,
            model=model,
            sketch=sketch if sketch.any() else None,
            extent=None if self.extent == self.rect else self.extent,
            device=device,
            strategy=strategy,
            exclude=exclude,
        )

    def apply_fill(self, result: FillResult, label: str | None = None) -> bool:
        """Put a fill result into the document as one undoable step (canvas growth included).

        Only the result's patches are read, converted and stored for undo, so applying a fill to a large
        photo costs what the holes cost; growing the canvas is the one case that needs the whole picture.
        """
        ox, oy = result.offset
        rw, rh = result.size
        if result.source_size != (self.width, self.height) or ox + self.width > rw or oy + self.height > rh:
            raise InputError("the image changed size while the fill was running; fill again")
        if not result.changed:
            return False
        label = label or f"Fill ({result.model})"
        edits: list = []
        patches = result.patches
        if (rw, rh) != (self.width, self.height):
            # The new border strips are stored by the canvas edit; only the old image's holes remain.
            canvas_edit = self._grow_canvas(self._stored_pixels(result.image), (ox, oy))
            edits.append(canvas_edit)
            patches = tuple(patch.cropped(canvas_edit.inner()) for patch in patches)
        for patch in patches:
            edits.extend(self._apply_patch(patch, label))
        self.push(CompositeEdit(label, edits))
        return True

    def _stored_pixels(self, rgb8: np.ndarray) -> np.ndarray:
        """8-bit RGB from a model in the document's own storage: 16 bits, or grey for a greyscale photo."""
        pixels = rgb8 if self.image.dtype == np.uint8 else rgb8.astype(np.uint16) * 257
        if self.meta.gray:
            lum = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            pixels = np.repeat(lum.round().astype(self.image.dtype)[..., None], 3, axis=2)
        return pixels

    def _apply_patch(self, patch: Patch, label: str) -> list:
        """The undoable edits that put one patch's hole pixels into the image and use up its mask."""
        local = mask_bbox(patch.hole)
        if local.is_empty():
            return []
        hole = patch.hole[local.slices()]
        src = self._stored_pixels(patch.pixels[local.slices()])
        box = local.translated(patch.rect.x, patch.rect.y)
        strokes = self._strokes_into(box, hole)  # before the hole's part of them is cleared
        edits = [RectEdit.capture(label, "image", self.image, box, lambda v: np.copyto(v, src, where=hole[..., None]))]
        self.notify("image", box)
        # The filled hole's mask and sketch are used up; so is the faint (below-threshold) fringe a soft
        # brush leaves around it, which would otherwise stay visible as a tinted halo. So are the whole
        # sketch strokes that reach into the hole: pieces of them left outside it guide nothing any more.
        around = box.expanded(max(8, max(box.w, box.h) // 8)).intersect(self.rect)
        for layer in ("mask", "sketch"):
            array = self._layers[layer]
            whole_strokes = strokes if layer == "sketch" else None
            rect = around.union(whole_strokes[0]) if whole_strokes else around
            clear = np.zeros((rect.h, rect.w), bool)
            clear[box.translated(-rect.x, -rect.y).slices()] = hole
            clear[around.translated(-rect.x, -rect.y).slices()] |= array[around.slices()] < THRESHOLD
            if whole_strokes:
                clear[whole_strokes[0].translated(-rect.x, -rect.y).slices()] |= whole_strokes[1]
            edits.append(RectEdit.capture(label, layer, array, rect, lambda v, c=clear: np.copyto(v, 0, where=c)))
            self.notify(layer, rect)
        return edits

    def _strokes_into(self, box: Rect, hole: np.ndarray) -> tuple[Rect, np.ndarray] | None:
        """Where the sketch strokes (8-connected drawn pixels) that reach into ``hole`` at ``box`` lie: their
        bounding box and which of its pixels they cover; None when the sketch does not reach the hole."""
        drawn = self._layers["sketch"]
        if not (drawn[box.slices()][hole] >= THRESHOLD).any():
            return None
        area = mask_bbox(drawn).union(box)  # the hole's box may reach beyond the sketch's
        _count, labels = cv2.connectedComponents((drawn[area.slices()] > 0).view(np.uint8), connectivity=8)
        reached = np.unique(labels[box.translated(-area.x, -area.y).slices()][hole])
        strokes = np.isin(labels, reached[reached > 0])
        rect = mask_bbox(strokes)
        return rect.translated(area.x, area.y), strokes[rect.slices()]

    def _grow_canvas(self, pixels: np.ndarray, offset: tuple[int, int]) -> CanvasEdit:
        rh, rw = pixels.shape[:2]
        inner = Rect(offset[0], offset[1], self.width, self.height)
        full = np.iinfo(self.image.dtype).max
        grown: dict[str, np.ndarray] = {}
        for name, array in self._layers.items():
            fill_value = pixels if name == "image" else full if name == "alpha" else 0
            new = np.empty((rh, rw, *array.shape[2:]), array.dtype)
            new[...] = fill_value
            new[inner.slices()] = array
            grown[name] = new
        edit = CanvasEdit(
            "Extend canvas",
            (self.width, self.height),
            offset,
            {name: CanvasEdit.strips_of(arr, inner) for name, arr in grown.items()},
            self.extent,
        )
        self.replace_layers(grown, Rect(0, 0, rw, rh))
        return edit
