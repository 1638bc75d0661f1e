"""The real app in a child process, for test_ui_crash_recovery.py: open a photo, paint one mask stroke
with real mouse events, then keep running (autosaving) until the test kills it.

Usage: python crash_child.py PHOTO   (with INPAINTSTUDIO_HOME and INPAINTSTUDIO_AUTOSAVE_SECONDS set)
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

STROKE = [(60.0, 60.0), (120.0, 70.0), (200.0, 110.0)]  # image coordinates


def main(photo: str) -> int:
    from inpaintstudio.ui.app import create_application

    app = create_application()
    from inpaintstudio.ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1000, 700)
    window.show()
    QTest.qWaitForWindowExposed(window)
    if not window.files.open_path(photo):
        return 2
    app.processEvents()
    window.set_tool("brush")
    window.brush_panel.size.set_value(24)
    canvas = window.canvas.viewport()

    def at(x: float, y: float) -> QPoint:
        return window.canvas.transform.to_view(x, y).toPoint()

    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*STROKE[0]))
    for point in STROKE[1:]:
        QTest.mouseMove(canvas, at(*point))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*STROKE[-1]))
    doc = window.doc
    print(f"painted {int(doc.hole().sum())} {'|'.join(doc.history.labels())}", flush=True)
    window.recovery.autosaved.connect(lambda path: print(f"autosaved {path}", flush=True))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
