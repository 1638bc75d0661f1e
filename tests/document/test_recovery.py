"""Crash recovery: a real app-like process killed mid-edit, stale-snapshot detection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from inpaintstudio import paths, processes
from inpaintstudio.document.brush import Brush
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import project
from inpaintstudio.document.io.recovery import RecoveryStore
from inpaintstudio.errors import ImageLoadError, InputError

STROKES = [[(20 + 40 * i, 30), (60 + 40 * i, 200), (90 + 30 * i, 120)] for i in range(6)]
SAVED_AFTER = 4  # the child autosaves after this many strokes, then paints on and is killed

CHILD = textwrap.dedent(
    """
    import sys, time
    from inpaintstudio.document.brush import Brush
    from inpaintstudio.document.document import Document
    from inpaintstudio.document.io.recovery import RecoveryStore

    strokes, saved_after = {strokes!r}, {saved_after}
    doc = Document.open(sys.argv[1])
    store = RecoveryStore()
    for i, points in enumerate(strokes):
        s = doc.begin_stroke("mask" if i % 3 else "sketch", Brush(14, 0.7), erase=(i == 2))
        for x, y in points:
            s.add_point(x, y)
        s.end()
        if i + 1 == saved_after:
            store.save(doc, "crashed-session")
            print("autosaved", flush=True)
    print("editing", flush=True)
    time.sleep(600)
    """
).format(strokes=STROKES, saved_after=SAVED_AFTER)


def paint(doc: Document, count: int) -> list[dict[str, np.ndarray]]:
    """The same strokes as the child; returns the layers after each step (index 0: before any)."""
    layers = [{k: v.copy() for k, v in doc.layers().items()}]
    for i, points in enumerate(STROKES[:count]):
        s = doc.begin_stroke("mask" if i % 3 else "sketch", Brush(14, 0.7), erase=(i == 2))
        for x, y in points:
            s.add_point(x, y)
        s.end()
        layers.append({k: v.copy() for k, v in doc.layers().items()})
    return layers


def test_a_killed_process_leaves_a_snapshot_that_restores_with_undo(photo_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(photo_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert proc.stdout.readline().strip() == "autosaved", proc.stderr.read() if proc.poll() else ""
        assert proc.stdout.readline().strip() == "editing"
        store = RecoveryStore()
        assert store.folder == paths.user_data_dir() / "recovery"
        assert store.pending() == [], "a snapshot of a running app is never offered"
        [(entry, running)] = store.entries()
        assert running and entry.pid == proc.pid
        proc.kill()  # SIGKILL on POSIX: no chance to clean up
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()

    [entry] = store.pending()
    assert entry.session_id == "crashed-session" and entry.pid == proc.pid
    assert entry.original_path == photo_path and entry.title == photo_path.name
    assert entry.steps == SAVED_AFTER and (entry.width, entry.height) == (384, 256)
    assert photo_path.name in entry.describe()

    doc = store.restore(entry)
    expected = paint(Document.open(photo_path), SAVED_AFTER)
    for name in ("image", "mask", "sketch"):
        assert np.array_equal(doc.layer(name), expected[-1][name]), name
    assert doc.mask.any() and doc.sketch.any()
    assert doc.dirty, "recovered work is unsaved work"
    assert doc.path == photo_path and doc.project_path is None
    for step in range(SAVED_AFTER - 1, -1, -1):  # undo every stored step, then redo them all
        assert doc.undo()
        assert np.array_equal(doc.mask, expected[step]["mask"])
        assert np.array_equal(doc.sketch, expected[step]["sketch"])
    assert not doc.undo() and not doc.dirty  # back at the photo as opened
    doc.jump_to(SAVED_AFTER)
    assert np.array_equal(doc.mask, expected[-1]["mask"])

    store.discard(entry)
    assert store.pending() == [] and not any(store.folder.iterdir())


def _snapshot(store: RecoveryStore, photo, session: str, **sidecar) -> None:
    doc = Document(photo[:40, :60])
    paint(doc, 1)
    store.save(doc, session)
    path = store.folder / f"{session}.json"
    info = json.loads(path.read_text())
    info.update(sidecar)
    path.write_text(json.dumps(info))


def test_stale_and_live_owners(tmp_path, photo):
    store = RecoveryStore(tmp_path / "rec")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(done.stdout)
    me = os.getpid()
    _snapshot(store, photo, "mine")  # this process: running
    _snapshot(store, photo, "dead", pid=dead_pid, timestamp=100.0)
    _snapshot(store, photo, "reused", process_start="linux:another-boot:1", timestamp=200.0)  # pid alive, not ours
    _snapshot(store, photo, "elsewhere", host="another-machine", timestamp=300.0)
    running = {e.session_id: r for e, r in store.entries()}
    assert running["mine"] is True
    pending = [e.session_id for e in store.pending()]
    if processes.process_start(me) is None:  # pragma: no cover - no way to read start times here
        pytest.skip("process start times cannot be read on this system")
    assert pending == ["elsewhere", "reused", "dead"], "newest first"
    assert all(e.pid == me for e in store.pending() if e.session_id != "dead")


def test_broken_sidecars_and_orphans_are_ignored(tmp_path, photo):
    store = RecoveryStore(tmp_path / "rec")
    _snapshot(store, photo, "good", pid=999_999_999)
    (store.folder / "junk.json").write_text("{not json")
    (store.folder / "other.json").write_text(json.dumps({"session_id": "../../etc", "pid": 1}))
    (store.folder / "orphan.inpaint").write_bytes(b"")  # no sidecar: never offered
    _snapshot(store, photo, "noproject", pid=999_999_999)
    (store.folder / "noproject.inpaint").unlink()
    stale_temp = store.folder / ".good.inpaint.abc123.part"
    stale_temp.write_bytes(b"half")
    os.utime(stale_temp, (1, 1))
    assert [e.session_id for e in store.pending()] == ["good"]
    assert not stale_temp.exists()
    with pytest.raises(InputError):
        store.save(Document(photo[:8, :8]), "../escape")
    with pytest.raises(InputError):
        store.discard("a/b")


def test_a_damaged_snapshot_gives_a_clear_error(tmp_path, photo):
    store = RecoveryStore(tmp_path / "rec")
    _snapshot(store, photo, "cut", pid=999_999_999)
    target = store.folder / "cut.inpaint"
    target.write_bytes(target.read_bytes()[:200])
    [entry] = store.pending()
    with pytest.raises(ImageLoadError, match="cut.inpaint"):
        store.restore(entry)


def test_saved_state_and_project_path_survive(tmp_path, photo):
    store = RecoveryStore(tmp_path / "rec")
    doc = Document(photo[:40, :60], path=tmp_path / "p.jpg")
    paint(doc, 2)
    project.save_project(doc, tmp_path / "work.inpaint")  # saved after two strokes
    doc.invert_mask()
    store.save(doc, "s1")
    info = json.loads((store.folder / "s1.json").read_text())
    assert info["title"] == "work.inpaint" and info["original_path"] == str(tmp_path / "p.jpg")
    entry = next(e for e, _ in store.entries())
    back = store.restore(entry)
    assert back.dirty and back.project_path == tmp_path / "work.inpaint"
    back.undo()
    assert not back.dirty, "undoing to the saved state makes it clean, as before the crash"


def test_autosave_snapshot_can_be_written_from_another_thread(tmp_path, photo):
    import threading

    store = RecoveryStore(tmp_path / "rec")
    doc = Document(photo[:40, :60])
    paint(doc, 2)
    snapshot = project.capture(doc)
    expected = doc.mask.copy()
    worker = threading.Thread(target=store.save, args=(snapshot, "t"))
    worker.start()
    paint(doc, 3)  # editing goes on meanwhile
    worker.join()
    back = store.restore(next(e for e, _ in store.entries()))
    assert np.array_equal(back.mask, expected)
