"""The model manager's operations: verify weights (sha256), import a public checkpoint as a variant of a
family, download weights from the address in their manifest entry (progress, cancel, resumable,
sha256-checked), and remove an imported variant.

The slow ones run as jobs, one at a time, on a worker of the manager's own (a
:class:`~inpaintstudio.ui.worker_bridge.WorkerBridge`: the convention of fills, progress and cancel
through the job's context and handle), not on the GUI thread nor the fill worker, so a long download
never delays a fill. Each takes an ``on_done(value, error, cancelled)`` that follows on the GUI thread;
asking the user and showing the outcome is the dialog's part (:mod:`model_manager`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from inpaintstudio.engine import weights
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.runner import JobRunner
from inpaintstudio.ui.worker_bridge import JobHandle, WorkerBridge

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


class ModelOperations:
    """Verify, import and download as jobs (one at a time: a second start while one runs is refused and
    returns None); remove, which is quick, at once."""

    def __init__(self, parent: QObject | None = None) -> None:
        self.jobs = WorkerBridge(parent, JobRunner("model-manager"))
        self.job: JobHandle | None = None  # the running job

    @property
    def busy(self) -> bool:
        return self.job is not None

    def verify(self, specs: Sequence[tuple[str, weights.WeightsSpec | None]], on_done: OnDone) -> JobHandle | None:
        """Check the sha256 of each (name, weights) pair; the value is ``[(name, state, detail), ...]``
        with the state "OK", "missing" or "damaged"."""
        specs = list(specs)

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

        return self._start(work, on_done)

    def import_checkpoint(self, source: Path, family: str, name: str, on_done: OnDone) -> JobHandle | None:
        """Import ``source`` as the model ``name``, a variant of ``family``; the value is its WeightsSpec.
        Not cancellable."""
        from inpaintstudio.engine import checkpoint_import

        def work(_ctx: JobContext) -> weights.WeightsSpec:
            spec = checkpoint_import.import_checkpoint(source, family, name)
            weights.verify(spec)  # hash it here, so listing it on the GUI thread is instant
            return spec

        return self._start(work, on_done)

    def download(self, name: str, on_done: OnDone) -> JobHandle | None:
        """Download (or resume) the weights of ``name``; the value is their WeightsSpec, sha256-checked.
        A cancelled download keeps the part downloaded."""
        from inpaintstudio.engine import download

        def work(ctx: JobContext) -> weights.WeightsSpec:
            spec = download.install(name, progress=byte_progress(ctx), cancel=ctx.cancel_event)
            weights.verify(spec)
            return spec

        return self._start(work, on_done)

    @staticmethod
    def remove(name: str) -> None:
        """Remove the imported model ``name`` and its weights file (raises what the removal raises)."""
        from inpaintstudio.engine import checkpoint_import

        checkpoint_import.remove_imported(name)

    def cancel(self, wait: float = 0.0) -> None:
        """Ask the running job to stop (downloads stop between chunks; the part is kept); optionally wait
        up to ``wait`` seconds for the worker to be idle."""
        if self.job is not None:
            self.job.cancel()
        if wait:
            self.jobs.runner.wait_idle(wait)

    def _start(self, work: Callable[[JobContext], Any], on_done: OnDone) -> JobHandle | None:
        if self.busy:
            return None
        job = self.job = self.jobs.submit(work)

        def done(result: Any = None, error: str | None = None, cancelled: bool = False) -> None:
            self.job = None
            on_done(result, error, cancelled)

        job.finished.connect(lambda result: done(result))
        job.failed.connect(lambda message: done(error=message))
        job.cancelled.connect(lambda: done(cancelled=True))
        return job
