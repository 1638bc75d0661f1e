"""Start-up stays light: showing the window does not import torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from inpaintstudio.ui.app import create_application
app = create_application()
from inpaintstudio.ui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
assert window.model_panel.infos, "the model list is filled"
print("torch" in sys.modules)
"""


def test_showing_the_window_does_not_import_torch(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", INPAINTSTUDIO_HOME=str(tmp_path))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
