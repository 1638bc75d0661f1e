"""Tests for the free-form, coverage-bounded and outpainting border masks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaintstudio.training.masks import SIDES, border_mask, free_form_mask, mask_with_coverage


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def test_free_form_is_bool_deterministic_and_seed_dependent() -> None:
    a = free_form_mask(256, 256, np.random.default_rng(7))
    b = free_form_mask(256, 256, np.random.default_rng(7))
    c = free_form_mask(256, 256, np.random.default_rng(8))
    assert a.dtype == bool and a.shape == (256, 256)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_free_form_hole_fraction_statistics() -> None:
    fractions = np.array([free_form_mask(256, 256, np.random.default_rng(s)).mean() for s in range(200)])
    # The box alone covers at least 96 x 96 / 256^2 = 14 %; strokes add a fair amount more.
    assert fractions.min() >= 0.14
    assert fractions.max() <= 0.8
    assert 0.2 <= fractions.mean() <= 0.45
    assert fractions.std() > 0.03  # coverage varies naturally


@pytest.mark.parametrize(("height", "width", "side"), [(256, 256, 128), (256, 512, 128), (512, 512, 256)])
def test_box_only_is_scaled_rectangle(height: int, width: int, side: int) -> None:
    shrink = side // 8  # 16 px per side at 256
    for seed in range(30):
        mask = free_form_mask(height, width, np.random.default_rng(seed), max_strokes=0)
        y0, y1, x0, x1 = _bbox(mask)
        assert mask[y0:y1, x0:x1].all(), "box must be a filled rectangle"
        assert mask.sum() == (y1 - y0) * (x1 - x0)
        assert side - 2 * shrink <= y1 - y0 <= side
        assert side - 2 * shrink <= x1 - x0 <= side


def test_no_box_no_strokes_is_empty() -> None:
    assert not free_form_mask(64, 64, np.random.default_rng(0), box=False, max_strokes=0).any()


def _stroke_half_widths(size: int) -> float:
    """Mean (over seeds) of the median inscribed radius of single-stroke masks."""
    values = []
    for seed in range(40):
        mask = free_form_mask(size, size, np.random.default_rng(seed), box=False, max_strokes=1)
        assert mask.any()
        dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
        skeleton_like = dist[dist >= np.percentile(dist[mask], 90)]
        values.append(float(np.median(skeleton_like)))
    return float(np.mean(values))


def test_stroke_width_in_range_and_scaled() -> None:
    r256 = _stroke_half_widths(256)
    r512 = _stroke_half_widths(512)
    assert 4.0 <= r256 <= 22.0  # width U(12, 40) -> half width 6..20
    assert 1.6 <= r512 / r256 <= 2.4


def test_strokes_are_counted_between_one_and_max() -> None:
    # With a single stroke the mask is one connected piece (vertices are joined by lines).
    for seed in range(20):
        mask = free_form_mask(256, 256, np.random.default_rng(seed), box=False, max_strokes=1)
        n_labels, _ = cv2.connectedComponents(mask.astype(np.uint8))
        assert n_labels == 2


def test_mask_with_coverage_in_range() -> None:
    for seed in range(100):
        mask = mask_with_coverage(256, 256, np.random.default_rng(seed))
        assert 0.10 <= mask.mean() <= 0.40


@pytest.mark.parametrize(("low", "high"), [(0.6, 0.62), (0.01, 0.02), (0.25, 0.25)])
def test_mask_with_coverage_fallback_hits_narrow_ranges(low: float, high: float) -> None:
    for seed in range(10):
        mask = mask_with_coverage(128, 128, np.random.default_rng(seed), low=low, high=high, max_tries=2)
        assert low <= mask.mean() <= high
    again = mask_with_coverage(128, 128, np.random.default_rng(3), low=low, high=high, max_tries=2)
    first = mask_with_coverage(128, 128, np.random.default_rng(3), low=low, high=high, max_tries=2)
    assert np.array_equal(again, first)


def test_mask_with_coverage_rejects_impossible_range() -> None:
    with pytest.raises(ValueError):
        mask_with_coverage(2, 2, np.random.default_rng(0), low=0.3, high=0.4)


def _check_border(mask: np.ndarray, widths: tuple[int, int, int, int]) -> None:
    height, width = mask.shape
    left, top, right, bottom = widths
    known = ~mask
    assert known.sum() == (height - top - bottom) * (width - left - right)
    assert known[top : height - bottom, left : width - right].all()
    edges = {"left": mask[:, 0], "top": mask[0, :], "right": mask[:, -1], "bottom": mask[-1, :]}
    for name, w in zip(SIDES, widths, strict=True):
        # An unknown side makes the whole canvas edge a hole; a known side keeps known pixels there.
        assert edges[name].all() == (w > 0), name


@pytest.mark.parametrize(
    "sides", [("left",), ("bottom",), ("top", "right"), ("left", "right"), ("left", "top", "right", "bottom")]
)
def test_border_mask_requested_sides(sides: tuple[str, ...]) -> None:
    for seed in range(20):
        mask, widths = border_mask(256, 512, np.random.default_rng(seed), sides=sides)
        _check_border(mask, widths)
        assert {s for s, w in zip(SIDES, widths, strict=True) if w > 0} == set(sides)
        left, top, right, bottom = widths
        if left or right:
            assert 0.1 * 512 - 1 <= left + right <= 0.5 * 512 + 1
        if top or bottom:
            assert 0.1 * 256 - 1 <= top + bottom <= 0.5 * 256 + 1


def test_border_mask_random_sides_cover_all_counts() -> None:
    counts = set()
    for seed in range(200):
        mask, widths = border_mask(128, 128, np.random.default_rng(seed))
        _check_border(mask, widths)
        counts.add(sum(w > 0 for w in widths))
    assert counts == {1, 2, 3, 4}


def test_border_mask_rejects_bad_sides() -> None:
    with pytest.raises(ValueError):
        border_mask(64, 64, np.random.default_rng(0), sides=("middle",))
