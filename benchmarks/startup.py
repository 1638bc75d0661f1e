"""Question 5: start-up, from process start to the main window shown (target: at most 2 s).

Each run is a fresh interpreter that creates the application and the main window and waits until the
window is exposed; it also reports whether torch was imported (it must not be: learned models import
it lazily on their first fill).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import ROOT, Table, verdict

CHILD = """
import sys
from PySide6.QtTest import QTest
from inpaintstudio.ui.app import create_application
app = create_application()
from inpaintstudio.ui.main_window import MainWindow
window = MainWindow()
window.show()
QTest.qWaitForWindowExposed(window)
print("torch imported:", "torch" in sys.modules, flush=True)
"""


def run(device: str = "cpu", repeats: int = 5) -> list[Table]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["INPAINTSTUDIO_HOME"] = tempfile.mkdtemp(prefix="inpaintstudio-startup-")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    times, torch_loaded = [], False
    subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, check=True)  # warm the file cache
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        torch_loaded |= "torch imported: True" in out.stdout
    table = Table(
        f"Q5. Start-up to the main window shown ({env['QT_QPA_PLATFORM']} platform, {repeats} runs)",
        ["median s", "min s", "max s", "torch imported"],
    )
    table.add(statistics.median(times), min(times), max(times), "yes" if torch_loaded else "no")
    table.notes.append(verdict(statistics.median(times), 2.0))
    return [table]
