"""Atomic file writes: write a temporary file beside the target, flush it to disk, then rename.

A crash, a full disk or an exception half way through leaves the previous file (or nothing) in place,
never a truncated photo or manifest. The file gets the permissions any other program's would: a new one
follows the umask (the temporary file is created with mode 0666 and the kernel applies the umask, so
nothing process-wide is changed), and a replaced one keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new, empty ``.NAME.XXXXXXXX.part`` beside ``target``, opened for writing."""
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue


def _keep_mode(tmp: Path, target: Path) -> None:
    """Give the temporary file the mode of the file it replaces, if there is one."""
    try:
        existing = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return  # a new file: the umask already applied
    with contextlib.suppress(OSError):  # e.g. a file system without modes: the write still goes ahead
        os.chmod(tmp, existing)


@contextlib.contextmanager
def atomic_write(path: Path | str, mode: str = "wb") -> Iterator[IO]:
    target = Path(path)
    fd, tmp = _create_temporary(target)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(tmp, target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_write(path) as fh:
        fh.write(data)
