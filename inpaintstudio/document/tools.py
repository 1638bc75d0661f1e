"""The canvas tools as small, Qt-free handlers of strokes in image coordinates.

The canvas turns mouse events into image coordinates and calls :meth:`Tool.press`, :meth:`Tool.move`
and :meth:`Tool.release` on the active tool; one drag is one undo step. Tools know nothing about
zoom, widgets or events, so they are tested with plain numbers.

- :class:`BrushTool` paints the mask, :class:`EraserTool` erases it, :class:`SketchTool` draws thin
  edge strokes into the sketch layer, :class:`ExcludeTool` paints the sampling exclusion (pixels a fill
  must not copy from) (``alternate`` - Alt in the app - swaps painting and erasing);
- :class:`ExtendTool` grabs an edge (or corner) of the extent and drags it; the document gets one
  ``set_extent`` step on release;
- :class:`HandTool` only pans the view, which the canvas does itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from inpaintstudio.document.brush import MAX_SIZE, MIN_SIZE, Brush
from inpaintstudio.document.document import Document, Stroke
from inpaintstudio.geometry import Rect

EDGES = ("left", "top", "right", "bottom")


class Tool:
    name: str = ""
    label: str = ""
    view_only: bool = False  # the canvas pans with it instead of calling press / move / release
    shows_brush: bool = False  # the canvas draws the brush outline at the cursor

    def __init__(self) -> None:
        self.active = False

    def press(self, doc: Document, x: float, y: float, *, alternate: bool = False) -> None:
        self.active = True

    def move(self, x: float, y: float) -> Rect | None:
        """Continue the drag; returns what changed in the document (or None)."""
        return None

    def release(self, x: float, y: float) -> bool:
        """Finish the drag; returns whether it became a history step."""
        self.active = False
        return False

    def cancel(self) -> None:
        """Abandon the drag (the document was replaced, the window lost the mouse)."""
        self.active = False


class StrokeTool(Tool):
    """Paints (or erases) a layer with a round brush along the drag."""

    layer = "mask"
    erase = False
    shows_brush = True

    def __init__(self, size: float = 40.0, hardness: float = 0.8) -> None:
        super().__init__()
        self.size = size
        self.hardness = hardness
        self._stroke: Stroke | None = None

    @property
    def size(self) -> float:
        return self._size

    @size.setter
    def size(self, value: float) -> None:
        self._size = float(min(MAX_SIZE, max(MIN_SIZE, value)))

    @property
    def brush(self) -> Brush:
        return Brush(self.size, self.hardness)

    def press(self, doc: Document, x: float, y: float, *, alternate: bool = False) -> None:
        super().press(doc, x, y)
        self._stroke = doc.begin_stroke(self.layer, self.brush, erase=self.erase != alternate)
        self._stroke.add_point(x, y)

    def move(self, x: float, y: float) -> Rect | None:
        if self._stroke is None:
            return None
        return self._stroke.add_point(x, y)

    def release(self, x: float, y: float) -> bool:
        stroke, self._stroke = self._stroke, None
        self.active = False
        if stroke is None:
            return False
        stroke.add_point(x, y)
        return stroke.end()

    def cancel(self) -> None:
        stroke, self._stroke = self._stroke, None
        self.active = False
        if stroke is not None:
            stroke.end()  # what was drawn stays, as one undoable step


class BrushTool(StrokeTool):
    name, label = "brush", "Mask brush"


class EraserTool(StrokeTool):
    name, label = "eraser", "Mask eraser"
    erase = True


class SketchTool(StrokeTool):
    name, label = "sketch", "Sketch"
    layer = "sketch"

    def __init__(self, size: float = 4.0, hardness: float = 1.0) -> None:
        super().__init__(size, hardness)


class ExcludeTool(StrokeTool):
    """Paints the sampling exclusion with the mask brush's size and hardness; Alt + drag erases it."""

    name, label = "exclude", "Sampling exclusion"
    layer = "exclude"


class HandTool(Tool):
    name, label = "hand", "Hand (pan)"
    view_only = True


@dataclass(frozen=True)
class ExtentDrag:
    """The state of an extent drag: which edges move, from where."""

    edges: frozenset[str]
    start: tuple[float, float]
    extent: Rect


