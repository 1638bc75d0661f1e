"""The model manager (Fill > Manage Models...): every registered model with its capabilities and weights.

The dialog composes two parts: the table (:mod:`model_table`) shows what ``inpaintstudio models`` lists:
kind, sketch and border support, working size, the state of the weights (ready / missing / damaged / no
weights needed, the reason as tooltip), their size on disk, licence and origin; the operations
(:mod:`model_operations`) verify weights (sha256), import a public checkpoint as a variant of a family,
remove an imported variant, and download weights from the address in their manifest entry (progress,
Cancel, resumable, sha256-checked), the slow ones as jobs on a worker of their own, so a long download
never delays a fill. The dialog asks what to do, shows the running job's progress and the outcome; it is
not modal, so editing goes on meanwhile. Every failure ends in a message and the app goes on. After a change the registry is
refreshed and ``models_changed`` has the window list the models again, so a model without usable
weights can never be chosen for a fill.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from inpaintstudio.engine import registry, weights
from inpaintstudio.ui import messages
from inpaintstudio.ui.icons import icon
from inpaintstudio.ui.model_operations import ModelOperations, OnDone
from inpaintstudio.ui.model_rows import COLUMNS, ModelRow, megabytes
from inpaintstudio.ui.model_table import ModelTable, details_text
from inpaintstudio.ui.settings import AppSettings
from inpaintstudio.ui.worker_bridge import JobHandle, describe_error

__all__ = ["COLUMNS", "ModelManagerDialog"]


class ModelManagerDialog(QDialog):
    models_changed = Signal()  # weights were imported, removed, downloaded or checked: list the models again

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Manage Models")
        self.setObjectName("modelManager")
        self.resize(1180, 520)
        self.operations = ModelOperations(self)
        self._task_text = ""
        self._close_when_done = False

        self.table = ModelTable()
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
    @property
    def rows(self) -> list[ModelRow]:
        return self.table.rows

    def reload(self) -> None:
        self.table.reload()
        self._update_buttons()

    def row_of(self, name: str) -> ModelRow | None:
        return self.table.row_of(name)

    def selected_name(self) -> str | None:
        return self.table.selected_name()

    def selected_row(self) -> ModelRow | None:
        return self.table.selected_row()

    def select(self, name: str | None) -> None:
        self.table.select(name)

    def _update_buttons(self) -> None:
        row, busy = self.selected_row(), self.busy
        self.buttons["verify"].setEnabled(not busy and row is not None and row.spec is not None)
        self.buttons["verify_all"].setEnabled(not busy)
        self.buttons["import"].setEnabled(not busy and any(r.family for r in self.rows))
        self.buttons["remove"].setEnabled(not busy and row is not None and row.removable)
        self.buttons["download"].setEnabled(not busy and row is not None and row.downloadable)
        self.details.setText(details_text(row))

    # -- verify ----------------------------------------------------------------------------------------
    def verify_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self._verify([row])

    def verify_all(self) -> None:
        self._verify([r for r in self.rows if r.fields["kind"] == "learned"])

    def _verify(self, rows: list[ModelRow]) -> None:
        job = self.operations.verify([(r.name, r.spec) for r in rows], self._ended(self._verified))
        self._track(job, "Checking sha256...", cancellable=True)

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

        job = self.operations.import_checkpoint(source, family, name, self._ended(self._imported))
        self._track(job, f"Importing {source.name}...", cancellable=False)

    def _imported(self, spec: weights.WeightsSpec | None, error: str | None, _cancelled: bool) -> None:
        if spec is None:  # failed (an import cannot be cancelled)
            messages.error(self, "Cannot import the checkpoint", error or "the import was stopped")
            return
        self._changed()
        self.select(spec.model)
        self.status.setText(f"Imported '{spec.model}' ({spec.parameters:,} parameters); it can be used for fills now.")

    def remove_selected(self) -> None:
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
            self.operations.remove(row.name)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            messages.error(self, "Cannot remove the model", describe_error(exc))
            return
        self._changed()
        self.status.setText(f"Removed '{row.name}'.")

    # -- download --------------------------------------------------------------------------------------
    def download_selected(self) -> None:
        row = self.selected_row()
        if row is None or not row.downloadable:
            return
        name = row.name
        job = self.operations.download(name, self._ended(lambda *outcome: self._downloaded(name, *outcome)))
        self._track(job, f"Downloading {name}...", cancellable=True)

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

    # -- the running job -------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.operations.busy

    @property
    def job(self) -> JobHandle | None:
        """The running job (one at a time)."""
        return self.operations.job

    def _track(self, job: JobHandle | None, text: str, *, cancellable: bool) -> None:
        """Show a job the operations started: its progress, and Cancel if it can be cancelled. Nothing
        starts while another job runs (the buttons are disabled then; ``job`` is None)."""
        if job is None:
            return
        job.progress.connect(self._on_progress)
        self._set_busy(True, text, cancellable)

    def _ended(self, on_done: OnDone) -> OnDone:
        """``on_done`` after the dialog has left its busy state (and closed, if Close waited for it)."""

        def ended(result: object, error: str | None, cancelled: bool) -> None:
            self._set_busy(False)
            on_done(result, error, cancelled)
            if self._close_when_done:
                self._close_when_done = False
                super(ModelManagerDialog, self).reject()

        return ended

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
        self.operations.cancel(wait)

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
