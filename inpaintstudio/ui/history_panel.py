"""The history panel: every step of the document's undo history; a click jumps to that state."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from inpaintstudio.document.document import Change, Document

UNDONE = QColor(120, 124, 132)


class HistoryPanel(QListWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.setToolTip("Click a step to go back (or forward) to it")
        self.itemClicked.connect(self._on_click)

    def set_document(self, doc: Document | None) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.doc = doc
        if doc is not None:
            self._unsubscribe = doc.subscribe(self._on_change)
        self.rebuild()

    def _on_change(self, change: Change) -> None:
        if change.kind == "history":
            self.rebuild()

    def rebuild(self) -> None:
        self.blockSignals(True)
        self.clear()
        doc = self.doc
        if doc is not None:
            name = doc.path.name if doc.path else "image"
            labels = [f"Open {name}", *doc.history.labels()]
            position = doc.history.position
            italic = QFont(self.font())
            italic.setItalic(True)
            for row, label in enumerate(labels):
                item = QListWidgetItem(label)
                if row > position:  # undone steps, still reachable with redo
                    item.setForeground(QBrush(UNDONE))
                    item.setFont(italic)
                self.addItem(item)
            self.setCurrentRow(position)
            self.scrollToItem(self.item(position), QListWidget.ScrollHint.EnsureVisible)
        self.blockSignals(False)

    def _on_click(self, item: QListWidgetItem) -> None:
        if self.doc is not None:
            self.doc.jump_to(self.row(item))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self._on_click(self.currentItem())
