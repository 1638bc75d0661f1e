"""Time from starting the interpreter to the app's window being shown (and whether torch got imported).

python scripts/startup_time.py [--runs 5]        (uses QT_QPA_PLATFORM, default offscreen)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["INPAINTSTUDIO_HOME"] = tempfile.mkdtemp(prefix="inpaintstudio-startup-")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
        line = next(line for line in out.stdout.splitlines() if line.startswith("torch imported"))
    print(
        f"window shown after {statistics.median(times) * 1000:.0f} ms (median of {args.runs}; min {min(times) * 1000:.0f} ms); {line}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
