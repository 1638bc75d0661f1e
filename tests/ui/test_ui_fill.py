"""Fill through the worker: one history step, cancel, responsiveness, failures, stale requests."""

from __future__ import annotations

import threading
import time

import numpy as np
from conftest import drag
from PySide6.QtCore import QTimer

from inpaintstudio.document.document import Document
from inpaintstudio.engine.base import Inpainter
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
    from tests.images import gradient_photo

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


def test_patchmatch_shows_its_progress_and_stops_at_once_when_cancelled(window, qtbot):
    """A border extension of a 0.5-megapixel photo takes PatchMatch several seconds: the bar must move
    past the 5 % where the model starts, and Cancel must end it well under a second later."""
    from PIL import Image

    from inpaintstudio.paths import resources_dir

    photo = np.asarray(Image.open(resources_dir() / "sample.jpg").convert("RGB"))
    doc = Document(photo)
    window.set_document(doc)
    h, w = photo.shape[:2]
    doc.set_extent(Rect(-w // 3, 0, w + 2 * (w // 3), h))
    seen = []
    window.fills.fill("patchmatch")
    qtbot.waitUntil(lambda: seen.append(window.status.progress.value()) or 60 < seen[-1] < 1000, timeout=20000)
    assert window.fills.busy, "still searching: the progress came from the search, not from its end"
    assert window.status.task.text() == "PatchMatch: searching patches"
    started = time.perf_counter()
    window.status.cancel_button.click()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=20000)
    latency = time.perf_counter() - started
    assert latency < 0.5, f"the cancel took {latency:.2f} s"
    assert (doc.width, doc.height) == (w, h) and doc.history.labels() == ["Extend borders"]


class LoadingInpainter(Inpainter):
    """A learned model whose load() waits until the test lets it finish."""

    name = "test-loading"
    label = "Loading (test)"
    learned = True
    release = threading.Event()

    def load(self, ctx=None):  # noqa: ANN001, ANN201
        LoadingInpainter.release.wait(10)

    def inpaint(self, image, mask, sketch, ctx):  # noqa: ANN001, ANN201
        return np.full_like(image, 99)


def test_the_first_learned_fill_says_it_loads_the_model(window, small_doc, qtbot):
    """The bar is busy (not an empty bar) and the text says the model is loading until the fill starts."""
    from inpaintstudio.engine import registry

    LoadingInpainter.release.clear()
    registry.register(LoadingInpainter)
    try:
        window.model_panel.reload()
        paint_hole(small_doc)
        window.fills.fill(LoadingInpainter.name)
        qtbot.wait(300)
        bar, task = window.status.progress, window.status.task
        assert bar.maximum() == 0, "a busy bar while the model loads"
        assert "loading the model" in task.text()
        LoadingInpainter.release.set()
        qtbot.waitUntil(lambda: not window.fills.busy, timeout=10000)
        assert small_doc.history.labels() == ["Fill (test-loading)"]
        assert bar.maximum() == 1000, "the busy state ends with the fill"
        # the model is loaded now: the next fill does not claim to load it
        paint_hole(small_doc)
        window.fills.fill(LoadingInpainter.name)
        assert "loading the model" not in task.text() and "starting" in task.text()
        qtbot.waitUntil(lambda: not window.fills.busy, timeout=10000)
    finally:
        registry.unregister(LoadingInpainter.name)


def test_messages_neither_cover_nor_hide_the_progress(window, small_doc, slow_model, qtbot):
    """A tool's hint shown before a fill was drawn over the task text; one shown during it hid the bar."""
    status = window.status
    paint_hole(small_doc)
    window.set_tool("brush")  # a hint in the status bar for 8 s
    window.fills.fill(slow_model)
    qtbot.waitUntil(lambda: status.progress.value() > 0, timeout=5000)
    window.set_tool("hand")
    assert status.currentMessage() and status.progress.isVisible() and status.task.isVisible()
    # Qt draws the message left of the first visible permanent widget: the task must be one, not at the left.
    assert status.task.geometry().left() > 100, "the task text is not where the message is drawn"
    window.fills.cancel()
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=5000)
    assert not status.progress.isVisible() and not status.task.isVisible()
