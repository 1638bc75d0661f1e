"""The status bar: messages, fill progress with a Cancel button, autosave time, cursor position, zoom, size."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from inpaintstudio.ui.icons import icon


class StatusBar(QStatusBar):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(180)
        self.progress.setTextVisible(False)
        self.task = QLabel()
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setToolTip("Stop the running fill (Esc)")
        self.cancel_button.setObjectName("cancelFillButton")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.autosave = QLabel()
        self.autosave.setObjectName("autosaveLabel")
        self.position = QLabel()
        self.zoom = QLabel()
        self.size = QLabel()
        for label, width in ((self.position, 110), (self.zoom, 60), (self.size, 110)):
            label.setMinimumWidth(width)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # All permanent (right-aligned): a normal widget shares the left with temporary messages, so a tool's
        # hint shown before a fill was drawn over the task text, and one shown during it hid the progress.
        self._busy_widgets = (self.task, self.progress, self.cancel_button)
        for widget in (*self._busy_widgets, self.autosave, self.position, self.zoom, self.size):
            self.addPermanentWidget(widget)
        self.set_busy(False)
        self.set_autosave("")

    def set_busy(self, busy: bool, text: str = "") -> None:
        """Show (or hide) the task, its progress and Cancel. The bar is a busy indicator until the first
        progress above zero: a model that is still loading has nothing to count yet."""
        for widget in self._busy_widgets:
            widget.setVisible(busy)
        self.task.setText(text)
        self.progress.setRange(0, 0 if busy else 1000)
        self.progress.setValue(0)

    def set_progress(self, fraction: float, text: str) -> None:
        if fraction > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(fraction * 1000))
        if text:
            self.task.setText(text)

    def set_autosave(self, text: str, tip: str = "") -> None:
        """The quiet note of the last autosave ("Autosaved 14:02"); empty when there is nothing to recover."""
        self.autosave.setText(text)
        self.autosave.setToolTip(tip)
        self.autosave.setVisible(bool(text))

    def set_position(self, point: tuple[float, float] | None) -> None:
        self.position.setText("" if point is None else f"{int(point[0])}, {int(point[1])}")

    def set_zoom(self, scale: float) -> None:
        self.zoom.setText(f"{scale * 100:.0f} %" if scale >= 0.1 else f"{scale * 100:.1f} %")

    def set_size(self, width: int, height: int, extended: tuple[int, int] | None = None) -> None:
        """The photo's size; ``extended``: the size the borders being extended give once filled."""
        text = f"{width} x {height}" if width else ""
        tip = "The photo's size in pixels" if width else ""
        if width and extended is not None:
            text += f" → {extended[0]} x {extended[1]}"
            tip = f"The photo is {width} x {height} pixels; Fill extends it to {extended[0]} x {extended[1]}"
        self.size.setText(text)
        self.size.setToolTip(tip)
