"""The sampling exclusion: fills never copy from pixels the user marked "do not sample".

The check of issue 20: a synthetic photo with red stripes on the left and green texture on the right,
a hole across the border; with the red side excluded, PatchMatch's fill holds no red and DeepFill v2's
less than without the exclusion, and every pixel outside the hole is bit-exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.engine import detail, processing, registry
from inpaintstudio.engine.detail import AttentionMap
from inpaintstudio.engine.inpainters import classical
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.errors import InputError
from inpaintstudio.geometry import Rect
from tests.exclusion_case import red_fraction, stripes_and_grass


def _fill(model: str, exclude: np.ndarray | None, **kwargs) -> tuple[np.ndarray, np.ndarray, object]:
    image, hole, excl = stripes_and_grass(**kwargs)
    result = run_fill(FillRequest(image, hole, model, device="cpu", exclude=excl if exclude is None else exclude))
    out = np.asarray(result.image)
    assert np.array_equal(out[~hole], image[~hole])  # unmasked pixels bit-exact
    return out, hole, result


@pytest.mark.parametrize("child", [False, True], ids=["in-process", "child-process"])
def test_patchmatch_copies_no_red_from_the_excluded_side(monkeypatch, child):
    monkeypatch.setattr(classical, "CHILD_MIN_PIXELS", 0 if child else 1 << 40)
    image, hole, exclude = stripes_and_grass()
    plain = run_fill(FillRequest(image, hole, "patchmatch"))
    assert red_fraction(np.asarray(plain.image), hole) > 0.1  # without the exclusion it copies stripes
    out, hole, _ = _fill("patchmatch", exclude)
    assert red_fraction(out, hole) < 0.01


def test_deepfill_holds_less_red_with_the_exclusion():
    if not registry.get("deepfillv2").status().ready:
        pytest.skip("deepfillv2 weights are not installed")
    image, hole, exclude = stripes_and_grass()
    plain = run_fill(FillRequest(image, hole, "deepfillv2", device="cpu"), cache=ModelCache())
    excluded, _, _ = _fill("deepfillv2", exclude)
    assert red_fraction(excluded, hole) < red_fraction(np.asarray(plain.image), hole)


def test_csa_takes_the_exclusion_without_a_note_and_keeps_unmasked_pixels():
    if not registry.get("csa").status().ready:
        pytest.skip("csa weights are not installed")
    _, hole, exclude = stripes_and_grass()
    _, _, result = _fill("csa", exclude)
    assert result.notices == ()


@pytest.mark.parametrize("model", ["telea", "navier-stokes"])
def test_diffusion_fills_ignore_the_exclusion_with_a_note(model):
    image, hole, exclude = stripes_and_grass()
    plain = run_fill(FillRequest(image, hole, model))
    out, _, result = _fill(model, exclude)
    assert np.array_equal(out, np.asarray(plain.image))
    assert any("exclusion was ignored" in notice for notice in result.notices)


def test_an_exclusion_that_leaves_nothing_to_copy_from_is_refused():
    image, hole, _ = stripes_and_grass()
    everything = np.ones(hole.shape, bool)
    for model in ("patchmatch", "deepfillv2", "csa"):
        with pytest.raises(InputError, match="nothing left to copy from"):
            run_fill(FillRequest(image, hole, model, device="cpu", exclude=everything))
    # a model that ignores the exclusion still fills (with its note)
    result = run_fill(FillRequest(image, hole, "telea", exclude=everything))
    assert result.changed


def test_an_exclusion_only_over_the_hole_changes_nothing():
    image, hole, _ = stripes_and_grass()
    plain = run_fill(FillRequest(image, hole, "patchmatch"))
    over_hole = run_fill(FillRequest(image, hole, "patchmatch", exclude=hole))
    assert np.array_equal(np.asarray(plain.image), np.asarray(over_hole.image))


def test_the_exclusion_follows_a_stepwise_border_extension():
    image, hole, exclude = stripes_and_grass(h=64, w=96)
    request = FillRequest(image, np.zeros_like(hole), "patchmatch", extent=Rect(0, 0, 96 * 3, 64), exclude=exclude)
    result = run_fill(request)
    assert result.size == (288, 64)
    new = np.asarray(result.image)[:, 96:]
    assert red_fraction(new, np.ones(new.shape[:2], bool)) < 0.01


def test_plan_regions_widens_the_context_an_exclusion_takes_away():
    hole = np.zeros((400, 800), bool)
    hole[180:220, 380:420] = True
    exclude = np.zeros_like(hole)
    exclude[:, :400] = True
    (plain,) = processing.plan_regions(hole, native_size=None, margin=40)
    (widened,) = processing.plan_regions(hole, native_size=None, margin=40, exclude=exclude)
    assert widened.contains(plain) and widened.area > plain.area
    rows, cols = widened.slices()
    usable = widened.area - np.count_nonzero(hole[rows, cols] | exclude[rows, cols])
    prow, pcol = plain.slices()
    assert usable >= plain.area - np.count_nonzero(hole[prow, pcol])
    # an exclusion far from the hole changes nothing
    far = np.zeros_like(hole)
    far[:, :100] = True
    assert processing.plan_regions(hole, native_size=None, margin=40, exclude=far) == [plain]


def test_prepare_scales_the_exclusion_conservatively():
    mask = np.zeros((400, 400), bool)
    mask[100:200, 100:200] = True
    exclude = np.zeros_like(mask)
    exclude[300, 50] = True  # one pixel: must survive scaling to a quarter
    prepared = processing.prepare(
        np.zeros((400, 400, 3), np.uint8), mask, None, native_size=100, pad_multiple=8, exclude=exclude
    )
    assert prepared.exclude is not None and prepared.exclude.shape == prepared.mask.shape
    assert prepared.exclude[75, 12]


def test_residual_aggregation_takes_nothing_from_excluded_cells():
    """The attention points every hole cell at a cell inside the exclusion: with the exclusion the
    residual is not taken, without it the hole gets its stripes."""
    h = w = 256
    rng = np.random.default_rng(1)
    crop = np.full((h, w, 3), 128, np.uint8)
    crop[:, :64] = rng.integers(0, 255, (h, 64, 3), dtype=np.uint8)  # strong texture on the left
    hole = np.zeros((h, w), bool)
    hole[96:160, 160:224] = True
    fill = np.full_like(crop, 128)
    rows = cols = 16
    cell = 4  # working image 64 x 64 (scale 1/4), grid of 16 x 16 cells
    best = np.full(rows * cols, 8 * cols + 1)  # every cell draws from cell (8, 1), deep in the texture
    attention = AttentionMap.from_best(best, (rows, cols), cell)
    exclude = np.zeros((h, w), bool)
    exclude[:, :64] = True
    args = {"scaled_size": (64, 64), "padded_size": (64, 64), "strength": 1.0}
    with_detail = detail.transfer_detail(crop, hole, fill, attention, **args)
    without = detail.transfer_detail(crop, hole, fill, attention, exclude=exclude, **args)
    assert np.abs(with_detail[hole].astype(int) - 128).mean() > 5
    assert np.array_equal(without, fill)
