"""Autosave in the app (after a fill, after the interval, off the GUI thread; removed after a save or a
close) and the recover-on-start prompt (Recover, Discard, Later, a damaged snapshot)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import drag

from inpaintstudio.document.document import Document
from inpaintstudio.document.io.recovery import RecoveryStore
from inpaintstudio.errors import ImageSaveError
from inpaintstudio.ui.recovery_controller import INTERVAL_ENV, autosave_interval
from tests.images import gradient_photo


def snapshot_path(window):  # noqa: ANN001, ANN201
    rec = window.recovery
    return rec.store.folder / f"{rec.session}.inpaint"


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "2.5")
    assert autosave_interval() == 2.5
    for bad in ("", "soon", "-1", "0", "nan"):
        monkeypatch.setenv(INTERVAL_ENV, bad)
        assert autosave_interval() == 30.0


def test_a_fill_is_autosaved_at_once_off_the_gui_thread(window, small_doc, qtbot, monkeypatch):
    window.recovery.policy.interval = 3600.0  # only the fill can trigger it
    store = window.recovery.store
    threads = []
    original_save = store.save

    def recording_save(doc, session_id):  # noqa: ANN001, ANN202
        threads.append(threading.current_thread())
        return original_save(doc, session_id)

    monkeypatch.setattr(store, "save", recording_save)
    window.model_panel.select("telea")
    drag(window, [(60, 60), (100, 60)])
    qtbot.wait(200)
    assert not snapshot_path(window).exists(), "a stroke waits for the interval"
    window.fills.fill("telea")
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=10000)
    qtbot.waitUntil(lambda: window.status.autosave.text().startswith("Autosaved"), timeout=10000)
    assert snapshot_path(window).is_file()
    assert threads and all(t is not threading.main_thread() for t in threads)
    [(entry, running)] = store.entries()
    assert running and store.pending() == [], "a running app's snapshot is never offered"
    restored = store.restore(entry)
    assert restored.history.labels() == ["Mask stroke", "Fill (telea)"]
    assert np.array_equal(restored.image, small_doc.image)


def test_autosave_after_the_interval_then_removed_by_a_save(qtbot, monkeypatch, dialogs, tmp_path):
    from inpaintstudio.ui.main_window import MainWindow

    monkeypatch.setenv(INTERVAL_ENV, "0.4")
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    window.set_document(Document(gradient_photo()))
    assert window.recovery.policy.interval == 0.4
    started = time.monotonic()
    drag(window, [(30, 30), (90, 80)])
    qtbot.waitUntil(lambda: window.status.autosave.isVisibleTo(window.status), timeout=10000)
    assert snapshot_path(window).is_file()
    assert time.monotonic() - started >= 0.35
    dialogs.save_path = str(tmp_path / "saved.png")
    assert window.files.save_as()
    qtbot.waitUntil(lambda: not snapshot_path(window).exists(), timeout=5000)
    assert not window.status.autosave.isVisibleTo(window.status)
    window.close()
    window.bridge.shutdown()


def test_closing_without_saving_removes_the_snapshot(window, small_doc, qtbot, dialogs):
    drag(window, [(30, 30), (90, 80)])
    assert window.recovery.autosave_now()
    qtbot.waitUntil(snapshot_path(window).is_file, timeout=10000)
    dialogs.save_changes = "discard"
    assert window.close()
    assert not snapshot_path(window).exists(), "close waits for the writer, then removes it"
    assert list(window.recovery.store.folder.iterdir()) == []


def test_undoing_back_to_the_saved_state_removes_the_snapshot(window, small_doc, qtbot):
    drag(window, [(30, 30), (90, 80)])
    window.recovery.autosave_now()
    qtbot.waitUntil(snapshot_path(window).is_file, timeout=10000)
    window.undo()
    assert not small_doc.dirty
    qtbot.waitUntil(lambda: not snapshot_path(window).exists(), timeout=5000)
    assert not window.recovery.policy.pending


def test_a_failing_autosave_says_so_and_tries_again_later(window, small_doc, qtbot, monkeypatch):
    def full_disk(*args):  # noqa: ANN002, ANN202
        raise ImageSaveError("cannot save: No space left on device")

    monkeypatch.setattr(window.recovery.store, "save", full_disk)
    drag(window, [(30, 30), (90, 80)])
    window.recovery.autosave_now()
    qtbot.waitUntil(lambda: window.status.autosave.text() == "Autosave failed", timeout=5000)
    assert "No space left" in window.status.autosave.toolTip()
    assert window.recovery.policy.pending, "the changes are still waiting for a snapshot"
    assert window.recovery.timer.isActive()


# -- recovery at start -------------------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def crashed_snapshot(session: str = "crashed") -> tuple[RecoveryStore, Document]:
    """A snapshot whose writer is gone, as a killed app leaves it: three steps, the last one undone."""
    doc = Document(gradient_photo(), path=None)
    for rect in ((10, 10, 30, 20), (50, 40, 30, 30), (100, 80, 20, 20)):
        x, y, w, h = rect
        binary = doc.hole().copy()
        binary[y : y + h, x : x + w] = True
        doc.set_binary_layer("mask", binary, "Load mask")
    doc.undo()
    store = RecoveryStore()
    store.save(doc, session)
    sidecar = store.folder / f"{session}.json"
    info = json.loads(sidecar.read_text())
    info.update(pid=dead_pid(), process_start=None)
    sidecar.write_text(json.dumps(info))
    return store, doc


def test_recover_restores_the_document_with_its_history(window, dialogs, qtbot):
    store, original = crashed_snapshot()
    dialogs.recover = "recover"
    doc = window.recovery.offer_pending()
    assert dialogs.recover_prompts and "160x120" in dialogs.recover_prompts[0]
    assert doc is window.doc and doc.dirty and window.isWindowModified()
    assert np.array_equal(doc.mask, original.mask)
    assert doc.history.labels() == ["Load mask"] * 3 and doc.history.position == 2
    assert window.history_panel.count() == 4
    window.redo()
    assert doc.hole()[85, 105]
    # Now kept under this run's session; the crashed run's files are gone.
    qtbot.waitUntil(lambda: not (store.folder / "crashed.json").exists(), timeout=5000)
    assert snapshot_path(window).is_file()
    assert store.pending() == []


def test_discard_deletes_and_later_keeps_the_snapshot(window, dialogs):
    store, _ = crashed_snapshot()
    dialogs.recover = "later"
    assert window.recovery.offer_pending() is None
    assert [e.session_id for e in store.pending()] == ["crashed"] and window.doc is None
    dialogs.recover = "discard"
    assert window.recovery.offer_pending() is None
    assert store.pending() == [] and list(store.folder.iterdir()) == []
    assert window.doc is None and dialogs.errors == []


def test_a_damaged_snapshot_is_reported_and_can_be_deleted(window, dialogs, small_doc):
    store, _ = crashed_snapshot()
    (store.folder / "crashed.inpaint").write_bytes(b"PK\x03\x04 garbage")
    dialogs.recover = "recover"
    dialogs.confirm = False
    assert window.recovery.offer_pending() is None
    assert "cannot be recovered" in dialogs.confirms[-1]
    assert window.doc is small_doc, "the open document stays"
    assert store.pending(), "kept when the user says no"
    dialogs.confirm = True
    window.recovery.offer_pending()
    assert store.pending() == []


@pytest.mark.parametrize("answer", ["later", "recover"])
def test_start_offers_recovery_before_opening_the_command_line_file(qtbot, monkeypatch, dialogs, tmp_path, answer):
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from inpaintstudio.ui import app as app_module
    from inpaintstudio.ui.main_window import MainWindow

    crashed_snapshot()
    photo = tmp_path / "cli.png"
    Image.fromarray(gradient_photo(50, 40)).save(photo)
    dialogs.recover = answer
    dialogs.save_changes = "cancel"  # the recovered work must not be thrown away for the file
    shown: list[MainWindow] = []
    original_show = MainWindow.show
    monkeypatch.setattr(MainWindow, "show", lambda self: (shown.append(self), original_show(self)))
    seen = {}

    def fake_exec(self):  # noqa: ANN001, ANN202
        window = shown[0]
        qtbot.waitUntil(lambda: bool(dialogs.recover_prompts) and window.doc is not None, timeout=5000)
        qtbot.wait(50)
        seen["size"] = (window.doc.width, window.doc.height)
        seen["prompts"] = list(dialogs.save_prompts)
        window.recovery.wait()
        dialogs.save_changes = "discard"
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert app_module.main([str(photo)]) == 0
    assert seen["size"] == ((50, 40) if answer == "later" else (160, 120))
    assert seen["prompts"] == ([] if answer == "later" else ["the pasted image"])
