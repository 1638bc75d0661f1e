"""Random hole masks for training: DeepFillv2-style free-form masks and SRN-style outpainting borders.

All masks are boolean ``H x W`` arrays with ``True`` = hole (unknown pixel), the convention of every model
in the app. Randomness only comes from the ``numpy.random.Generator`` passed in, so a dataset item can be
reproduced exactly from its seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import cv2
import numpy as np

__all__ = ["SIDES", "border_mask", "free_form_mask", "mask_with_coverage", "painted_mask", "painted_mask_with_coverage"]

#: Side names in the order used by the ``(left, top, right, bottom)`` tuples returned by :func:`border_mask`.
SIDES: tuple[str, str, str, str] = ("left", "top", "right", "bottom")

# Free-form parameters from the DeepFillv2 training code, defined for a 256 x 256 canvas.
_REF_SIDE = 256.0
_BOX_SIDE = 128
_BOX_MAX_SHRINK = 16
_MIN_VERTICES, _MAX_VERTICES = 4, 12  # numpy-style half-open range: 4..11 vertices, as in the original
_MEAN_ANGLE = 2.0 * math.pi / 5.0
_ANGLE_RANGE = 2.0 * math.pi / 15.0
_MIN_WIDTH, _MAX_WIDTH = 12.0, 40.0


def _draw_box(canvas: np.ndarray, rng: np.random.Generator, scale: float) -> None:
    """Draw the 128 x 128 (scaled) box with each side shrunk independently by 0..16 (scaled) pixels."""
    height, width = canvas.shape
    box_h = max(1, min(height, round(_BOX_SIDE * scale)))
    box_w = max(1, min(width, round(_BOX_SIDE * scale)))
    top = int(rng.integers(0, height - box_h, endpoint=True))
    left = int(rng.integers(0, width - box_w, endpoint=True))
    max_shrink = round(_BOX_MAX_SHRINK * scale)
    # Shrink amounts are inclusive (0..16) like the original's randint(max_delta // 2 + 1).
    d_top, d_left, d_bottom, d_right = (int(v) for v in rng.integers(0, max_shrink, size=4, endpoint=True))
    y0, y1 = top + d_top, top + box_h - d_bottom
    x0, x1 = left + d_left, left + box_w - d_right
    if y1 <= y0 or x1 <= x0:  # only possible on absurdly small canvases; keep at least one pixel
        y0, y1, x0, x1 = top, top + 1, left, left + 1
    canvas[y0:y1, x0:x1] = 1


def _draw_stroke(canvas: np.ndarray, rng: np.random.Generator, scale: float) -> None:
    """Draw one random polyline stroke: thick segments plus a filled disc at every vertex.

    The zig-zag (``2*pi - angle`` on even vertices) keeps strokes wandering instead of spiralling.
    """
    height, width = canvas.shape
    radius = math.sqrt(height * height + width * width) / 8.0
    n_vertices = int(rng.integers(_MIN_VERTICES, _MAX_VERTICES))
    angle_min = _MEAN_ANGLE - rng.uniform(0.0, _ANGLE_RANGE)
    angle_max = _MEAN_ANGLE + rng.uniform(0.0, _ANGLE_RANGE)
    angles = rng.uniform(angle_min, angle_max, size=n_vertices)
    angles[::2] = 2.0 * math.pi - angles[::2]
    lengths = np.clip(rng.normal(radius, radius / 2.0, size=n_vertices), 0.0, 2.0 * radius)
    stroke_width = max(1, int(rng.uniform(_MIN_WIDTH, _MAX_WIDTH) * scale))

    x, y = float(rng.integers(0, width)), float(rng.integers(0, height))
    vertices = [(int(x), int(y))]
    for angle, length in zip(angles, lengths, strict=True):
        x = float(np.clip(x + length * math.cos(angle), 0, width - 1))
        y = float(np.clip(y + length * math.sin(angle), 0, height - 1))
        vertices.append((int(x), int(y)))
    for start, end in itertools.pairwise(vertices):
        cv2.line(canvas, start, end, 1, thickness=stroke_width, lineType=cv2.LINE_8)
    for vertex in vertices:
        cv2.circle(canvas, vertex, stroke_width // 2, 1, thickness=-1)


def free_form_mask(
    height: int, width: int, rng: np.random.Generator, *, box: bool = True, max_strokes: int = 3
) -> np.ndarray:
    """Return a DeepFillv2 free-form mask (bool ``H x W``, True = hole): a box union 1..max_strokes strokes.

    Box side and stroke width are defined for 256 px and scaled by ``min(H, W) / 256`` so that other
    canvas sizes get holes of the same relative size; the stroke length already scales with the diagonal.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"canvas must be non-empty, got {height}x{width}")
    scale = min(height, width) / _REF_SIDE
    canvas = np.zeros((height, width), dtype=np.uint8)
    if box:
        _draw_box(canvas, rng, scale)
    if max_strokes > 0:
        for _ in range(int(rng.integers(1, max_strokes, endpoint=True))):
            _draw_stroke(canvas, rng, scale)
    return canvas.astype(bool)


