"""The brush rasteriser against a direct, per-pixel reading of its definition."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.document.brush import Brush, apply_coverage, segment_coverage
from inpaintstudio.geometry import Rect

BOUNDS = Rect(0, 0, 700, 500)


def reference(brush: Brush, p0: tuple[float, float], p1: tuple[float, float], rect: Rect) -> np.ndarray:
    """Coverage by the definition, in float64: distance from each pixel centre to the segment p0-p1, a
    one-pixel antialiased rim at the radius and, for soft brushes, a smoothstep from the core to the rim."""
    ys, xs = np.mgrid[rect.y : rect.bottom, rect.x : rect.right] + 0.5
    a, d = np.array(p0, float), np.array(p1, float) - np.array(p0, float)
    length2 = float(d @ d)
    t = np.zeros_like(xs) if length2 == 0 else np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / length2, 0, 1)
    dist = np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))
    coverage = np.clip(brush.radius + 0.5 - dist, 0, 1)
    if brush.hardness < 1:
        core = brush.radius * brush.hardness
        s = np.clip((dist - core) / max(brush.radius - core, 1e-3), 0, 1)
        coverage = np.minimum(coverage, 1 - s * s * (3 - 2 * s))
    return coverage


@pytest.mark.parametrize("seed", range(6))
def test_coverage_matches_the_definition(seed):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        brush = Brush(rng.uniform(1, 300), rng.uniform(0, 1))
        p0 = (float(rng.uniform(-40, 740)), float(rng.uniform(-40, 540)))
        p1 = p0 if rng.random() < 0.3 else (p0[0] + float(rng.normal(0, 40)), p0[1] + float(rng.normal(0, 40)))
        rect, coverage = segment_coverage(brush, p0, p1, BOUNDS)
        if rect.is_empty():
            assert coverage.size == 0
            continue
        assert coverage.dtype == np.float32 and coverage.shape == (rect.h, rect.w)
        assert BOUNDS.contains(rect)
        assert np.abs(coverage - reference(brush, p0, p1, rect)).max() < 2e-3


def test_painting_takes_the_maximum_and_erasing_the_minimum():
    layer = np.full((20, 20), 100, np.uint8)
    rect, coverage = segment_coverage(Brush(12, 1.0), (10, 10), (10, 10), Rect(0, 0, 20, 20))
    painted = layer.copy()
    apply_coverage(painted, rect, coverage, erase=False)
    assert painted[10, 10] == 255 and painted[0, 0] == 100, "outside the brush nothing changes"
    assert (painted >= 100).all()
    erased = layer.copy()
    apply_coverage(erased, rect, coverage, erase=True)
    assert erased[10, 10] == 0 and erased[0, 0] == 100 and (erased <= 100).all()


@pytest.mark.parametrize("erase", [False, True])
def test_a_continuing_segment_skips_only_pixels_already_painted(erase):
    """Painting a polyline with ``continuing`` (the box ahead of each joint) gives the same layer as
    painting every segment in full, while computing fewer pixels."""
    rng = np.random.default_rng(7)
    for brush in (Brush(180, 0.8), Brush(61, 0.0), Brush(25, 1.0)):
        points, angle = [(350.0, 250.0)], 0.0
        for _ in range(60):
            angle += rng.normal(0, 0.6)  # a hand's stroke turns gradually
            step = rng.uniform(0.5, 30)
            x, y = points[-1]
            points.append(
                (float(np.clip(x + step * np.cos(angle), -20, 720)), float(np.clip(y + step * np.sin(angle), -20, 520)))
            )
        start = 0 if erase else 255
        full = np.full((BOUNDS.h, BOUNDS.w), 255 - start, np.uint8)
        fast = full.copy()
        full_px = fast_px = 0
        for i, p1 in enumerate(points):
            p0 = points[max(0, i - 1)]
            rect, coverage = segment_coverage(brush, p0, p1, BOUNDS)
            if not rect.is_empty():
                apply_coverage(full, rect, coverage, erase)
                full_px += rect.area
            rect, coverage = segment_coverage(brush, p0, p1, BOUNDS, continuing=i > 0)
            if not rect.is_empty():
                apply_coverage(fast, rect, coverage, erase)
                fast_px += rect.area
        assert np.abs(full.astype(int) - fast).max() <= 1
        assert fast_px < (0.75 if brush.size > 100 else 0.9) * full_px, (brush, fast_px / full_px)
