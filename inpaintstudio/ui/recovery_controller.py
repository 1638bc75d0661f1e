"""Autosave and crash recovery: unsaved work survives a crash or a kill.

While the open document has unsaved changes it is snapshotted into the recovery folder
(:class:`~inpaintstudio.document.io.recovery.RecoveryStore`): 30 seconds after the first unsaved change
(``INPAINTSTUDIO_AUTOSAVE_SECONDS`` overrides the interval) and right after every fill. The snapshot is
copied on the GUI thread (:func:`project.capture`, a few array copies) and written by a one-thread
writer, so painting goes on while a large photo is compressed. Every write and removal of this
window's snapshot goes through that one thread, in order, so a removal can never be overtaken by an
older write. A normal save, going back to the saved state, opening another document or closing the
window removes the snapshot.

At start (:meth:`RecoveryController.offer_pending`) the snapshots of runs that ended without closing
are offered: Recover, Discard or Later (kept for the next start).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from inpaintstudio.document.autosave import AUTOSAVE_INTERVAL, AutosavePolicy
from inpaintstudio.document.document import Change, Document
from inpaintstudio.document.io import project
from inpaintstudio.document.io.recovery import RecoveryEntry, RecoveryStore
from inpaintstudio.document.io.recovery import new_session_id as _new_session_id
from inpaintstudio.errors import InpaintStudioError
from inpaintstudio.ui import messages
from inpaintstudio.ui.canvas import CanvasView
from inpaintstudio.ui.file_controller import FileController
from inpaintstudio.ui.status_bar import StatusBar

log = logging.getLogger(__name__)

INTERVAL_ENV = "INPAINTSTUDIO_AUTOSAVE_SECONDS"
STROKE_RETRY_MS = 250  # a snapshot waits for the drag in progress to become a history step


def autosave_interval() -> float:
    """Seconds of unsaved change before an autosave: ``$INPAINTSTUDIO_AUTOSAVE_SECONDS`` or 30."""
    value = os.environ.get(INTERVAL_ENV, "")
    try:
        seconds = float(value)
    except ValueError:
        return AUTOSAVE_INTERVAL
    return seconds if 0 < seconds < 1e6 else AUTOSAVE_INTERVAL


class RecoveryController(QObject):
    autosaved = Signal(str)  # the snapshot's path, after each successful write
    _written = Signal(object, object)  # (on_done callback, error or None), from the writer thread

    def __init__(
        self,
        status: StatusBar,
        canvas: CanvasView,
        files: FileController,
        parent: QWidget,
        store: RecoveryStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.status = status
        self.canvas = canvas  # a snapshot waits for the stroke being drawn on it
        self.files = files  # a recovered document replaces the open one as an opened file does
        self.parent_widget = parent  # for the dialogs
        self.store = store or RecoveryStore()
        self.session = _new_session_id()
        self.policy = AutosavePolicy(autosave_interval())
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._tick)
        self._executor: ThreadPoolExecutor | None = None
        self._writing = 0  # snapshot writes queued or running
        self._has_snapshot = False  # this session may have a snapshot on disk
        self._doc: Document | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._written.connect(self._on_written)

    # -- the document ----------------------------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        """A new document replaces the old one (whose unsaved work the user saved or gave up)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._doc = doc
        self._forget()
        if doc is not None:
            self._unsubscribe = doc.subscribe(self._on_change)
            if doc.dirty:
                self.policy.changed(time.monotonic())
                self._schedule()

    def _on_change(self, change: Change) -> None:
        if change.kind not in ("history", "saved") or self._doc is None:
            return
        if self._doc.dirty:
            self.policy.changed(time.monotonic())
            self._schedule()
        elif self.policy.pending or self._has_snapshot:
            self._forget()  # saved, or undone back to the saved state: nothing to recover

    def filled(self) -> None:
        """A fill result became a history step: snapshot now."""
        if self._doc is not None and self._doc.dirty:
            self.policy.filled(time.monotonic())
            self._schedule()

    def _forget(self) -> None:
        """Nothing unsaved any more: stop the timer and remove this session's snapshot."""
        self.policy.saved()
        self.timer.stop()
        if self._has_snapshot or self._writing:
            self._has_snapshot = False
            self._submit(lambda: self.store.discard(self.session), None)
        self.status.set_autosave("")

    # -- autosaving ------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        seconds = self.policy.seconds_until_due(time.monotonic())
        if seconds is None:
            self.timer.stop()
        elif not self._writing:  # a running write reschedules when it is done
            self.timer.start(max(0, round(seconds * 1000)))

    def _tick(self) -> None:
        doc = self._doc
        if doc is None or self._writing or not self.policy.due(time.monotonic()):
            self._schedule()
            return
        tool = self.canvas.tool
        if tool is not None and tool.active:
            self.timer.start(STROKE_RETRY_MS)
            return
        self.autosave_now()

    def autosave_now(self) -> bool:
        """Snapshot the document now (GUI thread) and write it on the writer thread; False if nothing to save."""
        doc = self._doc
        if doc is None or not doc.dirty:
            return False
        try:
            snapshot = project.capture(doc)
        except MemoryError:
            self._failed("not enough memory to copy the photo")
            return False
        self.policy.saved()
        self._has_snapshot = True
        self._writing += 1
        self._submit(lambda: self.store.save(snapshot, self.session), self._after_write)
        return True

    def _after_write(self, error: BaseException | None) -> None:
        self._writing -= 1
        if error is None:
            if self._has_snapshot:  # not removed meanwhile (saved or closed)
                self.status.set_autosave(
                    f"Autosaved {time.strftime('%H:%M')}",
                    f"Unsaved work is kept for recovery after a crash until you save or close.\n{self.store.folder}",
                )
                self.autosaved.emit(str(self.store.folder / f"{self.session}{project.SUFFIX}"))
        else:
            self._failed(str(error) if isinstance(error, InpaintStudioError) else f"{type(error).__name__}: {error}")
        self._schedule()

    def _failed(self, reason: str) -> None:
        log.warning("autosave failed: %s", reason)
        if self._doc is not None and self._doc.dirty:
            self.policy.changed(time.monotonic())  # try again after the interval
        self.status.set_autosave("Autosave failed", reason)

    # -- the writer thread -----------------------------------------------------------------------------
    def _submit(self, work: Callable[[], object], on_done: Callable[[BaseException | None], None] | None) -> Future:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")

        def run() -> None:
            error: BaseException | None = None
            try:
                work()
            except Exception as exc:  # reported on the GUI thread; the writer must survive
                error = exc
            if on_done is not None:
                self._written.emit(on_done, error)
            elif error is not None:
                log.warning("removing a recovery snapshot failed: %s", error)

        return self._executor.submit(run)

    def _on_written(self, on_done: Callable[[BaseException | None], None], error: BaseException | None) -> None:
        on_done(error)

    def wait(self) -> None:
        """Block until every queued write and removal is done (closing, tests)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def close(self) -> None:
        """The window closes normally (after any save prompt): remove the snapshot, finish writing."""
        self.set_document(None)
        self.wait()

    # -- recovery at start -----------------------------------------------------------------------------
    def offer_pending(self) -> Document | None:
        """Offer the snapshots of runs that did not close normally, newest first; returns what was recovered."""
        try:
            entries = self.store.pending()
        except OSError as exc:
            log.warning("cannot list recovery snapshots: %s", exc)
            return None
        for index, entry in enumerate(entries):
            answer = messages.ask_recover(self.parent_widget, entry.describe(), len(entries) - index - 1)
            if answer == "discard":
                self._discard_entry(entry)
            elif answer == "recover":
                doc = self._recover(entry)
                if doc is not None:
                    return doc  # one document at a time; the others are offered at the next start
        return None

    def _recover(self, entry: RecoveryEntry) -> Document | None:
        try:
            doc = self.store.restore(entry)
        except (InpaintStudioError, MemoryError, OSError) as exc:
            reason = "it is too large to fit in memory" if isinstance(exc, MemoryError) else str(exc)
            text = f"{entry.describe()} cannot be recovered: {reason}\n\nDelete this snapshot?"
            if messages.confirm(self.parent_widget, "Cannot recover", text, "Delete"):
                self._discard_entry(entry)
            return None
        if not self.files.replace_document(doc):
            return None  # the user kept the open document; the snapshot stays for later
        # Keep it recoverable under this run's session before the old snapshot goes (both on the writer).
        snapshot = project.capture(doc)
        self.policy.saved()
        self._has_snapshot = True
        self._writing += 1

        def adopt() -> None:
            self.store.save(snapshot, self.session)
            self.store.discard(entry)

        self._submit(adopt, self._after_write)
        self.status.showMessage(
            f"Recovered {entry.title}. It is not saved yet: save it (Ctrl+S) or save a project (Ctrl+Alt+S).", 12000
        )
        return doc

    def _discard_entry(self, entry: RecoveryEntry) -> None:
        try:
            self.store.discard(entry)
        except OSError as exc:
            messages.error(self.parent_widget, "Cannot delete the snapshot", f"{entry.project}: {exc.strerror or exc}")
