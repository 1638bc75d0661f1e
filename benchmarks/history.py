"""Question 6: undo history memory for 200 strokes of 60 px on a 6000 x 4000 photo (target <= 150 MB)."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import Table, verdict


def run(device: str = "cpu", repeats: int = 1) -> list[Table]:
    from inpaintstudio.document.brush import Brush
    from inpaintstudio.document.document import Document

    table = Table(
        "Q6. Undo history of 200 brush strokes (60 px) on a 6000 x 4000 photo",
        ["stroke length px", "strokes", "history MB", "MB per stroke", "ms per stroke"],
    )
    rng = np.random.default_rng(0)
    for length in (300, 1000, 3000):
        doc = Document(np.zeros((4000, 6000, 3), np.uint8))
        started = time.perf_counter()
        for i in range(200):
            x, y = rng.uniform(0, 6000), rng.uniform(0, 4000)
            angle = rng.uniform(0, 2 * np.pi)
            stroke = doc.begin_stroke("mask" if i % 5 else "sketch", Brush(60, 0.8))
            for k in range(int(length / 20) + 1):
                stroke.add_point(x + k * 20 * np.cos(angle), y + k * 20 * np.sin(angle))
            stroke.end()
        elapsed = time.perf_counter() - started
        mb = doc.history.nbytes / 1e6
        table.add(length, len(doc.history.edits), mb, mb / max(1, len(doc.history.edits)), elapsed / 200 * 1000)
        table.notes.append(f"{length} px strokes: {verdict(mb, 150, 'MB')}")
    return [table]