def grab_edges(extent: Rect, x: float, y: float, tolerance: float) -> frozenset[str]:
    """The edges of ``extent`` that a press at (x, y) grabs: one edge, two at a corner, or none."""
    inside_x = extent.x - tolerance <= x <= extent.right + tolerance
    inside_y = extent.y - tolerance <= y <= extent.bottom + tolerance
    if not (inside_x and inside_y):
        return frozenset()
    near = {
        "left": abs(x - extent.x) <= tolerance,
        "right": abs(x - extent.right) <= tolerance,
        "top": abs(y - extent.y) <= tolerance,
        "bottom": abs(y - extent.bottom) <= tolerance,
    }
    if near["left"] and near["right"]:  # a very thin extent at this zoom: take the closer one
        near["left" if abs(x - extent.x) < abs(x - extent.right) else "right"] = False
    if near["top"] and near["bottom"]:
        near["top" if abs(y - extent.y) < abs(y - extent.bottom) else "bottom"] = False
    return frozenset(edge for edge, hit in near.items() if hit)


def dragged_extent(drag: ExtentDrag, x: float, y: float, image: Rect, max_factor: float | None = None) -> Rect:
    """The extent after moving the grabbed edges by the drag; it always contains ``image``.

    ``max_factor`` limits how far past the image an edge can go (in multiples of the image's size).
    """
    dx, dy = round(x - drag.start[0]), round(y - drag.start[1])
    ext = drag.extent
    left, top, right, bottom = ext.x, ext.y, ext.right, ext.bottom
    reach_x = None if max_factor is None else int(max_factor * image.w)
    reach_y = None if max_factor is None else int(max_factor * image.h)
    if "left" in drag.edges:
        left = min(image.x, left + dx)
        left = left if reach_x is None else max(image.x - reach_x, left)
    if "right" in drag.edges:
        right = max(image.right, right + dx)
        right = right if reach_x is None else min(image.right + reach_x, right)
    if "top" in drag.edges:
        top = min(image.y, top + dy)
        top = top if reach_y is None else max(image.y - reach_y, top)
    if "bottom" in drag.edges:
        bottom = max(image.bottom, bottom + dy)
        bottom = bottom if reach_y is None else min(image.bottom + reach_y, bottom)
    return Rect.from_edges(left, top, right, bottom)


class ExtendTool(Tool):
    """Drag the edges of the extent outwards to grow the canvas; one drag is one ``set_extent`` step."""

    name, label = "extend", "Extend borders"

    def __init__(self, max_factor: float | None = 2.0) -> None:
        super().__init__()
        self.max_factor = max_factor
        self.tolerance = 8.0  # in image pixels; the canvas sets it from the zoom (a few screen pixels)
        self.drag: ExtentDrag | None = None
        self.preview: Rect | None = None  # the extent being dragged, drawn by the canvas
        self._doc: Document | None = None

    def edges_at(self, doc: Document, x: float, y: float) -> frozenset[str]:
        return grab_edges(doc.extent, x, y, self.tolerance)

    def press(self, doc: Document, x: float, y: float, *, alternate: bool = False) -> None:
        edges = self.edges_at(doc, x, y)
        if not edges:
            return
        super().press(doc, x, y)
        self._doc = doc
        self.drag = ExtentDrag(edges, (x, y), doc.extent)
        self.preview = doc.extent

    def move(self, x: float, y: float) -> Rect | None:
        if self.drag is None or self._doc is None:
            return None
        before = self.preview or self.drag.extent
        self.preview = dragged_extent(self.drag, x, y, self._doc.rect, self.max_factor)
        return before.union(self.preview)

    def release(self, x: float, y: float) -> bool:
        if self.drag is None or self._doc is None:
            return False
        self.move(x, y)
        doc, extent = self._doc, self.preview
        self.cancel()
        return extent is not None and doc.set_extent(extent)

    def cancel(self) -> None:
        super().cancel()
        self.drag = None
        self.preview = None
        self._doc = None


def padding_text(extent: Rect, image: Rect) -> str:
    """'+L ←  +T ↑  +R →  +B ↓ = W x H' for the sizes shown while dragging (only the sides that grow)."""
    left, top, right, bottom = extent.padding_around(image)
    parts = [f"{arrow} +{value}" for arrow, value in (("←", left), ("↑", top), ("→", right), ("↓", bottom)) if value]
    size = f"{extent.w} x {extent.h} px"
    return "   ".join([*parts, size]) if parts else size
