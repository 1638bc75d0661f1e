"""Comparing models: one slot per model, side by side, synchronised, and one click applies."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from inpaintstudio.geometry import Rect
from inpaintstudio.ui.canvas.rendering import PatchedPhoto, PhotoLayer
from inpaintstudio.ui.compare_dialog import CompareDialog
from inpaintstudio.ui.worker_bridge import FillBridge


def start(window, small_doc, models):
    small_doc.mask[40:70, 60:90] = 255
    return window.compares.start(models)


def test_the_compare_view_shows_one_slot_per_chosen_model(window, small_doc, qtbot):
    models = ["telea", "navier-stokes", "patchmatch"]
    comparison = start(window, small_doc, models)
    view = window.compare_view
    assert window.central.currentWidget() is view
    assert [slot.model for slot in comparison.slots] == models
    assert len(view.panes) == 3
    qtbot.waitUntil(lambda: comparison.finished, timeout=30000)
    for pane, slot in zip(view.panes, comparison.slots, strict=True):
        assert slot.status == "done", slot.error
        assert pane.apply.isEnabled()
        assert slot.label in pane.caption.text() and " s" in pane.caption.text()
        assert pane.image.layer is not None


def test_panes_share_zoom_and_pan(window, small_doc, qtbot):
    comparison = start(window, small_doc, ["telea", "patchmatch"])
    qtbot.waitUntil(lambda: comparison.finished, timeout=30000)
    view = window.compare_view
    first, second = view.panes[0].image, view.panes[1].image
    # Same-size results are the input's layer with the fill's patches over it, not whole new copies.
    assert isinstance(first.layer, PatchedPhoto) and isinstance(second.layer, PatchedPhoto)
    assert first.layer.base is second.layer.base
    assert first.layer.base.levels[0].cacheKey() == window.canvas.photo.levels[0].cacheKey(), "the input is shared"
    assert first.transform is second.transform
    first.transform.zoom_at(2.0, QPointF(10, 10))
    assert second.transform.scale == first.transform.scale


def test_before_toggle_shows_the_input(window, small_doc, qtbot):
    comparison = start(window, small_doc, ["telea", "patchmatch"])
    qtbot.waitUntil(lambda: comparison.finished, timeout=30000)
    view = window.compare_view
    result_layer = view.panes[0].image.layer
    view.before.setChecked(True)
    assert view.panes[0].image.layer is not result_layer
    view.before.setChecked(False)
    assert view.panes[0].image.layer is result_layer


def test_one_click_applies_the_chosen_result(window, small_doc, qtbot):
    comparison = start(window, small_doc, ["telea", "patchmatch"])
    qtbot.waitUntil(lambda: comparison.finished, timeout=30000)
    expected = comparison.slots[1].result.image
    window.compare_view.panes[1].apply.click()
    assert np.array_equal(small_doc.image, expected)
    assert small_doc.history.labels() == ["Fill (patchmatch, compared)"]
    assert window.central.currentWidget() is window.canvas
    window.undo()
    assert small_doc.hole().any()


def test_compare_on_an_extended_canvas_and_closing_cancels(window, small_doc, slow_model, qtbot):
    small_doc.set_extent(Rect(0, 0, 200, 120))
    comparison = window.compares.start(["patchmatch", slow_model])
    assert comparison is not None and comparison.request.extends
    qtbot.waitUntil(lambda: comparison.slots[0].status == "done", timeout=30000)
    extended = window.compare_view.panes[0].image.layer
    assert isinstance(extended, PhotoLayer) and (extended.width, extended.height) == (200, 120)
    qtbot.waitUntil(lambda: comparison.slots[1].status == "running", timeout=5000)
    window.escape()
    qtbot.waitUntil(lambda: comparison.finished, timeout=10000)
    assert window.central.currentWidget() is window.canvas
    assert {s.status for s in comparison.slots} <= {"cancelled", "done"}
    assert small_doc.width == 160


def test_the_dialog_offers_ready_models_only(window, small_doc):
    infos = window.model_panel.infos
    dialog = CompareDialog(infos, [], extends=False)
    for info in infos:
        assert dialog.boxes[info.name].isEnabled() == info.ready
    assert 2 <= len(dialog.selected()) <= 4
    extending = CompareDialog(infos, [], extends=True)
    assert not extending.boxes["telea"].isEnabled() and extending.boxes["patchmatch"].isEnabled()


def test_a_whole_picture_job_is_composed_on_the_worker(small_doc, qtbot):
    """The compare panes show whole pictures: compose them off the GUI thread; a plain fill does not."""
    small_doc.mask[40:70, 60:90] = 255
    bridge = FillBridge()
    try:
        for whole, composed in ((True, True), (False, False)):
            job = bridge.fill(small_doc.fill_request("telea"), key=None, whole_picture=whole)
            with qtbot.waitSignal(job.finished, timeout=30000) as signal:
                pass
            result = signal.args[0]
            assert ("image" in vars(result)) is composed
    finally:
        bridge.shutdown()


def test_zooming_after_a_second_comparison_reaches_only_the_live_panes(window, small_doc, qtbot):
    """The first comparison's panes are deleted; the shared zoom must not call them (libshiboken
    RuntimeError "Internal C++ object (ImagePane) already deleted", once per old pane and zoom step)."""
    for _ in range(2):
        comparison = start(window, small_doc, ["telea", "navier-stokes", "patchmatch"])
        qtbot.waitUntil(lambda c=comparison: c.finished, timeout=30000)
        window.compares.close()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the old panes are gone now
    comparison = start(window, small_doc, ["telea", "navier-stokes"])
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    view = window.compare_view
    repainted = []
    for pane in view.panes:
        pane.image.update = lambda pane=pane: repainted.append(pane.index)  # noqa: B023
    pane = view.panes[0].image
    center = QPoint(pane.width() // 2, pane.height() // 2)
    wheel = QWheelEvent(
        center.toPointF(),
        pane.mapToGlobal(center).toPointF(),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    scale = view.transform.scale
    QCoreApplication.sendEvent(pane, wheel)  # Ctrl + wheel zooms every pane
    assert view.transform.scale > scale
    view.fit()
    assert sorted(set(repainted)) == [0, 1]
    qtbot.waitUntil(lambda: comparison.finished, timeout=30000)
