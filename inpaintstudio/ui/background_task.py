"""One piece of slow, non-fill work at a time (hashing, importing, downloading) on a daemon thread.

The fill worker (:mod:`worker_bridge`) is kept for fills, so a long download never delays one. The
work gets a cancel event and a progress callback; progress and the outcome are signals, delivered on
the GUI thread (the task object lives there), where the caller may touch widgets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from inpaintstudio.errors import FillCancelled, InpaintStudioError

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]  # (done, total or None)
Work = Callable[[threading.Event, Progress], Any]
OnDone = Callable[[Any, "BaseException | None"], None]  # (result, error)


class BackgroundTask(QObject):
    progress = Signal(object, object)  # (done, total) of the running work
    idle = Signal()  # the work ended (just before its on_done runs)
    _finished = Signal(object, object, object)  # (on_done, result, error), from the thread

    def __init__(self, parent: QObject | None = None, name: str = "background-task") -> None:
        super().__init__(parent)
        self.name = name
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._finished.connect(self._on_finished)

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, work: Work, on_done: OnDone) -> bool:
        """Run ``work(cancel_event, progress)``; ``on_done(result, error)`` follows on the GUI thread.
        False (and nothing runs) while another task is running."""
        if self.busy:
            return False
        cancel = self._cancel = threading.Event()

        def report(done: int, total: int | None) -> None:
            self.progress.emit(done, total)  # downloads report per 64 KiB chunk: cheap, and none is lost

        def run() -> None:
            result, error = None, None
            try:
                result = work(cancel, report)
            except BaseException as exc:  # noqa: BLE001 - handed to on_done on the GUI thread
                error = exc
            self._finished.emit(on_done, result, error)

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        return True

    def cancel(self, wait: float = 0.0) -> None:
        """Ask the work to stop (it checks the event between steps); optionally wait for it."""
        self._cancel.set()
        thread = self._thread
        if wait and thread is not None:
            thread.join(wait)

    def _on_finished(self, on_done: OnDone, result: Any, error: BaseException | None) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(1.0)
        if error is not None and not isinstance(error, InpaintStudioError | FillCancelled):
            log.error("%s failed", self.name, exc_info=error)
        self.idle.emit()
        on_done(result, error)
