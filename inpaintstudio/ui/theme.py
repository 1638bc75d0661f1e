"""The dark theme: Fusion with a dark palette, plus resources/style.qss for the finishing touches."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from inpaintstudio.paths import resources_dir

STYLESHEET = "style.qss"
COLOURS = {
    QPalette.ColorRole.Window: "#2b2d31",
    QPalette.ColorRole.WindowText: "#d7dae0",
    QPalette.ColorRole.Base: "#1f2124",
    QPalette.ColorRole.AlternateBase: "#26282c",
    QPalette.ColorRole.ToolTipBase: "#1f2124",
    QPalette.ColorRole.ToolTipText: "#e6e8ec",
    QPalette.ColorRole.Text: "#d7dae0",
    QPalette.ColorRole.Button: "#35383e",
    QPalette.ColorRole.ButtonText: "#d7dae0",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#4fa3ff",
    QPalette.ColorRole.PlaceholderText: "#80858f",
}
DISABLED = {
    QPalette.ColorRole.WindowText: "#6b7079",
    QPalette.ColorRole.Text: "#6b7079",
    QPalette.ColorRole.ButtonText: "#6b7079",
}


def stylesheet() -> str:
    try:
        return (resources_dir() / STYLESHEET).read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role, colour in DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet())