def _adjust_coverage(mask: np.ndarray, k_low: int, k_high: int) -> np.ndarray:
    """Grow or shrink ``mask`` along its boundary until its pixel count lies in ``[k_low, k_high]``.

    Pixels are added (removed) in order of their distance to the hole (to the known area), i.e. a
    pixel-exact dilation (erosion), so the shape stays plausible and the result is deterministic.
    """
    mask = mask.copy()
    count = int(mask.sum())
    if count < k_low:
        if count == 0:
            mask[mask.shape[0] // 2, mask.shape[1] // 2] = True
            count = 1
        dist = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
        candidates = np.flatnonzero(~mask.ravel())
        order = np.argsort(dist.ravel()[candidates], kind="stable")
        mask.ravel()[candidates[order[: max(0, k_low - count)]]] = True
    elif count > k_high:
        dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
        candidates = np.flatnonzero(mask.ravel())
        order = np.argsort(dist.ravel()[candidates], kind="stable")
        mask.ravel()[candidates[order[: count - k_high]]] = False
    return mask


def mask_with_coverage(
    height: int,
    width: int,
    rng: np.random.Generator,
    low: float = 0.10,
    high: float = 0.40,
    max_tries: int = 50,
) -> np.ndarray:
    """Return a free-form mask whose hole fraction lies in ``[low, high]`` (used for evaluation buckets).

    Strategy: draw a free-form mask, add single strokes while it is too small, and redraw when it
    overshoots. After ``max_tries`` draws the last candidate is grown/shrunk pixel-exactly along its
    boundary, so the function always terminates with a mask in range. Raises ``ValueError`` only when no
    pixel count on this canvas can satisfy the range.
    """
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"need 0 <= low <= high <= 1, got low={low}, high={high}")
    n_pixels = height * width
    k_low = math.ceil(low * n_pixels - 1e-9)
    k_high = math.floor(high * n_pixels + 1e-9)
    if k_low > k_high:
        raise ValueError(f"no hole size on a {height}x{width} canvas has a fraction in [{low}, {high}]")
    mask = np.zeros((height, width), dtype=bool)
    for _ in range(max(1, max_tries)):
        mask = free_form_mask(height, width, rng)
        extra_strokes = 0
        while mask.sum() < k_low and extra_strokes < 8:
            mask |= free_form_mask(height, width, rng, box=False, max_strokes=1)
            extra_strokes += 1
        if k_low <= mask.sum() <= k_high:
            return mask
    return _adjust_coverage(mask, k_low, k_high)


# -- masks like the ones people paint ---------------------------------------------------------------------
# Free-form masks are zig-zag polylines of 12-40 px on 256 px. What people paint over a photo is different:
# a few smooth, thick brush strokes along the thing to remove, or a blob that covers an object with a
# margin (a person, a car, a sign). Both are drawn here relative to the short side of the canvas.


