"""Per-mouse-move cost of a brush stroke on a 6000 x 4000 photo, from event to repainted overlay.

    QT_QPA_PLATFORM=offscreen python scripts/bench_stroke.py [--segments 200]

For each move: a real QMouseEvent is sent to the canvas (interaction -> BrushTool -> Stroke.add_point ->
document notification -> overlay sub-rectangle update -> update(dirty rect)), then the event loop runs
the paint of the dirty region. Prints median and p95 per configuration.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402


def mouse(kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton) -> QMouseEvent:
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    return QMouseEvent(kind, pos, pos, button, buttons, Qt.KeyboardModifier.NoModifier)


def run(window, app, scale: float | None, brush: float, step: float, segments: int) -> list[float]:  # noqa: ANN001
    canvas = window.canvas
    window.brush_panel.size.set_value(brush)
    if scale is None:
        canvas.fit()
    else:
        canvas.transform.set_scale_at(scale, QPointF(canvas.width() / 2, canvas.height() / 2))
    app.processEvents()
    start = QPointF(canvas.width() * 0.2, canvas.height() * 0.3)
    app.sendEvent(canvas, mouse(QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton))
    app.processEvents()
    times = []
    for i in range(1, segments + 1):
        # a wavy stroke across the view, `step` screen pixels per move
        pos = start + QPointF(i * step * 0.9, 40 * np.sin(i / 9.0))
        t0 = time.perf_counter()
        app.sendEvent(canvas, mouse(QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton))
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
    app.sendEvent(canvas, mouse(QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton))
    app.processEvents()
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=200)
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args()

    from inpaintstudio.document.document import Document
    from inpaintstudio.ui.app import create_application
    from inpaintstudio.ui.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (args.height // 8, args.width // 8, 3), dtype=np.uint8)
    photo = np.ascontiguousarray(np.repeat(np.repeat(small, 8, axis=0), 8, axis=1))
    t0 = time.perf_counter()
    window.set_document(Document(photo))
    app.processEvents()
    print(f"open {args.width}x{args.height} into the canvas: {(time.perf_counter() - t0) * 1000:.0f} ms")
    configs = [
        ("fit to window, 100 px brush, 8 px moves", None, 100, 8),
        ("fit to window, 400 px brush, 8 px moves", None, 400, 8),
        ("100 %, 40 px brush, 4 px moves", 1.0, 40, 4),
        ("100 %, 150 px brush, 8 px moves", 1.0, 150, 8),
    ]
    for name, scale, brush, step in configs:
        times = run(window, app, scale, brush, step, args.segments)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{name:45s} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   max {times[-1]:6.2f} ms")
    canvas = window.canvas
    for label, scale in (("fit", None), ("100 %", 1.0), ("400 %", 4.0)):
        canvas.fit() if scale is None else canvas.transform.set_scale_at(scale, QPointF(800, 500))
        app.processEvents()
        full = []
        for _ in range(20):
            t0 = time.perf_counter()
            canvas.repaint()
            full.append((time.perf_counter() - t0) * 1000)
        pans = []
        for i in range(60):  # a pan drag: scroll the painted pixels, repaint the exposed strip
            t0 = time.perf_counter()
            canvas.transform.pan(-6 if i < 30 else 6, 3 if i < 30 else -3)
            app.processEvents()
            pans.append((time.perf_counter() - t0) * 1000)
        print(f"full repaint of the {canvas.width()}x{canvas.height()} view at {label:5s}: median "
              f"{statistics.median(full):5.2f} ms; pan step median {statistics.median(pans):5.2f} ms")  # fmt: skip
    window.doc.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
