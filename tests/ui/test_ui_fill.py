"""Fill through the worker: one history step, cancel, responsiveness, failures, stale requests."""

from __future__ import annotations

import numpy as np
from conftest import drag
from PySide6.QtCore import QTimer

from inpaintstudio.document.document import Document
from inpaintstudio.geometry import Rect


def paint_hole(doc: Document, rect: Rect = Rect(60, 40, 30, 30)) -> None:
    doc.mask[rect.slices()] = 255


def test_fill_with_a_classical_model_lands_as_one_history_step(window, small_doc, qtbot, dialogs):
    window.model_panel.select("telea")
    drag(window, [(60, 60), (90, 60)])
    hole = small_doc.hole().copy()
    before = small_doc.image.copy()
    window.actions_["fill"].trigger()
    assert window.fills.busy
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=10000)
    assert dialogs.errors == []
    assert small_doc.history.labels() == ["Mask stroke", "Fill (telea)"]
    changed = np.any(small_doc.image != before, axis=2)
    assert changed.any() and not changed[~hole].any(), "only hole pixels change"
    assert not small_doc.hole().any(), "the used mask is cleared"
    window.undo()
    assert np.array_equal(small_doc.image, before) and np.array_equal(small_doc.hole(), hole)


def test_cancel_leaves_the_document_unchanged(window, small_doc, slow_model, qtbot):
    paint_hole(small_doc)
    before = small_doc.image.copy()
    steps = small_doc.history.labels()
    window.fills.fill(slow_model)
    assert window.status.cancel_button.isVisible()
    qtbot.waitUntil(lambda: window.status.progress.value() > 0, timeout=5000)
    window.status.cancel_button.click()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=5000)
    assert np.array_equal(small_doc.image, before)
    assert small_doc.history.labels() == steps
    assert not window.status.cancel_button.isVisible()


def test_the_gui_keeps_working_while_a_fill_runs(window, small_doc, slow_model, qtbot):
    paint_hole(small_doc)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    window.fills.fill(slow_model)
    qtbot.waitUntil(lambda: len(ticks) >= 15, timeout=3000)
    assert window.fills.busy, "the timer fired while the fill was still running"
    window.brush_panel.size.set_value(8)
    drag(window, [(10, 100), (40, 100)])  # painting works meanwhile
    assert small_doc.mask[100, 20] >= 128
    window.canvas.zoom_by(2.0)
    assert window.fills.busy
    window.fills.cancel()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=5000)
    timer.stop()


def test_a_new_fill_replaces_a_stale_one(window, small_doc, slow_model, qtbot):
    paint_hole(small_doc)
    first = window.fills.fill(slow_model)
    qtbot.waitUntil(lambda: window.status.progress.value() > 0, timeout=5000)
    second = window.fills.fill("telea")
    assert second != first
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=10000)
    assert small_doc.history.labels()[-1] == "Fill (telea)"
    assert len(small_doc.history.labels()) == 1


def test_a_failing_fill_shows_a_message_and_changes_nothing(window, small_doc, qtbot, dialogs, monkeypatch):
    from inpaintstudio.engine.inpainters import classical

    def broken(self, image, mask, sketch, ctx):
        raise RuntimeError("exploded")

    monkeypatch.setattr(classical.TeleaInpainter, "inpaint", broken)
    paint_hole(small_doc)
    before = small_doc.image.copy()
    window.fills.fill("telea")
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=5000)
    assert dialogs.errors and "exploded" in dialogs.errors[0][1]
    assert np.array_equal(small_doc.image, before) and small_doc.history.labels() == []


def test_a_size_change_during_the_fill_is_reported(window, slow_model, qtbot, dialogs):
    from conftest import gradient_photo

    doc = Document(gradient_photo(60, 40))
    window.set_document(doc)
    doc.set_extent(Rect(0, 0, 80, 40))
    window.fills.fill("patchmatch")
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=20000)
    assert (doc.width, doc.height) == (80, 40)
    paint_hole(doc, Rect(10, 10, 10, 10))
    window.fills.fill(slow_model)
    qtbot.waitUntil(lambda: SlowInpainter_started(), timeout=5000)
    doc.jump_to(0)  # undo the growth while the fill runs: the image is 60 x 40 again
    assert (doc.width, doc.height) == (60, 40)
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=10000)
    assert dialogs.errors and "changed size" in dialogs.errors[-1][1]
    assert (doc.width, doc.height) == (60, 40)


def SlowInpainter_started() -> bool:  # noqa: N802
    from conftest import SlowInpainter

    return SlowInpainter.started.is_set()


def test_nothing_to_fill_says_so(window, small_doc, dialogs):
    window.fills.fill("telea")
    assert dialogs.infos and "Nothing to fill" in dialogs.infos[0][0]
    assert not window.fills.busy


def test_unavailable_models_are_listed_disabled_with_the_reason(window):
    from PySide6.QtCore import Qt

    tree = window.model_panel.tree
    names = [tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) for i in range(tree.topLevelItemCount())]
    assert {"telea", "navier-stokes", "patchmatch"} <= set(names)
    for index, info in enumerate(window.model_panel.infos):
        item = tree.topLevelItem(index)
        assert bool(item.flags() & Qt.ItemFlag.ItemIsEnabled) == info.ready
        if not info.ready:
            assert (
                info.message and info.message in item.toolTip(0).replace("&#x27;", "'") or info.state in item.toolTip(0)
            )
