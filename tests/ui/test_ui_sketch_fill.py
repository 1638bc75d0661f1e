"""Sketch strokes are used up by the fill whose hole they reach: none of their pieces stay behind."""

from __future__ import annotations

from conftest import drag
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from inpaintstudio.document.document import THRESHOLD
from inpaintstudio.geometry import Rect


def fill_and_wait(window, qtbot, model: str) -> str:  # noqa: ANN001
    window.fills.fill(model)
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=20000)
    return window.status.currentMessage()


def test_a_fill_clears_the_whole_strokes_that_reach_its_hole(window, small_doc, qtbot, dialogs):
    small_doc.mask[Rect(60, 40, 30, 30).slices()] = 255
    QTest.keyClick(window.canvas, Qt.Key.Key_S)
    drag(window, [(30, 55), (75, 52), (120, 58)])  # through the hole, well beyond it on both sides
    drag(window, [(10, 105), (40, 108)])  # a stroke of its own, far from the hole
    crossing, apart = small_doc.sketch[45:65, 25:125].copy(), small_doc.sketch[100:115, 5:45].copy()
    assert (crossing >= THRESHOLD).sum() > 100 and (apart >= THRESHOLD).sum() > 30
    assert "sketch" in fill_and_wait(window, qtbot, "telea"), "telea ignores the sketch in its hole: say so"
    assert dialogs.errors == []
    assert not small_doc.sketch[45:65, 25:125].any(), "no piece of the stroke through the hole is left"
    assert (small_doc.sketch[100:115, 5:45] == apart).all(), "a stroke away from the hole stays"
    window.undo()
    assert (small_doc.sketch[45:65, 25:125] == crossing).all(), "undo brings the stroke back"
    window.redo()
    assert not small_doc.sketch[45:65, 25:125].any()


def test_later_fills_do_not_warn_about_a_used_sketch(window, small_doc, qtbot):
    small_doc.mask[Rect(60, 40, 30, 30).slices()] = 255
    QTest.keyClick(window.canvas, Qt.Key.Key_S)
    drag(window, [(30, 55), (120, 55)])
    fill_and_wait(window, qtbot, "telea")
    small_doc.mask[Rect(100, 80, 20, 20).slices()] = 255
    message = fill_and_wait(window, qtbot, "navier-stokes")
    assert message.startswith("Filled with") and "sketch" not in message
