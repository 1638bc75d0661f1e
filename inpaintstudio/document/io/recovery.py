"""Crash recovery: snapshots of the open document, and finding the ones a crashed or killed app left.

Each running app instance picks a session id (:func:`new_session_id`) and, while its document has
unsaved changes, writes snapshots into the recovery folder (``<user data>/recovery``) with
:meth:`RecoveryStore.save`:

- ``<session>.inpaint``: a project file (see :mod:`project`) with the recent undo history, written
  atomically, so an interrupted autosave leaves the previous snapshot intact;
- ``<session>.json``: a small sidecar written after it: ``{"version": 1, "session_id", "pid",
  "process_start", "host", "timestamp", "original_path", "project_path", "title", "width", "height",
  "steps", "app_version"}``.

A snapshot is *pending* (offered for recovery at the next start) when the process that wrote it is
gone. The pid alone is not enough, since pids are reused: the sidecar also records the writer's start
time (:func:`inpaintstudio.processes.process_start`). A snapshot is stale when its pid does not exist or is
a zombie, or exists but started at another time (another program reusing the pid); when the start time
cannot be read, a live pid counts as the owner still running (we never offer to recover a session that
may still be open). A snapshot written on another host (a shared home folder) cannot be checked and is
offered. A normal save or close removes the session's snapshot (:meth:`RecoveryStore.discard`).

When to take a snapshot is :class:`inpaintstudio.document.autosave.AutosavePolicy`'s rule.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from inpaintstudio import __version__, paths
from inpaintstudio.atomic import atomic_write_bytes
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import project
from inpaintstudio.errors import InputError
from inpaintstudio.processes import process_alive, process_start

log = logging.getLogger(__name__)

SIDECAR_VERSION = 1
_SESSION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STALE_TEMP_SECONDS = 3600.0


def new_session_id() -> str:
    return uuid.uuid4().hex


@functools.cache
def _own_start(pid: int) -> str | None:
    """This process's start (by pid, so a forked child reads its own); it is read once per autosave otherwise."""
    return process_start(pid)


def owner_running(pid: int, start: str | None, host: str | None) -> bool:
    """Whether the process that wrote a snapshot is still running (see the module notes)."""
    if host and host != socket.gethostname():
        return False
    if not process_alive(pid):
        return False
    if start is None:
        return True
    current = process_start(pid)
    return current is None or current == start


