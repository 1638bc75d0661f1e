"""Extending borders with the extend tool, then filling the new area."""

from __future__ import annotations

import numpy as np
from conftest import drag, view_point
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from inpaintstudio.geometry import Rect


def test_dragging_the_right_edge_is_one_set_extent_step(window, small_doc):
    QTest.keyClick(window.canvas, Qt.Key.Key_X)
    assert window.canvas.tool.name == "extend"
    drag(window, [(160, 60), (180, 60), (200, 62)])
    assert small_doc.extent == Rect(0, 0, 200, 120)
    assert small_doc.history.labels() == ["Extend borders"]
    assert (small_doc.width, small_doc.height) == (160, 120), "the canvas grows only when filled"
    window.undo()
    assert small_doc.extent == small_doc.rect


def test_edges_cannot_be_dragged_inside_the_image(window, small_doc):
    QTest.keyClick(window.canvas, Qt.Key.Key_X)
    drag(window, [(0, 60), (40, 60)])  # the left edge inwards
    assert small_doc.extent == small_doc.rect
    assert small_doc.history.labels() == []


def test_a_corner_grows_two_sides(window, small_doc):
    QTest.keyClick(window.canvas, Qt.Key.Key_X)
    drag(window, [(0, 0), (-20, -10)])
    assert small_doc.extent == Rect(-20, -10, 180, 130)


def test_extend_then_fill_grows_the_image_to_the_right_size(window, small_doc, qtbot, dialogs):
    before = small_doc.image.copy()
    QTest.keyClick(window.canvas, Qt.Key.Key_X)
    drag(window, [(160, 60), (213, 60)])
    drag(window, [(80, 0), (80, -30)])
    assert small_doc.extent == Rect(0, -30, 213, 150)
    window.model_panel.select("patchmatch")
    window.actions_["fill"].trigger()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=30000)
    assert dialogs.errors == []
    assert (small_doc.width, small_doc.height) == (213, 150)
    assert small_doc.extent == small_doc.rect
    assert np.array_equal(small_doc.image[30:, :160], before), "the photo is kept bit for bit"
    assert small_doc.history.labels() == ["Extend borders", "Extend borders", "Fill (patchmatch)"]
    window.undo()
    assert (small_doc.width, small_doc.height) == (160, 120)
    assert small_doc.extent == Rect(0, -30, 213, 150)


def test_a_model_that_cannot_extend_offers_the_ones_that_can(window, small_doc, qtbot, dialogs):
    small_doc.set_extent(Rect(0, 0, 200, 120))
    dialogs.choice = None
    assert window.fills.fill("telea") is None
    assert dialogs.choices and "patchmatch" in dialogs.choices[0]
    assert "telea" not in dialogs.choices[0]
    dialogs.choice = "patchmatch"
    assert window.fills.fill("telea") is not None
    assert window.model_panel.current_model() == "patchmatch"
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=30000)
    assert small_doc.width == 200


def test_the_status_bar_shows_the_size_the_borders_give(window, small_doc):
    """While dragging and once dragged, the size shown is the extended one, not the photo's old size."""
    canvas = window.canvas.viewport()
    size = window.status.size
    QTest.keyClick(window.canvas, Qt.Key.Key_X)
    assert size.text() == "160 x 120"
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_point(window, 160, 60))
    QTest.mouseMove(canvas, view_point(window, 200, 60))
    assert size.text() == "160 x 120 → 200 x 120", "while dragging"
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_point(window, 200, 60))
    assert small_doc.extent == Rect(0, 0, 200, 120)
    assert size.text() == "160 x 120 → 200 x 120", "until the fill grows the photo"
    window.undo()
    assert size.text() == "160 x 120"
    window.redo()
    assert size.text() == "160 x 120 → 200 x 120"
    window.reset_extent()
    assert size.text() == "160 x 120"
