"""Question 4: the GUI thread's event-loop delay while a deepfillv2 fill runs on the CPU.

The real main window (offscreen) runs fills of a 512 x 512 photo through its fill controller (the job
runner's worker thread) back to back, while a 10 ms precise QTimer on the GUI thread records how late
each tick arrives. Target: 95th percentile lateness at most 30 ms. The same timer without a fill gives
the baseline.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import Table, free_form_hole, learned_weights, percentile, synthetic_photo, verdict

INTERVAL_MS = 10


def _lateness(app, seconds: float | None = None, until=None) -> list[float]:  # noqa: ANN001
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]
    late: list[float] = []

    def tick() -> None:
        now = clock.nsecsElapsed()
        late.append(max(0.0, (now - last[0]) / 1e6 - INTERVAL_MS))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    timer.start(INTERVAL_MS)
    started = time.monotonic()
    while (until is not None and not until()) or (seconds is not None and time.monotonic() - started < seconds):
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return late


def run(device: str = "cpu", repeats: int = 3) -> list[Table]:
    from inpaintstudio.document.document import Document
    from inpaintstudio.ui.app import create_application
    from inpaintstudio.ui.main_window import MainWindow

    table = Table(
        "Q4. GUI event-loop lateness of a 10 ms timer while deepfillv2 fills a 512 x 512 photo on the CPU",
        ["situation", "ticks", "median ms", "p95 ms", "max ms", "fill s"],
    )
    with learned_weights("deepfillv2") as source:
        from inpaintstudio.engine import registry

        registry.refresh()
        app = create_application()
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        app.processEvents()
        idle = _lateness(app, seconds=2.0)
        table.add("idle (no fill)", len(idle), statistics.median(idle), percentile(idle, 95), max(idle), "-")
        all_late, durations = [], []
        for _ in range(repeats):
            doc = Document(synthetic_photo(512, 512))
            doc.mask[free_form_hole(512, 512, 0.25)] = 255
            window.set_document(doc)
            app.processEvents()
            started = time.monotonic()
            window.fills.fill("deepfillv2")
            late = _lateness(app, until=lambda: not window.fills.busy)
            durations.append(time.monotonic() - started)
            all_late += late
            doc.mark_saved()
        table.add(
            f"during {repeats} fills",
            len(all_late),
            statistics.median(all_late),
            percentile(all_late, 95),
            max(all_late),
            statistics.median(durations),
        )
        table.notes.append(f"deepfillv2 with {source}")
        table.notes.append(f"p95 lateness during fills: {verdict(percentile(all_late, 95), 30, 'ms')}")
        window.close()
    return [table]
