"""The Qt bridge to the engine's job runner: worker-thread callbacks become GUI-thread signals.

The runner calls ``on_progress`` / ``on_done`` on its worker thread. Emitting a signal of a QObject that
lives in the GUI thread from another thread makes Qt queue the call, so every slot connected here runs on
the GUI thread, where the document may be touched. The bridge never touches the document itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest, FillResult
from inpaintstudio.engine.runner import CANCELLED, DONE, DROPPED, JobOutcome, JobRunner
from inpaintstudio.errors import InpaintStudioError

log = logging.getLogger(__name__)


def describe_error(error: BaseException | None) -> str:
    """The message a person sees for a failed job: ours verbatim, anything else as an internal error."""
    if isinstance(error, InpaintStudioError):
        return str(error)
    if isinstance(error, MemoryError):
        return "out of memory (try a smaller image, or the resize strategy)"
    return f"internal error: {type(error).__name__}: {error}"


class FillBridge(QObject):
    progress = Signal(int, float, str)  # job id, fraction 0..1, message
    finished = Signal(int, object)  # job id, FillResult
    failed = Signal(int, str)  # job id, user-facing message
    cancelled = Signal(int)  # job id (cancelled while running, or replaced before it started)

    def __init__(self, parent: QObject | None = None, runner: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or JobRunner()
        self.cache = ModelCache()

    def submit(self, request: FillRequest, *, key: str | None = "fill", whole_picture: bool = False) -> int:
        """Queue a fill; a request with the same key replaces a stale one. Returns the job id.

        ``whole_picture``: the receiver will show the whole result (the compare view), so compose it on the
        worker thread; a plain fill only needs the patches the document applies.
        """

        def work(ctx: JobContext) -> FillResult:
            result = run_fill(request, ctx, self.cache)
            if whole_picture:
                _ = result.image
            return result

        return self.submit_work(work, key=key)

    def submit_work(self, work: Callable[[JobContext], object], *, key: str | None = None) -> int:
        return self.runner.submit(work, key=key, on_progress=self._on_progress, on_done=self._on_done)

    def cancel(self, job_id: int | None = None) -> None:
        self.runner.cancel(job_id)

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def shutdown(self) -> None:
        self.runner.shutdown(wait=True, timeout=5.0)
        self.cache.release()

    # -- worker thread ---------------------------------------------------------------------------------
    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        self.progress.emit(job_id, fraction, message)

    def _on_done(self, outcome: JobOutcome) -> None:
        if outcome.status == DONE:
            self.finished.emit(outcome.job_id, outcome.value)
        elif outcome.status in (CANCELLED, DROPPED):
            self.cancelled.emit(outcome.job_id)
        else:
            if not isinstance(outcome.error, InpaintStudioError):
                log.error("fill job %s failed", outcome.job_id, exc_info=outcome.error)
            self.failed.emit(outcome.job_id, describe_error(outcome.error))
