"""Compare: run several models on one snapshot, one after another on the fill worker.

The slots live in a plain :class:`~inpaintstudio.document.compare.Comparison`; this controller only
submits the jobs, routes their outcomes into the slots and applies the chosen result. Starting a new
comparison (or closing the view) cancels whatever the previous one still had running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from inpaintstudio.document.compare import MAX_MODELS, MIN_MODELS, Comparison
from inpaintstudio.document.document import Document
from inpaintstudio.engine.request import FillResult
from inpaintstudio.errors import InpaintStudioError
from inpaintstudio.ui import messages
from inpaintstudio.ui.compare_dialog import CompareDialog
from inpaintstudio.ui.worker_bridge import FillBridge

if TYPE_CHECKING:
    from inpaintstudio.ui.main_window import MainWindow


class CompareController(QObject):
    applied = Signal()  # a compared result became a history step

    def __init__(self, window: MainWindow, bridge: FillBridge) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = bridge
        self.comparison: Comparison | None = None
        self._doc: Document | None = None
        bridge.progress.connect(self._on_progress)
        bridge.finished.connect(self._on_finished)
        bridge.failed.connect(self._on_failed)
        bridge.cancelled.connect(self._on_cancelled)
        window.compare_view.apply_requested.connect(self.apply)
        window.compare_view.close_requested.connect(self.close)

    def choose_and_start(self) -> Comparison | None:
        """Ask which models to compare (a dialog), then start."""
        window = self.window
        if not self._can_start():
            return None
        extends = window.doc is not None and window.doc.extent != window.doc.rect
        dialog = CompareDialog(window.model_panel.infos, window.settings.compare_models, extends, window)
        if not dialog.exec():
            return None
        return self.start(dialog.selected())

    def _can_start(self) -> bool:
        doc = self.window.doc
        if doc is None:
            return False
        if doc.extent == doc.rect and not doc.hole().any():
            messages.info(self.window, "Nothing to compare", "Paint over what should be removed first (B).")
            return False
        return True

    def start(self, models: list[str]) -> Comparison | None:
        window, doc = self.window, self.window.doc
        if doc is None or not self._can_start():
            return None
        if not MIN_MODELS <= len(models) <= MAX_MODELS:
            messages.error(window, "Compare models", f"Choose {MIN_MODELS} to {MAX_MODELS} models to compare.")
            return None
        self.cancel()
        labels = {m.name: m.label for m in window.model_panel.infos}
        try:
            comparison = Comparison(doc.fill_request(models[0], device=window.settings.device), models, labels)
        except (InpaintStudioError, ValueError) as exc:
            messages.error(window, "Compare models", str(exc))
            return None
        window.settings.compare_models = models
        self.comparison, self._doc = comparison, doc
        window.compare_view.set_comparison(comparison, input_layer=window.canvas.photo)
        window.show_compare(True)
        # The panes draw same-size results as patches over the input; only a result that extends the
        # canvas needs its whole picture, and that is composed on the worker thread.
        for index in range(len(comparison.slots)):
            comparison.queued(
                index,
                self.bridge.submit(
                    comparison.request_for(index), key=f"compare-{index}", whole_picture=comparison.request.extends
                ),
            )
        return comparison

    def cancel(self) -> None:
        """Stop what the comparison still has queued or running; its slots are marked cancelled."""
        comparison = self.comparison
        if comparison is not None:
            for job in comparison.unfinished_jobs():
                self.bridge.cancel(job)
            for index in range(len(comparison.slots)):
                comparison.cancel(index)

    def close(self) -> None:
        self.cancel()
        self.window.show_compare(False)
        self.window.compare_view.set_comparison(None)
        self.comparison = None

    def apply(self, index: int) -> bool:
        comparison, doc = self.comparison, self.window.doc
        if comparison is None or doc is None:
            return False
        if doc is not self._doc:
            messages.error(self.window, "Compare models", "Another photo was opened since the comparison started.")
            return False
        try:
            changed = comparison.apply(index, doc)
        except InpaintStudioError as exc:
            messages.error(self.window, "Result not applied", str(exc))
            return False
        slot = comparison.slots[index]
        self.window.show_message(f"Applied the result of {slot.label}")
        self.close()
        if changed:
            self.applied.emit()
        return changed

    # -- outcomes (GUI thread) -----------------------------------------------------------------------
    def _slot(self, job_id: int) -> int | None:
        return None if self.comparison is None else self.comparison.index_of_job(job_id)

    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        index = self._slot(job_id)
        if index is not None:
            self.comparison.progress(index, fraction)

    def _on_finished(self, job_id: int, result: FillResult) -> None:
        index = self._slot(job_id)
        if index is not None:
            self.comparison.succeed(index, result)

    def _on_failed(self, job_id: int, message: str) -> None:
        index = self._slot(job_id)
        if index is not None:
            self.comparison.fail(index, message)

    def _on_cancelled(self, job_id: int) -> None:
        index = self._slot(job_id)
        if index is not None:
            self.comparison.cancel(index)