def _smooth_stroke(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """One brush stroke: a wandering path with momentum (no zig-zag), 4-14 % of the short side thick."""
    height, width = canvas.shape
    short = min(height, width)
    thickness = max(2, int(rng.uniform(0.04, 0.14) * short))
    steps = int(rng.integers(4, 14))
    step_len = rng.uniform(0.04, 0.10) * short
    x, y = rng.uniform(0, width), rng.uniform(0, height)
    heading = rng.uniform(0, 2 * math.pi)
    points = [(x, y)]
    for _ in range(steps):
        heading += rng.normal(0.0, 0.45)  # a hand turns gradually
        x = float(np.clip(x + step_len * math.cos(heading), 0, width - 1))
        y = float(np.clip(y + step_len * math.sin(heading), 0, height - 1))
        points.append((x, y))
    pts = np.round(np.array(points)).astype(np.int32)
    cv2.polylines(canvas, [pts], False, 1, thickness=thickness, lineType=cv2.LINE_8)
    for px, py in pts:
        cv2.circle(canvas, (int(px), int(py)), thickness // 2, 1, thickness=-1)


def _object_blob(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """An object-shaped blob: a star-convex outline with smooth radial noise, 8-35 % of the short side."""
    height, width = canvas.shape
    short = min(height, width)
    radius = rng.uniform(0.08, 0.35) * short
    aspect = rng.uniform(0.5, 2.0)  # tall objects (people) and wide ones (cars)
    cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
    n = 48
    angles = np.linspace(0, 2 * math.pi, n, endpoint=False)
    # a few low harmonics give lumpy, plausible silhouettes without spikes
    r = np.ones(n)
    for k in range(1, 5):
        r += rng.normal(0, 0.12 / k) * np.cos(k * angles + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 0.4, 1.6) * radius
    xs = cx + r * np.cos(angles) * math.sqrt(aspect)
    ys = cy + r * np.sin(angles) / math.sqrt(aspect)
    pts = np.stack([np.clip(xs, 0, width - 1), np.clip(ys, 0, height - 1)], axis=1).round().astype(np.int32)
    cv2.fillPoly(canvas, [pts], 1)


def painted_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A mask like a person paints: 1-3 object blobs, 1-4 thick brush strokes, or both (bool, True = hole)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"canvas must be non-empty, got {height}x{width}")
    canvas = np.zeros((height, width), dtype=np.uint8)
    kind = rng.random()
    if kind < 0.4 or kind >= 0.75:
        for _ in range(int(rng.integers(1, 3, endpoint=True))):
            _object_blob(canvas, rng)
    if kind >= 0.4:
        for _ in range(int(rng.integers(1, 4, endpoint=True))):
            _smooth_stroke(canvas, rng)
    return canvas.astype(bool)


def painted_mask_with_coverage(
    height: int, width: int, rng: np.random.Generator, low: float = 0.10, high: float = 0.50, max_tries: int = 50
) -> np.ndarray:
    """A :func:`painted_mask` whose hole fraction lies in ``[low, high]`` (the validation masks)."""
    n_pixels = height * width
    k_low, k_high = math.ceil(low * n_pixels - 1e-9), math.floor(high * n_pixels + 1e-9)
    if not 0.0 <= low <= high <= 1.0 or k_low > k_high:
        raise ValueError(f"no hole size on a {height}x{width} canvas has a fraction in [{low}, {high}]")
    mask = np.zeros((height, width), dtype=bool)
    for _ in range(max(1, max_tries)):
        mask = painted_mask(height, width, rng)
        while mask.sum() < k_low and rng.random() < 0.8:
            mask |= painted_mask(height, width, rng)
        if k_low <= mask.sum() <= k_high:
            return mask
    return _adjust_coverage(mask, k_low, k_high)


def border_mask(
    height: int,
    width: int,
    rng: np.random.Generator,
    *,
    min_frac: float = 0.1,
    max_frac: float = 0.5,
    sides: Iterable[str] | None = None,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Return an outpainting mask: a known rectangle with one or more canvas sides unknown.

    ``sides`` picks the unknown sides (names from :data:`SIDES`); by default 1 to 4 random sides. Per axis
    the unknown fraction is ``U(min_frac, max_frac)`` of that dimension; when both opposite sides are
    chosen that amount is split between them (25..75 %), so the known part of every axis keeps at least
    ``1 - max_frac`` of the canvas. Returns ``(hole_mask, (left, top, right, bottom))`` with the unknown
    widths in pixels (0 for sides that stay known); the hole is everything outside the known rectangle.
    """
    if not 0.0 < min_frac <= max_frac < 1.0:
        raise ValueError(f"need 0 < min_frac <= max_frac < 1, got {min_frac}, {max_frac}")
    if height < 3 or width < 3:
        raise ValueError(f"canvas too small for a border mask: {height}x{width}")
    if sides is None:
        count = int(rng.integers(1, len(SIDES), endpoint=True))
        chosen = {SIDES[i] for i in rng.choice(len(SIDES), size=count, replace=False)}
    else:
        chosen = set(sides)
        unknown_names = chosen - set(SIDES)
        if unknown_names or not chosen:
            raise ValueError(f"sides must be a non-empty subset of {SIDES}, got {sorted(chosen)}")

    widths = dict.fromkeys(SIDES, 0)
    for first, second, dim in (("left", "right", width), ("top", "bottom", height)):
        on_axis = [s for s in (first, second) if s in chosen]
        if not on_axis:
            continue
        total = round(rng.uniform(min_frac, max_frac) * dim)
        total = int(np.clip(total, len(on_axis), dim - 1))
        if len(on_axis) == 1:
            widths[on_axis[0]] = total
        else:
            split = int(np.clip(round(total * rng.uniform(0.25, 0.75)), 1, total - 1))
            widths[first], widths[second] = split, total - split

    left, top, right, bottom = (widths[s] for s in SIDES)
    mask = np.ones((height, width), dtype=bool)
    mask[top : height - bottom, left : width - right] = False
    return mask, (left, top, right, bottom)
