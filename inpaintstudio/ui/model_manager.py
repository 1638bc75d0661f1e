"""The model manager (Fill > Manage Models...): every registered model with its capabilities and weights.

The table shows what ``inpaintstudio models`` lists (rows from :mod:`model_rows`): kind, sketch and
border support, working size, the state of the weights (ready / missing / damaged / no weights needed,
the reason as tooltip), their size on disk, licence and origin. The buttons verify weights (sha256),
import a public checkpoint as a variant of a family, remove an imported variant, and download weights
from the address in their manifest entry (progress, Cancel, resumable, sha256-checked). Slow work runs
as jobs on a worker of the dialog's own (a :class:`~inpaintstudio.ui.worker_bridge.WorkerBridge`: the
convention of fills, progress and cancel through the job's context and handle), not on the GUI thread
nor the fill worker, so a long download never delays a fill; the dialog is not modal, so editing goes
on meanwhile. Every failure ends in a message and the app goes on. After a change the registry is
refreshed and ``models_changed`` has the window list the models again, so a model without usable
weights can never be chosen for a fill.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inpaintstudio.engine import registry, weights
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.runner import JobRunner
from inpaintstudio.ui import messages
from inpaintstudio.ui.icons import icon
from inpaintstudio.ui.model_rows import COLUMNS, STATES, ModelRow, megabytes, model_rows, partial_download
from inpaintstudio.ui.settings import AppSettings
from inpaintstudio.ui.worker_bridge import JobHandle, WorkerBridge, describe_error

NAME_ROLE = Qt.ItemDataRole.UserRole
# What a finished job hands on: (its value or None, the failure message or None, whether it was cancelled).
OnDone = Callable[[Any, "str | None", bool], None]


def byte_progress(ctx: JobContext) -> Callable[[int, int | None], None]:
    """A download's (done, total) bytes reported as the job's progress: the fraction, and the megabytes in
    the message once there are more than a few chunks to speak of."""

    def report(done: int, total: int | None) -> None:
        if total:
            ctx.progress(done / total, f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total > 1 << 16 else "")
        else:
            ctx.progress(0.0, f"{done / 1e6:.1f} MB" if done > 1 << 16 else "")

    return report


class ModelManagerDialog(QDialog):
    models_changed = Signal()  # weights were imported, removed, downloaded or checked: list the models again

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Manage Models")
        self.setObjectName("modelManager")
        self.resize(1180, 520)
        self.rows: list[ModelRow] = []
        self.jobs = WorkerBridge(self, JobRunner("model-manager"))
        self.job: JobHandle | None = None  # the running job (one at a time)
        self._task_text = ""
        self._close_when_done = False

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setStyleSheet("QTableWidget { outline: 0; }")  # no dotted focus frame in a row-selecting table
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Licence"), QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, tip in ((2, "Uses sketch strokes to guide where edges run"), (3, "Can extend the borders")):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.details = QLabel()
        self.details.setObjectName("modelDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setMinimumHeight(4 * self.details.fontMetrics().lineSpacing() + 8)

        self.buttons: dict[str, QPushButton] = {}
        button_row = QHBoxLayout()
        for key, text, tip, slot in (
            ("verify", "Verify", "Check the sha256 of the selected model's weights", self.verify_selected),
            ("verify_all", "Verify All", "Check the sha256 of every installed weights file", self.verify_all),
            ("import", "Import...", "Import a public checkpoint (.pth / .safetensors) as a model", self.import_file),
            ("remove", "Remove", "Remove the selected imported model and its weights file", self.remove_selected),
            ("download", "Download", "Download the selected model's weights (resumes an interrupted one)", self.download_selected),
        ):  # fmt: skip
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, s=slot: s())
            button_row.addWidget(button)
            self.buttons[key] = button
        button_row.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        button_row.addWidget(self.close_button)

        self.status = QLabel()
        self.status.setObjectName("modelManagerStatus")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel_task)
        task_row = QHBoxLayout()
        task_row.addWidget(self.progress)
        task_row.addWidget(self.cancel_button)
        task_row.addWidget(self.status, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(task_row)
        layout.addLayout(button_row)
        self._set_busy(False)

    # -- the table -------------------------------------------------------------------------------------
    def reload(self) -> None:
        selected = self.selected_name()
        self.rows = model_rows()
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            self._fill_row(index, row)
        self.table.horizontalHeader().resizeSection(COLUMNS.index("Licence"), 220)
        self.select(selected)
        self._update_buttons()

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
            self.table.setItem(index, column, item)
        status_item = self.table.item(index, COLUMNS.index("Weights"))
        status_item.setIcon(icon(icon_key, colour))
        status_item.setForeground(QColor(colour if row.state in ("missing", "damaged") else "#d7dae0"))
        for column in (2, 3):
            item = self.table.item(index, column)
            if item.text():
                item.setIcon(icon("capable"))
                item.setText("")
                item.setData(Qt.ItemDataRole.AccessibleTextRole, "yes")
        self.table.item(index, COLUMNS.index("Disk")).setTextAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )

    def row_of(self, name: str) -> ModelRow | None:
        return next((r for r in self.rows if r.name == name), None)

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(NAME_ROLE) if items else None

    def selected_row(self) -> ModelRow | None:
        name = self.selected_name()
        return None if name is None else self.row_of(name)

    def select(self, name: str | None) -> None:
        index = next((i for i, r in enumerate(self.rows) if r.name == name), None)
        if index is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(index)

    def _update_buttons(self) -> None:
        row, busy = self.selected_row(), self.busy
        self.buttons["verify"].setEnabled(not busy and row is not None and row.spec is not None)
        self.buttons["verify_all"].setEnabled(not busy)
        self.buttons["import"].setEnabled(not busy and any(r.family for r in self.rows))
        self.buttons["remove"].setEnabled(not busy and row is not None and row.removable)
        self.buttons["download"].setEnabled(not busy and row is not None and row.downloadable)
        self._show_details(row)

    def _show_details(self, row: ModelRow | None) -> None:
        if row is None:
            self.details.setText("<i>Select a model to see where its weights come from.</i>")
            return
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
        self.details.setText("<br>".join(line for line in lines if line))

    # -- verify ----------------------------------------------------------------------------------------
    def verify_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._verify([row])

    def verify_all(self) -> None:
        self._verify([r for r in self.rows if r.fields["kind"] == "learned"])

    def _verify(self, rows: list[ModelRow]) -> None:

        specs = [(r.name, r.spec) for r in rows]

        def work(ctx: JobContext) -> list[tuple[str, str, str]]:
            results = []
            for index, (name, spec) in enumerate(specs):
                ctx.progress(index / len(specs))
                ctx.check_cancelled()
                if spec is None:
                    results.append((name, "missing", "no weights are installed"))
                else:
                    results.append((name, *weights.check_file(spec)))
            ctx.progress(1.0)
            return results

        self._start("Checking sha256...", work, self._verified, cancellable=True)

    def _verified(self, results: list[tuple[str, str, str]] | None, error: str | None, cancelled: bool) -> None:
        self._changed(refresh_registry=False)
        if error is not None:
            messages.error(self, "Verify weights", error)
            return
        if cancelled:
            self.status.setText("Checking cancelled.")
            return
        if not results:
            self.status.setText("Nothing to check: no learned model is selected.")
            return
        bad = sum(state != "OK" for _name, state, _detail in results)
        self.status.setText("All weights check out." if not bad else f"{bad} model(s) have missing or damaged weights.")
        text = "\n".join(f"{name}: {state} - {detail}" for name, state, detail in results)
        messages.info(self, "Verify weights", text)

    # -- import and remove -----------------------------------------------------------------------------
    def import_file(self) -> None:
        from inpaintstudio.engine import checkpoint_import

        families = {r.name: f"As {r.label}" for r in self.rows if r.family}
        if not families:
            messages.error(self, "Import checkpoint", "No installed model family can import checkpoints.")
            return
        folder = self.settings.last_folder
        path = messages.ask_open_path(self, folder, "Import a checkpoint", messages.CHECKPOINT_FILTER)
        if not path:
            return
        source = Path(path)
        family = messages.choose(
            self, "Import checkpoint", f"Import {source.name} as a variant of which model family?", families
        )
        if family is None:
            return
        name = messages.ask_text(
            self,
            "Import checkpoint",
            "Name of the new model (lower-case letters, digits, '.', '_', '-'):",
            checkpoint_import.default_name(source),
        )
        if not name:
            return
        existing = self.row_of(name)
        if existing is not None and existing.removable:
            if not messages.confirm(self, "Import checkpoint", f"Replace the imported model '{name}'?", "Replace"):
                return

        def work(_ctx: JobContext) -> weights.WeightsSpec:
            spec = checkpoint_import.import_checkpoint(source, family, name)
            weights.verify(spec)  # hash it here, so listing it on the GUI thread is instant
            return spec

        self._start(f"Importing {source.name}...", work, self._imported, cancellable=False)

    def _imported(self, spec: weights.WeightsSpec | None, error: str | None, _cancelled: bool) -> None:
        if spec is None:  # failed (an import cannot be cancelled)
            messages.error(self, "Cannot import the checkpoint", error or "the import was stopped")
            return
        self._changed()
        self.select(spec.model)
        self.status.setText(f"Imported '{spec.model}' ({spec.parameters:,} parameters); it can be used for fills now.")

    def remove_selected(self) -> None:
        from inpaintstudio.engine import checkpoint_import

        row = self.selected_row()
        if row is None or not row.removable or row.spec is None:
            return
        text = (
            f"Remove the imported model '{row.name}'?\n\n"
            f"Its weights file {row.spec.file} ({megabytes(row.spec.size)}) is deleted."
        )
        if not messages.confirm(self, "Remove model", text, "Remove"):
            return
        try:
            checkpoint_import.remove_imported(row.name)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            messages.error(self, "Cannot remove the model", describe_error(exc))
            return
        self._changed()
        self.status.setText(f"Removed '{row.name}'.")

    # -- download --------------------------------------------------------------------------------------
    def download_selected(self) -> None:
        from inpaintstudio.engine import download

        row = self.selected_row()
        if row is None or not row.downloadable:
            return
        name = row.name

        def work(ctx: JobContext) -> weights.WeightsSpec:
            spec = download.install(name, progress=byte_progress(ctx), cancel=ctx.cancel_event)
            weights.verify(spec)
            return spec

        self._start(f"Downloading {name}...", work, lambda *outcome: self._downloaded(name, *outcome))

    def _downloaded(self, name: str, spec: weights.WeightsSpec | None, error: str | None, cancelled: bool) -> None:
        self._changed()
        if cancelled:
            self.status.setText(f"Download of '{name}' cancelled; the part downloaded is kept, Download resumes it.")
        elif error is not None:
            self.status.setText(f"Download of '{name}' failed.")
            messages.error(self, "Download failed", error)
        else:
            self.select(name)
            self.status.setText(f"Downloaded '{name}' ({megabytes(spec.size)}); sha256 verified, ready to use.")

    # -- the worker thread -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None

    def _start(
        self, text: str, work: Callable[[JobContext], Any], on_done: OnDone, *, cancellable: bool = True
    ) -> None:
        """Run ``work`` as this dialog's one job; ``on_done`` follows on the GUI thread. Nothing starts while
        another job runs (the buttons are disabled then)."""
        if self.busy:
            return
        job = self.job = self.jobs.submit(work)

        def done(result: Any = None, error: str | None = None, cancelled: bool = False) -> None:
            self.job = None
            self._set_busy(False)
            on_done(result, error, cancelled)
            if self._close_when_done:
                self._close_when_done = False
                super(ModelManagerDialog, self).reject()

        job.progress.connect(self._on_progress)
        job.finished.connect(lambda result: done(result))
        job.failed.connect(lambda message: done(error=message))
        job.cancelled.connect(lambda: done(cancelled=True))
        self._set_busy(True, text, cancellable)

    def _set_busy(self, busy: bool = False, text: str = "", cancellable: bool = False) -> None:
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0 if busy else 1000)  # indeterminate until the first progress report
        self.cancel_button.setVisible(busy and cancellable)
        self.close_button.setEnabled(not busy or cancellable)
        if busy:
            self.status.setText(text)
            self._task_text = text
        self._update_buttons()

    def _on_progress(self, fraction: float, message: str) -> None:
        if not self.busy:
            return
        if fraction > 0:  # the bar is a busy indicator until something is counted
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * min(1.0, fraction)))
        if message:
            self.status.setText(f"{self._task_text} {message}")

    def cancel_task(self, wait: float = 0.0) -> None:
        """Ask the running job to stop (downloads stop between chunks; the part is kept); optionally wait
        up to ``wait`` seconds for its worker to be idle."""
        if self.job is not None:
            self.job.cancel()
        if wait:
            self.jobs.runner.wait_idle(wait)

    def _changed(self, *, refresh_registry: bool = True) -> None:
        if refresh_registry:
            registry.refresh()
        self.reload()
        self.models_changed.emit()

    # -- closing ---------------------------------------------------------------------------------------
    def reject(self) -> None:
        if self.busy:  # a download stops (and the dialog closes) at once; import and verify are short
            if self.cancel_button.isVisible():
                self.cancel_task()
                self._close_when_done = True
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self.busy:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)
