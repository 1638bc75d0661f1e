"""Refuse to start on a Qt binding known to crash the app, with a message that says what to install.

PySide6 / shiboken6 6.12.0 on CPython 3.11 return ``None`` from void methods (``widget.update()``,
``painter.save()``) and ``True`` from ``Signal.emit()`` without taking a reference. Every call lowers
their reference count, and after a few seconds of painting CPython deallocates ``None`` and aborts
("none_dealloc"). pyproject.toml keeps that combination from being installed (6.11 on Python 3.11);
this check catches a manual upgrade, probing the binding once at start-up (64 cheap calls).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

PROBES = 64


def _drops_references(call: Callable[[], object], obj: object) -> bool:
    before = sys.getrefcount(obj)
    for _ in range(PROBES):
        call()
    return before - sys.getrefcount(obj) >= PROBES * 0.9


def binding_drops_references() -> bool:
    """Whether the installed PySide6 leaks references to None / True (the 6.12.0 defect)."""
    if sys.version_info >= (3, 12):  # None and True are immortal there: nothing can run out
        return False
    from PySide6.QtCore import QObject, QPointF, Signal

    class Probe(QObject):
        ping = Signal()

    point, probe = QPointF(), Probe()
    return _drops_references(lambda: point.setX(1.0), None) or _drops_references(probe.ping.emit, True)


def binding_problem() -> str | None:
    """A message for the user when the binding would crash the app, else None."""
    if not binding_drops_references():
        return None
    import PySide6

    return (
        f"PySide6 {PySide6.__version__} on Python {sys.version_info.major}.{sys.version_info.minor} has a known "
        "defect that crashes the app; install a working version with: pip install 'PySide6-Essentials<6.12'"
    )
