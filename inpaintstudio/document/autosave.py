"""When to autosave, as pure logic free of Qt (the app's recovery controller drives it from a timer).

A snapshot is due :data:`AUTOSAVE_INTERVAL` seconds after the first unsaved change since the last
snapshot, and at once after a fill. The snapshots themselves are written by
:class:`~inpaintstudio.document.io.recovery.RecoveryStore`.
"""

from __future__ import annotations

AUTOSAVE_INTERVAL = 30.0


class AutosavePolicy:
    """When to autosave, as pure logic (the app drives it from a timer with ``time.monotonic()``).

    Call :meth:`changed` on every change that leaves the document dirty (``filled`` after a fill), ask
    :meth:`due` from a timer, and call :meth:`saved` once a snapshot has been taken (or the document was
    saved or closed normally).
    """

    def __init__(self, interval: float = AUTOSAVE_INTERVAL) -> None:
        self.interval = float(interval)
        self._first_change: float | None = None
        self._fill = False

    @property
    def pending(self) -> bool:
        """Whether there are changes that no snapshot holds yet."""
        return self._first_change is not None

    def changed(self, now: float, *, fill: bool = False) -> None:
        if self._first_change is None:
            self._first_change = now
        self._fill = self._fill or fill

    def filled(self, now: float) -> None:
        self.changed(now, fill=True)

    def due(self, now: float) -> bool:
        if self._first_change is None:
            return False
        return self._fill or now - self._first_change >= self.interval

    def seconds_until_due(self, now: float) -> float | None:
        """How long until :meth:`due` becomes true (0: now), or None with nothing to save; for a timer."""
        if self._first_change is None:
            return None
        if self._fill:
            return 0.0
        return max(0.0, self._first_change + self.interval - now)

    def saved(self) -> None:
        self._first_change = None
        self._fill = False
