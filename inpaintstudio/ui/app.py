"""Starting the app: ``inpaintstudio [IMAGE]`` (see cli.py) ends up in :func:`main`.

Start-up stays light: no torch here (learned models import it on their first fill, on the worker).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from inpaintstudio.ui.theme import apply_theme

if TYPE_CHECKING:
    from inpaintstudio.ui.main_window import MainWindow


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv or [sys.argv[0]])
    app.setApplicationName("InpaintStudio")
    app.setOrganizationName("InpaintStudio")
    apply_theme(app)
    return app  # type: ignore[return-value]


def main(files: list[str]) -> int:
    """Open the window (with the first of ``files``, if any) and run until it is closed."""
    from inpaintstudio.errors import InpaintStudioError
    from inpaintstudio.ui.qtcompat import binding_problem

    problem = binding_problem()
    if problem:
        raise InpaintStudioError(problem)
    app = create_application()
    from inpaintstudio.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    QTimer.singleShot(0, lambda: start_session(window, files))
    return int(app.exec())


def start_session(window: MainWindow, files: list[str]) -> None:
    """Once the window shows: offer unsaved work a crashed or killed run left, then open ``files[0]``."""
    window.recovery.offer_pending()
    if files:
        window.files.open_path(files[0])
