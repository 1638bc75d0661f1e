"""The model manager's table: one row per registered model (from :mod:`model_rows`), with its kind, sketch
and border support, working size, the state of its weights (the reason as tooltip), their size on disk,
licence and origin; and the lines shown under it about the selected model (:func:`details_text`)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from inpaintstudio.ui.icons import icon
from inpaintstudio.ui.model_rows import COLUMNS, STATES, ModelRow, megabytes, model_rows, partial_download

NAME_ROLE = Qt.ItemDataRole.UserRole


class ModelTable(QTableWidget):
    """Every registered model, one selectable row each; :meth:`reload` lists them again (keeping the
    selection)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.rows: list[ModelRow] = []
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setStyleSheet("QTableWidget { outline: 0; }")  # no dotted focus frame in a row-selecting table
        header = self.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Licence"), QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, tip in ((2, "Uses sketch strokes to guide where edges run"), (3, "Can extend the borders")):
            self.horizontalHeaderItem(column).setToolTip(tip)

    def reload(self) -> None:
        selected = self.selected_name()
        self.rows = model_rows()
        self.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            self._fill_row(index, row)
        self.horizontalHeader().resizeSection(COLUMNS.index("Licence"), 220)
        self.select(selected)

    def _fill_row(self, index: int, row: ModelRow) -> None:
        f, spec = row.fields, row.spec
        text, icon_key, colour = STATES.get(row.state, (row.state.capitalize(), "missing", "#e05555"))
        partial = partial_download(spec) if row.downloadable else None
        if partial:
            text += f" ({partial} downloaded)"
        message = str(f.get("message") or "")
        if row.state == "ready" and spec is not None:
            message = f"{spec.file}: size and sha256 check out"
        cells = [
            (row.label, f"<b>{row.label}</b> ({row.name})<br>{row.summary}"),
            (str(f["kind"]), ""),
            ("yes" if f["sketch"] else "", "Uses sketch strokes" if f["sketch"] else "No sketch guidance"),
            ("yes" if f["outpaint"] else "", "Can extend borders" if f["outpaint"] else "Cannot extend borders"),
            (str(row.working_size) if row.working_size else "any", "Crops are scaled to this side before filling"),
            (text, message or text),
            (megabytes(f.get("weights_size")), spec.file if spec else "no weights file"),
            (str(f.get("licence") or ""), str(f.get("licence") or "")),
            (str(f.get("origin") or ""), spec.url if spec and spec.url else str(f.get("origin") or "")),
        ]
        for column, (value, tip) in enumerate(cells):
            item = QTableWidgetItem(value)
            item.setData(NAME_ROLE, row.name)
            if tip:
                item.setToolTip(tip)
            self.setItem(index, column, item)
        status_item = self.item(index, COLUMNS.index("Weights"))
        status_item.setIcon(icon(icon_key, colour))
        status_item.setForeground(QColor(colour if row.state in ("missing", "damaged") else "#d7dae0"))
        for column in (2, 3):
            item = self.item(index, column)
            if item.text():
                item.setIcon(icon("capable"))
                item.setText("")
                item.setData(Qt.ItemDataRole.AccessibleTextRole, "yes")
        self.item(index, COLUMNS.index("Disk")).setTextAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )

    def row_of(self, name: str) -> ModelRow | None:
        return next((r for r in self.rows if r.name == name), None)

    def selected_name(self) -> str | None:
        items = self.selectedItems()
        return items[0].data(NAME_ROLE) if items else None

    def selected_row(self) -> ModelRow | None:
        name = self.selected_name()
        return None if name is None else self.row_of(name)

    def select(self, name: str | None) -> None:
        index = next((i for i, r in enumerate(self.rows) if r.name == name), None)
        if index is None:
            self.clearSelection()
        else:
            self.selectRow(index)


def details_text(row: ModelRow | None) -> str:
    """The lines under the table about the selected model (rich text): where its weights come from."""
    if row is None:
        return "<i>Select a model to see where its weights come from.</i>"
    e = html.escape
    spec, message = row.spec, str(row.fields.get("message") or "")
    lines = [f"<b>{e(row.label)}</b> ({e(row.name)}): {e(row.summary)}"]
    if spec is None:
        lines.append("No weights needed." if row.state == "no weights needed" else "")
    else:
        lines.append(
            f"Weights: {e(str(spec.path))} ({megabytes(spec.size)}, {spec.parameters:,} parameters), "
            f"sha256 {e(spec.sha256[:16])}..."
        )
        lines.append(f"Origin: {e(spec.origin or 'unknown')}; trained on: {e(spec.training_data or 'unknown')}")
        if spec.url:
            lines.append(f"Download address: {e(spec.url)} (Download fetches it, resuming a broken one)")
    if message and row.state not in ("ready", "no weights needed"):
        lines.append(f"<span style='color:#e0a040'>{e(message)}</span>")
    return "<br>".join(line for line in lines if line)
