"""What a running fill can see of its job: progress reporting, cooperative cancellation, notices.

The same object is used whether the fill runs on the job runner's worker thread, directly from the
command line, or inside a test; code doing the work calls :meth:`JobContext.check_cancelled` between
stages so that a cancelled or superseded job stops promptly without leaving anything half-applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from inpaintstudio.errors import FillCancelled

ProgressCallback = Callable[[float, str], None]


class JobContext:
    def __init__(
        self,
        job_id: int = 0,
        progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
        working_size: int | None = None,
    ) -> None:
        self.job_id = job_id
        # The side crops are scaled to for this job (FillRequest.working_size, else the model's own; set by
        # the pipeline); a model that scales inside itself (SRN) reads it here. None: not known.
        self.working_size = working_size
        self._progress = progress
        self._cancel = cancel_event or threading.Event()
        self.notices: list[str] = []
        self._base = 0.0
        self._span = 1.0

    # -- cancellation -------------------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """The event behind :attr:`cancelled`, for work that waits on it or hands it on (a download)."""
        return self._cancel

    def cancel(self) -> None:
        self._cancel.set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise FillCancelled(f"job {self.job_id} was cancelled")

    # -- progress -----------------------------------------------------------------------------------
    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1] of the current stage (see :meth:`stage`)."""
        if self._progress is not None:
            overall = self._base + self._span * min(1.0, max(0.0, fraction))
            self._progress(overall, message)

    def stage(self, start: float, end: float, *, working_size: int | None = None) -> JobContext:
        """A view of this context whose progress 0..1 maps onto ``start .. end`` of the whole job.

        The pipeline runs each masked region as a stage, so an inpainter can simply report 0..1; it also
        tells the stage the working size (``working_size``; default: this context's).
        """
        child = JobContext(self.job_id, self._progress, self._cancel, working_size or self.working_size)
        child.notices = self.notices
        child._base = self._base + self._span * start
        child._span = self._span * (end - start)
        return child

    # -- notices ------------------------------------------------------------------------------------
    def notice(self, message: str) -> None:
        """Something the user should know about the result (fallbacks taken, inputs ignored)."""
        if message not in self.notices:
            self.notices.append(message)
