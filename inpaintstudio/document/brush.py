"""Round-brush rasterisation of stroke segments (no Qt).

A segment from p0 to p1 is drawn as a capsule: every pixel's coverage depends on its distance to the
segment, so a stroke has no gaps or beads however fast the mouse moves, and its cost follows the
segment's bounding box, never the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inpaintstudio.geometry import Rect

MIN_SIZE = 1.0
MAX_SIZE = 2000.0


@dataclass(frozen=True)
class Brush:
    size: float = 40.0  # diameter in image pixels
    hardness: float = 0.8  # 1: hard edge (antialiased); 0: coverage falls off from the centre

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", float(min(MAX_SIZE, max(MIN_SIZE, self.size))))
        object.__setattr__(self, "hardness", float(min(1.0, max(0.0, self.hardness))))

    @property
    def radius(self) -> float:
        return self.size / 2.0


def segment_rect(brush: Brush, p0: tuple[float, float], p1: tuple[float, float]) -> Rect:
    reach = brush.radius + 1.0
    left = int(np.floor(min(p0[0], p1[0]) - reach))
    top = int(np.floor(min(p0[1], p1[1]) - reach))
    right = int(np.ceil(max(p0[0], p1[0]) + reach)) + 1
    bottom = int(np.ceil(max(p0[1], p1[1]) + reach)) + 1
    return Rect.from_edges(left, top, right, bottom)


def segment_coverage(
    brush: Brush, p0: tuple[float, float], p1: tuple[float, float], bounds: Rect
) -> tuple[Rect, np.ndarray]:
    """Coverage in [0, 1] (float32) of the capsule p0-p1 over its bounding box clipped to ``bounds``.

    Pixel (x, y) is sampled at its centre (x + 0.5, y + 0.5). Returns an empty rect when the segment
    lies outside ``bounds``.
    """
    rect = segment_rect(brush, p0, p1).intersect(bounds)
    if rect.is_empty():
        return rect, np.zeros((0, 0), np.float32)
    ys = np.arange(rect.y, rect.bottom, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(rect.x, rect.right, dtype=np.float32)[None, :] + 0.5
    ax, ay = np.float32(p0[0]), np.float32(p0[1])
    dx, dy = np.float32(p1[0] - p0[0]), np.float32(p1[1] - p0[1])
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
        px, py = xs - (ax + t * dx), ys - (ay + t * dy)
    else:
        px, py = xs - ax, ys - ay
    dist = np.sqrt(px * px + py * py)
    radius = np.float32(brush.radius)
    core = radius * np.float32(brush.hardness)
    # Antialiased edge: one pixel wide ramp around the radius.
    coverage = np.clip(radius + 0.5 - dist, 0.0, 1.0)
    if brush.hardness < 1.0:
        t = np.clip((dist - core) / max(radius - core, 1e-3), 0.0, 1.0)
        soft = 1.0 - t * t * (3.0 - 2.0 * t)  # smoothstep falloff from the hard core to the rim
        coverage = np.minimum(coverage, soft)
    return rect, coverage.astype(np.float32, copy=False)


def apply_coverage(layer: np.ndarray, rect: Rect, coverage: np.ndarray, erase: bool) -> None:
    """Paint (max) or erase (min with 1 - coverage) into a uint8 layer, in place.

    Taking the maximum means overlapping segments of one stroke do not build up darker joints.
    """
    target = layer[rect.slices()]
    if erase:
        np.minimum(target, np.round((1.0 - coverage) * 255.0).astype(np.uint8), out=target)
    else:
        np.maximum(target, np.round(coverage * 255.0).astype(np.uint8), out=target)
