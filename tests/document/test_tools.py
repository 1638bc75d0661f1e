"""The Qt-free tools (document/tools.py): painting, erasing, the hand and the border extension."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.document.document import Document
from inpaintstudio.document.tools import (
    BrushTool,
    EraserTool,
    ExtendTool,
    ExtentDrag,
    HandTool,
    SketchTool,
    dragged_extent,
    grab_edges,
    padding_text,
)
from inpaintstudio.geometry import Rect


def doc(width: int = 100, height: int = 80) -> Document:
    return Document(np.zeros((height, width, 3), np.uint8))


def test_brush_eraser_and_sketch_paint_their_layers_as_one_step_each():
    d = doc()
    brush = BrushTool(size=10)
    brush.press(d, 10, 10)
    brush.move(50, 10)
    assert brush.release(90, 10)
    assert d.mask[10, 10:91].min() >= 128 and not d.sketch.any()
    eraser = EraserTool(size=10)
    eraser.press(d, 50, 10)
    eraser.release(50, 10)
    assert d.mask[10, 50] == 0
    sketch = SketchTool()
    assert sketch.size == 4 and sketch.hardness == 1.0
    sketch.press(d, 0, 40)
    sketch.release(99, 40)
    assert d.sketch[40, 50] >= 128
    assert d.history.labels() == ["Mask stroke", "Mask erase", "Sketch stroke"]


def test_alternate_swaps_painting_and_erasing():
    d = doc()
    d.mask[:] = 255
    tool = BrushTool(size=6)
    tool.press(d, 20, 20, alternate=True)
    tool.release(20, 20)
    assert d.mask[20, 20] == 0


def test_a_click_outside_the_image_is_not_a_step():
    d = doc()
    tool = BrushTool(size=4)
    tool.press(d, -50, -50)
    assert not tool.release(-40, -50)
    assert d.history.labels() == []


def test_hand_tool_is_view_only():
    assert HandTool().view_only and not HandTool().shows_brush


def test_brush_size_is_clamped():
    tool = BrushTool(size=0)
    assert tool.size == 1
    tool.size = 1e6
    assert tool.size == 2000


@pytest.mark.parametrize(
    ("x", "y", "edges"),
    [
        (100, 40, {"right"}),
        (0, 40, {"left"}),
        (50, 0, {"top"}),
        (50, 80, {"bottom"}),
        (101, 79, {"right", "bottom"}),
        (50, 40, set()),
        (300, 40, set()),
    ],
)
def test_grab_edges(x, y, edges):
    assert grab_edges(Rect(0, 0, 100, 80), x, y, tolerance=4) == frozenset(edges)


def test_dragged_extent_grows_but_never_cuts_into_the_image():
    image = Rect(0, 0, 100, 80)
    drag = ExtentDrag(frozenset({"right"}), (100, 40), image)
    assert dragged_extent(drag, 133, 45, image) == Rect(0, 0, 133, 80)
    assert dragged_extent(drag, 20, 45, image) == image
    assert dragged_extent(drag, 1000, 45, image, max_factor=2.0) == Rect(0, 0, 300, 80)
    corner = ExtentDrag(frozenset({"left", "top"}), (0, 0), image)
    assert dragged_extent(corner, -10, -20, image) == Rect(-10, -20, 110, 100)


def test_extend_tool_makes_one_step_per_drag():
    d = doc()
    tool = ExtendTool()
    tool.tolerance = 5
    tool.press(d, 100, 40)
    assert tool.active
    tool.move(120, 40)
    assert tool.preview == Rect(0, 0, 120, 80) and d.extent == d.rect
    tool.move(150, 40)
    assert tool.release(150, 40)
    assert d.extent == Rect(0, 0, 150, 80) and d.history.labels() == ["Extend borders"]
    tool.press(d, 50, 40)  # not on an edge: nothing happens
    assert not tool.active and not tool.release(60, 40)


def test_padding_text():
    assert padding_text(Rect(0, -10, 150, 90), Rect(0, 0, 100, 80)) == "↑ +10   → +50   150 x 90 px"
