"""A real app process killed mid-edit: its autosaved work is offered at the next start and comes back
with the painted mask and the undo step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from inpaintstudio.document.io.recovery import RecoveryStore

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")


def wait_for_snapshot(proc: subprocess.Popen, folder: Path, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sidecars = list(folder.glob("*.json")) if folder.is_dir() else []
        if sidecars:  # the sidecar is written after the snapshot itself
            return sidecars[0]
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the app exited with {proc.returncode} before autosaving:\n{out}\n{err}")
        time.sleep(0.05)
    pytest.fail("no autosave appeared")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_work_of_a_killed_app_is_recovered_at_the_next_start(qtbot, dialogs, photo_path):
    home = Path(os.environ["INPAINTSTUDIO_HOME"])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", INPAINTSTUDIO_HOME=str(home))
    env["INPAINTSTUDIO_AUTOSAVE_SECONDS"] = "0.5"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(photo_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_snapshot(proc, home / "recovery", timeout=120)
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    painted = next(line for line in out.splitlines() if line.startswith("painted "))
    _, holes, labels = painted.split(" ", 2)
    assert labels == "Mask stroke" and int(holes) > 1000, out + err

    # The next start: a new window offers the snapshot, the user recovers it.
    from inpaintstudio.ui.app import start_session
    from inpaintstudio.ui.main_window import MainWindow

    [entry] = RecoveryStore().pending()
    assert entry.title == photo_path.name and entry.steps == 1
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    dialogs.recover = "recover"
    start_session(window, [])
    doc = window.doc
    assert dialogs.recover_prompts == [entry.describe()]
    assert doc is not None and doc.path == photo_path and doc.dirty
    assert int(doc.hole().sum()) == int(holes)
    assert doc.hole()[70, 120] and not doc.hole()[200, 40]
    assert doc.history.labels() == ["Mask stroke"]
    assert [window.history_panel.item(i).text() for i in range(window.history_panel.count())] == [
        f"Open {photo_path.name}",
        "Mask stroke",
    ]
    window.undo()
    assert not doc.hole().any(), "the recovered stroke undoes"
    window.redo()
    assert np.count_nonzero(doc.hole()) == int(holes)
    window.recovery.wait()
    assert RecoveryStore().pending() == [], "the killed run's snapshot was taken over by this one"
    dialogs.save_changes = "discard"
    window.close()
    window.bridge.shutdown()
    assert list((home / "recovery").glob("*.json")) == []
