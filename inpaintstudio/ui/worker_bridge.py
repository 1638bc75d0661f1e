"""The Qt bridge to the engine's job runner: each job gets a :class:`JobHandle` with its own signals.

The runner calls ``on_progress`` / ``on_done`` on its worker thread. The bridge re-emits them through
signals of its own (it lives in the GUI thread, so Qt queues the calls), and its slots then emit the
signals of the job's handle on the GUI thread, where the document and widgets may be touched. A
controller connects to the handles of the jobs it submitted and hears nothing of anyone else's; the
bridge never touches the document itself.

One convention for every slow piece of work, fills and the model manager's hashing, importing and
downloading alike: the work is ``work(ctx)`` with a :class:`~inpaintstudio.engine.context.JobContext`;
it reports ``ctx.progress(fraction, message)`` and stops at ``ctx.check_cancelled()`` (or when
``ctx.cancel_event`` is set); :meth:`JobHandle.cancel` asks it to.
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
from inpaintstudio.ui.models import app_message

log = logging.getLogger(__name__)


def describe_error(error: BaseException | None) -> str:
    """The message a person sees for a failed job: ours verbatim (its remedy worded for the app), anything
    else as an internal error."""
    if isinstance(error, InpaintStudioError):
        return app_message(str(error), error.remedy)
    if isinstance(error, MemoryError):
        return "out of memory (try a smaller image, or the resize strategy)"
    return f"internal error: {type(error).__name__}: {error}"


class JobHandle(QObject):
    """One submitted job: its id, its outcome as signals (GUI thread), and a way to cancel it.

    Exactly one of ``finished``, ``failed`` and ``cancelled`` is emitted, once; ``done`` is True from then on.
    """

    progress = Signal(float, str)  # fraction 0..1 (0: nothing counted yet), message
    finished = Signal(object)  # the work's value (a FillResult for a fill)
    failed = Signal(str)  # the user-facing message (describe_error)
    cancelled = Signal()  # cancelled while running, or dropped (replaced or cancelled) before it started

    def __init__(self, bridge: WorkerBridge) -> None:
        super().__init__()
        self._bridge = bridge
        self.job_id = 0  # set as soon as the runner has accepted the job
        self.done = False

    def cancel(self) -> None:
        """Ask the job to stop (a queued one is dropped); ``cancelled`` follows unless it finished first."""
        if not self.done and self.job_id:
            self._bridge.runner.cancel(self.job_id)


class WorkerBridge(QObject):
    """Jobs on one :class:`JobRunner` (one worker thread), each answered through its own handle."""

    _progress = Signal(object, float, str)  # (handle, fraction, message), from the worker thread
    _done = Signal(object, object)  # (handle, JobOutcome), from the worker thread

    def __init__(self, parent: QObject | None = None, runner: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or JobRunner()
        self._progress.connect(self._on_progress)
        self._done.connect(self._on_done)

    def submit(self, work: Callable[[JobContext], object], *, key: str | None = None) -> JobHandle:
        """Queue ``work(ctx)``; a job with the same ``key`` replaces a stale one (it is cancelled)."""
        handle = JobHandle(self)
        # The callbacks hold the handle until the outcome has been delivered on the GUI thread.
        handle.job_id = self.runner.submit(
            work,
            key=key,
            on_progress=lambda _job_id, fraction, message: self._progress.emit(handle, fraction, message),
            on_done=lambda outcome: self._done.emit(handle, outcome),
        )
        return handle

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def shutdown(self, timeout: float = 5.0) -> None:
        self.runner.shutdown(wait=True, timeout=timeout)

    # -- GUI thread ------------------------------------------------------------------------------------
    def _on_progress(self, handle: JobHandle, fraction: float, message: str) -> None:
        if not handle.done:
            handle.progress.emit(fraction, message)

    def _on_done(self, handle: JobHandle, outcome: JobOutcome) -> None:
        handle.done = True
        if outcome.status == DONE:
            handle.finished.emit(outcome.value)
        elif outcome.status in (CANCELLED, DROPPED):
            handle.cancelled.emit()
        else:
            if not isinstance(outcome.error, InpaintStudioError):
                log.error("job %s failed", outcome.job_id, exc_info=outcome.error)
            handle.failed.emit(describe_error(outcome.error))


class FillBridge(WorkerBridge):
    """The fill worker: fills (and comparisons) one at a time, with the loaded models kept between them."""

    def __init__(self, parent: QObject | None = None, runner: JobRunner | None = None) -> None:
        super().__init__(parent, runner)
        self.cache = ModelCache()

    def fill(self, request: FillRequest, *, key: str | None = "fill", whole_picture: bool = False) -> JobHandle:
        """Queue a fill; a request with the same key replaces a stale one.

        ``whole_picture``: the receiver will show the whole result (the compare view), so compose it on the
        worker thread; a plain fill only needs the patches the document applies.
        """

        def work(ctx: JobContext) -> FillResult:
            result = run_fill(request, ctx, self.cache)
            if whole_picture:
                _ = result.image
            return result

        return self.submit(work, key=key)

    def shutdown(self, timeout: float = 5.0) -> None:
        super().shutdown(timeout)
        self.cache.release()
