"""Help > Keyboard shortcuts (F1): every shortcut of the menus, the comparison and the mouse, in a table.

The rows are read from the menus themselves, so a new action with a shortcut shows up here without
a list to keep in step; a table (not text padded with spaces) keeps the columns straight in any font.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inpaintstudio.ui.actions import plain_text

# What no action carries: the mouse and the keys held while dragging.
MOUSE_ROWS = (
    ("Alt + drag", "Erase with the mask brush, sketch or exclusion (paint with the eraser)"),
    ("Space or middle button + drag", "Pan"),
    ("Ctrl + wheel", "Zoom"),
    ("Wheel, Shift + wheel", "Scroll up and down, left and right"),
)


def key_text(action: QAction) -> str:
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def menu_sections(bar: QMenuBar) -> list[tuple[str, list[tuple[str, str]]]]:
    """(menu title, [(keys, action text)]) for every menu of ``bar`` with shortcuts, submenus included."""

    def rows(actions: Iterable[QAction]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for action in actions:
            if action.menu() is not None:
                found += rows(action.menu().actions())
            elif not action.isSeparator() and action.shortcuts():
                found.append((key_text(action), plain_text(action.text())))
        return found

    sections = []
    for top in bar.actions():
        if top.menu() is not None and (found := rows(top.menu().actions())):
            sections.append((plain_text(top.text()), found))
    return sections


class ShortcutsDialog(QDialog):
    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Key", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        bold = QFont(self.font())
        bold.setBold(True)
        title_font = QFont(bold)
        title_font.setPointSizeF(bold.pointSizeF() * 1.15)
        title_colour = self.palette().color(QPalette.ColorRole.Highlight)
        for title, rows in sections:
            heading = self._add_row(title, "")
            heading.setFont(title_font)
            heading.setForeground(title_colour)
            heading.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
            self.table.setSpan(self.table.rowCount() - 1, 0, 1, 2)
            for keys, text in rows:
                self._add_row(keys, text).setFont(bold)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        for row in range(self.table.rowCount()):
            if self.table.columnSpan(row, 0) == 2:  # a little room above each heading
                self.table.setRowHeight(row, self.table.rowHeight(row) + 10)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 760)

    def _add_row(self, keys: str, text: str) -> QTableWidgetItem:
        row = self.table.rowCount()
        self.table.insertRow(row)
        key_item = QTableWidgetItem(keys)
        self.table.setItem(row, 0, key_item)
        self.table.setItem(row, 1, QTableWidgetItem(text))
        return key_item

    def rows(self) -> list[tuple[str, str]]:
        """(key, action) of every shortcut row (headings left out)."""
        table = self.table
        return [
            (table.item(r, 0).text(), table.item(r, 1).text())
            for r in range(table.rowCount())
            if table.columnSpan(r, 0) == 1
        ]