# -- the store -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryEntry:
    """A snapshot on disk, as listed by :meth:`RecoveryStore.pending`."""

    session_id: str
    project: Path  # the .inpaint snapshot
    sidecar: Path
    pid: int
    timestamp: float  # when it was written (seconds since the epoch)
    title: str  # what the app showed as the document's name
    original_path: Path | None  # the photo the document saves to
    project_path: Path | None  # its project file, if it had one
    width: int
    height: int
    steps: int  # undo steps stored with it

    def describe(self) -> str:
        """One line for the recover-on-start prompt."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.timestamp))
        return f"{self.title} ({self.width}x{self.height}, {when})"


class RecoveryStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else paths.user_data_dir() / "recovery"

    def _paths(self, session_id: str) -> tuple[Path, Path]:
        if not isinstance(session_id, str) or not _SESSION.match(session_id):
            raise InputError(f"'{session_id}' is not a valid recovery session id (letters, digits, '-', '_')")
        return self.folder / f"{session_id}{project.SUFFIX}", self.folder / f"{session_id}.json"

    def save(self, doc: Document | project.ProjectSnapshot, session_id: str) -> Path:
        """Write (or replace) this session's snapshot; returns the project file's path.

        Give a :class:`~inpaintstudio.document.io.project.ProjectSnapshot` taken with
        ``project.capture(doc)`` on the GUI thread to write from a worker thread. Raises ImageSaveError
        when the folder cannot be written (the previous snapshot stays).
        """
        snapshot = doc if isinstance(doc, project.ProjectSnapshot) else project.capture(doc)
        target, sidecar = self._paths(session_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Fast compression: an autosave must not stall editing; the file is short-lived.
        project.write_snapshot(snapshot, target, compress_level=1)
        named = snapshot.project_path or snapshot.original_path
        pid = os.getpid()
        info = {
            "version": SIDECAR_VERSION,
            "session_id": session_id,
            "pid": pid,
            "process_start": _own_start(pid),
            "host": socket.gethostname(),
            "timestamp": time.time(),
            "original_path": None if snapshot.original_path is None else str(snapshot.original_path),
            "project_path": None if snapshot.project_path is None else str(snapshot.project_path),
            "title": named.name if named else "Untitled",
            "width": snapshot.size[0],
            "height": snapshot.size[1],
            "steps": snapshot.steps,
            "app_version": __version__,
        }
        atomic_write_bytes(sidecar, (json.dumps(info, indent=1) + "\n").encode("utf-8"))
        return target

    def _entry(self, sidecar: Path) -> tuple[RecoveryEntry, str | None, str | None] | None:
        try:
            if sidecar.stat().st_size > 1 << 20:
                return None
            info = json.loads(sidecar.read_text(encoding="utf-8"))
            session_id = info["session_id"]
            target, expected_sidecar = self._paths(session_id)
            if expected_sidecar != sidecar or info.get("version") != SIDECAR_VERSION:
                return None

            def optional_path(key: str) -> Path | None:
                value = info.get(key)
                return Path(value) if isinstance(value, str) and value else None

            entry = RecoveryEntry(
                session_id=session_id,
                project=target,
                sidecar=sidecar,
                pid=int(info["pid"]),
                timestamp=float(info["timestamp"]),
                title=str(info.get("title") or "Untitled"),
                original_path=optional_path("original_path"),
                project_path=optional_path("project_path"),
                width=int(info.get("width", 0)),
                height=int(info.get("height", 0)),
                steps=int(info.get("steps", 0)),
            )
            start, host = info.get("process_start"), info.get("host")
            return entry, start if isinstance(start, str) else None, host if isinstance(host, str) else None
        except (OSError, ValueError, KeyError, TypeError, InputError) as exc:
            log.warning("ignoring unreadable recovery file %s: %s", sidecar, exc)
            return None

    def entries(self) -> list[tuple[RecoveryEntry, bool]]:
        """Every snapshot with whether its owner is still running, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for sidecar in self.folder.glob("*.json"):
            parsed = self._entry(sidecar)
            if parsed is None or not parsed[0].project.is_file():
                continue
            entry, start, host = parsed
            found.append((entry, owner_running(entry.pid, start, host)))
        found.sort(key=lambda item: item[0].timestamp, reverse=True)
        return found

    def pending(self) -> list[RecoveryEntry]:
        """Snapshots whose owning process is gone (crashed, killed), newest first: offer these."""
        self._remove_stale_temporaries()
        return [entry for entry, running in self.entries() if not running]

    def restore(self, entry: RecoveryEntry) -> Document:
        """The snapshot's document, with its undo history; as dirty as it was when the snapshot was taken.

        ``path`` is the photo and ``project_path`` the project file it belonged to. Raises ImageLoadError
        when the snapshot is damaged. The snapshot stays on disk until :meth:`discard`.
        """
        # The photo was open in the app already, under whatever pixel limit it had then.
        doc, saved = project.read_project(entry.project, max_pixels=None)
        doc.project_path = entry.project_path
        doc.restore_saved_position(saved)
        return doc

    def discard(self, entry: RecoveryEntry | str) -> None:
        """Remove a snapshot (after a normal save or close, or when the user declines to recover it)."""
        session_id = entry.session_id if isinstance(entry, RecoveryEntry) else entry
        target, sidecar = self._paths(session_id)
        for path in (sidecar, target):  # the sidecar first: a project without one is never offered
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _remove_stale_temporaries(self) -> None:
        """Temporary files of a write that was killed half way (atomic_write's ``.NAME.XXXX.part``)."""
        if not self.folder.is_dir():
            return
        now = time.time()
        for temp in self.folder.glob(".*.part"):
            with contextlib.suppress(OSError):
                if now - temp.stat().st_mtime > _STALE_TEMP_SECONDS:
                    temp.unlink()
