"""Painting on the canvas with real mouse events: the mask changes under the drag and nowhere else."""

from __future__ import annotations

import numpy as np
from conftest import drag, view_point
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest


def test_brush_drag_changes_the_mask_under_it_and_nothing_else(window, small_doc):
    image_before = small_doc.image.copy()
    window.brush_panel.size.set_value(10)
    drag(window, [(30, 60), (60, 60), (90, 60), (120, 60)])
    mask = small_doc.mask
    assert mask[60, 30:121].min() >= 128, "the path of the drag is painted"
    ys, xs = np.nonzero(mask)
    assert ys.min() >= 60 - 7 and ys.max() <= 60 + 7 and xs.min() >= 30 - 7 and xs.max() <= 120 + 7
    assert mask[20, 60] == 0 and mask[100, 60] == 0
    assert np.array_equal(small_doc.image, image_before)
    assert not small_doc.sketch.any()
    assert small_doc.history.labels() == ["Mask stroke"], "one drag is one step"


def test_undo_and_redo_restore_the_stroke(window, small_doc):
    drag(window, [(40, 40), (100, 80)])
    painted = small_doc.mask.copy()
    assert painted.any()
    QTest.keySequence(window, "Ctrl+Z")
    assert not small_doc.mask.any()
    QTest.keySequence(window, "Ctrl+Shift+Z")
    assert np.array_equal(small_doc.mask, painted)


def test_eraser_and_sketch_tools_by_keyboard(window, small_doc):
    window.brush_panel.size.set_value(20)
    drag(window, [(20, 60), (140, 60)])
    QTest.keyClick(window.canvas, Qt.Key.Key_E)
    assert window.canvas.tool.name == "eraser"
    drag(window, [(80, 40), (80, 80)])
    assert small_doc.mask[60, 80] == 0 and small_doc.mask[60, 30] >= 128
    QTest.keyClick(window.canvas, Qt.Key.Key_S)
    assert window.canvas.tool.name == "sketch"
    drag(window, [(10, 10), (150, 110)])
    assert small_doc.sketch[60, 80] >= 128
    assert small_doc.history.labels() == ["Mask stroke", "Mask erase", "Sketch stroke"]


def test_bracket_keys_change_the_brush_size(window, small_doc):
    start = window.tools["brush"].size
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.tools["brush"].size > start
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    QTest.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.tools["brush"].size < start
    assert window.settings.brush_size == window.tools["brush"].size


def test_brush_outline_follows_the_cursor_at_the_zoom(window, small_doc):
    window.brush_panel.size.set_value(30)
    QTest.mouseMove(window.canvas, view_point(window, 50, 50))
    centre, radius = window.canvas.interaction.outline()
    assert abs(radius - 15 * window.canvas.transform.scale) < 1e-6
    window.canvas.zoom_by(2.0)
    QTest.mouseMove(window.canvas, view_point(window, 50, 50))
    _, zoomed = window.canvas.interaction.outline()
    assert abs(zoomed - 2 * radius) < 1e-6


def test_ctrl_wheel_zooms_around_the_cursor_and_space_drag_pans(window, small_doc, qtbot):
    canvas, t = window.canvas, window.canvas.transform
    anchor = view_point(window, 80, 60)
    before = t.scale
    QTest.mouseMove(canvas, anchor)
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    event = QWheelEvent(
        QPointF(anchor), QPointF(canvas.mapToGlobal(anchor)), QPoint(), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(canvas, event)
    assert t.scale > before
    x, y = t.to_image(QPointF(anchor))
    assert abs(x - 80) < 1 and abs(y - 60) < 1, "the point under the cursor stays put"

    mask_before = small_doc.mask.copy()
    offset = QPointF(t.offset)
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 300))
    QTest.mouseMove(canvas, QPoint(340, 320))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(340, 320))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert t.offset - offset == QPointF(40, 20)
    assert np.array_equal(small_doc.mask, mask_before), "panning does not paint"


def test_hand_tool_and_middle_button_pan(window, small_doc):
    t = window.canvas.transform
    QTest.keyClick(window.canvas, Qt.Key.Key_H)
    offset = QPointF(t.offset)
    drag(window, [(50, 50), (60, 55)])
    assert t.offset != offset and not small_doc.mask.any()
    QTest.keyClick(window.canvas, Qt.Key.Key_B)
    offset = QPointF(t.offset)
    canvas = window.canvas
    QTest.mousePress(canvas, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 200))
    QTest.mouseMove(canvas, QPoint(180, 190))
    QTest.mouseRelease(canvas, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(180, 190))
    assert t.offset - offset == QPointF(-20, -10)
    assert not small_doc.mask.any()


def test_fit_and_actual_size(window, small_doc):
    QTest.keySequence(window, "Ctrl+1")
    assert window.canvas.transform.scale == 1.0
    QTest.keySequence(window, "Ctrl++")
    assert window.canvas.transform.scale > 1.0
    QTest.keySequence(window, "Ctrl+0")
    assert window.canvas.transform.fitted


def test_mask_overlay_is_rendered_in_the_tint_colour(window, small_doc, qtbot):
    window.brush_panel.size.set_value(30)
    drag(window, [(80, 60), (81, 60)])
    QTest.mouseMove(window.canvas, QPoint(2, 2))
    qtbot.wait(20)
    shot = window.canvas.grab().toImage()
    centre = view_point(window, 80, 60)
    pixel = shot.pixelColor(centre)
    plain = view_point(window, 80, 10)
    assert pixel.red() > shot.pixelColor(plain).red() or pixel.red() > 200
    window.brush_panel.opacity.setValue(0)
    qtbot.wait(20)
    hidden = window.canvas.grab().toImage().pixelColor(centre)
    expected = small_doc.image[60, 80]
    assert abs(hidden.red() - int(expected[0])) <= 2 and abs(hidden.green() - int(expected[1])) <= 2
