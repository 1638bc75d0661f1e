"""A single-worker job runner in plain Python: one fill at a time, newest request wins.

Why one worker: a GPU (or two CPU cores) is best used by one job at a time, and results must reach the
document in the order the user asked for them. Jobs carry an id and an optional ``key``; submitting a
job with a key drops queued jobs with the same key and asks the running one to stop, so pressing Fill
again replaces a stale fill instead of queueing behind it. Cancellation is cooperative: the job's
:class:`JobContext` raises :class:`FillCancelled` at its next check.

Callbacks run on the worker thread; the Qt bridge (``ui/``) forwards them to the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inpaintstudio.engine.context import JobContext
from inpaintstudio.errors import FillCancelled

log = logging.getLogger(__name__)

DONE, FAILED, CANCELLED, DROPPED = "done", "failed", "cancelled", "dropped"


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    status: str  # DONE, FAILED, CANCELLED (stopped while running) or DROPPED (replaced before it started)
    value: Any = None
    error: BaseException | None = None


@dataclass
class _Job:
    job_id: int
    key: str | None
    work: Callable[[JobContext], Any]
    on_progress: Callable[[int, float, str], None] | None
    on_done: Callable[[JobOutcome], None] | None
    cancel_event: threading.Event


class JobRunner:
    def __init__(self, name: str = "inpaint-worker") -> None:
        self._name = name
        self._ids = itertools.count(1)
        self._queue: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._running: _Job | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- submitting --------------------------------------------------------------------------------
    def submit(
        self,
        work: Callable[[JobContext], Any],
        *,
        key: str | None = None,
        on_progress: Callable[[int, float, str], None] | None = None,
        on_done: Callable[[JobOutcome], None] | None = None,
    ) -> int:
        dropped: list[_Job] = []
        with self._cond:
            if self._closed:
                raise RuntimeError("the job runner has been shut down")
            job = _Job(next(self._ids), key, work, on_progress, on_done, threading.Event())
            if key is not None:
                dropped = [j for j in self._queue if j.key == key]
                self._queue = deque(j for j in self._queue if j.key != key)
                if self._running is not None and self._running.key == key:
                    self._running.cancel_event.set()
            self._queue.append(job)
            self._ensure_thread()
            self._cond.notify_all()
        for old in dropped:
            self._finish(old, JobOutcome(old.job_id, DROPPED))
        return job.job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel one job (queued or running), or every job when ``job_id`` is None."""
        dropped: list[_Job] = []
        with self._cond:
            for job in list(self._queue):
                if job_id is None or job.job_id == job_id:
                    self._queue.remove(job)
                    dropped.append(job)
            if self._running is not None and (job_id is None or self._running.job_id == job_id):
                self._running.cancel_event.set()
        for job in dropped:
            self._finish(job, JobOutcome(job.job_id, CANCELLED))

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running is not None or bool(self._queue)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (for the command line and tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._running is None and not self._queue, timeout)

    def shutdown(self, wait: bool = True, timeout: float | None = 10.0) -> None:
        self.cancel()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if wait and thread is not None:
            thread.join(timeout)

    # -- the worker --------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                job = self._queue.popleft()
                self._running = job
            outcome = self._execute(job)
            with self._cond:
                self._running = None
            self._finish(job, outcome)
            with self._cond:
                self._cond.notify_all()

    def _execute(self, job: _Job) -> JobOutcome:
        def progress(fraction: float, message: str) -> None:
            if job.on_progress is not None and not job.cancel_event.is_set():
                job.on_progress(job.job_id, fraction, message)

        ctx = JobContext(job.job_id, progress, job.cancel_event)
        try:
            if job.cancel_event.is_set():
                raise FillCancelled
            value = job.work(ctx)
            # A job that was superseded while finishing its last step is still stale.
            if job.cancel_event.is_set():
                return JobOutcome(job.job_id, CANCELLED)
            return JobOutcome(job.job_id, DONE, value)
        except FillCancelled:
            return JobOutcome(job.job_id, CANCELLED)
        except Exception as exc:  # reported to the caller; the worker must survive any job
            log.debug("job %s failed", job.job_id, exc_info=True)
            return JobOutcome(job.job_id, FAILED, error=exc)

    def _finish(self, job: _Job, outcome: JobOutcome) -> None:
        if job.on_done is None:
            return
        try:
            job.on_done(outcome)
        except Exception:  # a broken callback must not kill the worker
            log.exception("on_done callback of job %s failed", job.job_id)
