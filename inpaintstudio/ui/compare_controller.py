"""Compare: run several models on one snapshot, one after another on the fill worker.

The slots live in a plain :class:`~inpaintstudio.document.compare.Comparison`; this controller only
submits the jobs, routes their outcomes into the slots and applies the chosen result. Starting a new
comparison (or closing the view) cancels whatever the previous one still had running.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from inpaintstudio.document.compare import MAX_MODELS, MIN_MODELS, Comparison
from inpaintstudio.document.document import Document
from inpaintstudio.errors import InpaintStudioError
from inpaintstudio.ui import messages
from inpaintstudio.ui.canvas import CanvasView
from inpaintstudio.ui.compare_dialog import CompareDialog
from inpaintstudio.ui.compare_view import CompareView
from inpaintstudio.ui.current_document import CurrentDocument
from inpaintstudio.ui.model_panel import ModelPanel
from inpaintstudio.ui.settings import AppSettings
from inpaintstudio.ui.status_bar import StatusBar
from inpaintstudio.ui.worker_bridge import FillBridge, JobHandle


class CompareController(QObject):
    applied = Signal()  # a compared result became a history step
    shown = Signal(bool)  # the comparison view should replace the canvas (True) or give way to it (False)

    def __init__(
        self,
        current: CurrentDocument,
        bridge: FillBridge,
        model_panel: ModelPanel,
        settings: AppSettings,
        status: StatusBar,
        view: CompareView,
        canvas: CanvasView,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.current = current
        self.bridge = bridge
        self.model_panel = model_panel
        self.settings = settings
        self.status = status
        self.view = view
        self.canvas = canvas  # the comparison shows the canvas's photo as its input
        self.parent_widget = parent  # for the dialogs
        self.comparison: Comparison | None = None
        self._jobs: list[JobHandle] = []  # the comparison's jobs, one per slot
        self._doc: Document | None = None
        view.apply_requested.connect(self.apply)
        view.close_requested.connect(self.close)

    def choose_and_start(self) -> Comparison | None:
        """Ask which models to compare (a dialog), then start."""
        if not self._can_start():
            return None
        doc = self.current.doc
        extends = doc is not None and doc.extent != doc.rect
        dialog = CompareDialog(self.model_panel.infos, self.settings.compare_models, extends, self.parent_widget)
        if not dialog.exec():
            return None
        return self.start(dialog.selected())

    def _can_start(self) -> bool:
        doc = self.current.doc
        if doc is None:
            return False
        if doc.extent == doc.rect and not doc.hole().any():
            messages.info(self.parent_widget, "Nothing to compare", "Paint over what should be removed first (B).")
            return False
        return True

    def start(self, models: list[str]) -> Comparison | None:
        window, doc = self.parent_widget, self.current.doc
        if doc is None or not self._can_start():
            return None
        if not MIN_MODELS <= len(models) <= MAX_MODELS:
            messages.error(window, "Compare models", f"Choose {MIN_MODELS} to {MAX_MODELS} models to compare.")
            return None
        self.cancel()
        labels = {m.name: m.label for m in self.model_panel.infos}
        try:
            comparison = Comparison(doc.fill_request(models[0], device=self.settings.device), models, labels)
        except (InpaintStudioError, ValueError) as exc:
            messages.error(window, "Compare models", str(exc))
            return None
        self.settings.compare_models = models
        self.comparison, self._doc = comparison, doc
        self.view.set_comparison(comparison, input_layer=self.canvas.photo)
        self.shown.emit(True)
        # The panes draw same-size results as patches over the input; only a result that extends the
        # canvas needs its whole picture, and that is composed on the worker thread.
        for index in range(len(comparison.slots)):
            job = self.bridge.fill(
                comparison.request_for(index), key=f"compare-{index}", whole_picture=comparison.request.extends
            )
            self._follow(job, comparison, index)
            self._jobs.append(job)
            comparison.queued(index)
        return comparison

    def _follow(self, job: JobHandle, comparison: Comparison, index: int) -> None:
        """Route the outcome of one slot's job into that slot (of that comparison, if it is still shown)."""

        def live() -> bool:
            return comparison is self.comparison

        job.progress.connect(lambda fraction, _message: live() and comparison.progress(index, fraction))
        job.finished.connect(lambda result: live() and comparison.succeed(index, result))
        job.failed.connect(lambda message: live() and comparison.fail(index, message))
        job.cancelled.connect(lambda: live() and comparison.cancel(index))

    def cancel(self) -> None:
        """Stop what the comparison still has queued or running; its slots are marked cancelled."""
        comparison, jobs, self._jobs = self.comparison, self._jobs, []
        for job in jobs:
            job.cancel()
        if comparison is not None:
            for index in range(len(comparison.slots)):
                comparison.cancel(index)

    def close(self) -> None:
        self.cancel()
        self.shown.emit(False)
        self.view.set_comparison(None)
        self.comparison = None

    def apply(self, index: int) -> bool:
        comparison, doc = self.comparison, self.current.doc
        if comparison is None or doc is None:
            return False
        if doc is not self._doc:
            messages.error(
                self.parent_widget, "Compare models", "Another photo was opened since the comparison started."
            )
            return False
        try:
            changed = comparison.apply(index, doc)
        except InpaintStudioError as exc:
            messages.error(self.parent_widget, "Result not applied", str(exc))
            return False
        slot = comparison.slots[index]
        self.status.showMessage(f"Applied the result of {slot.label}", 6000)
        self.close()
        if changed:
            self.applied.emit()
        return changed
