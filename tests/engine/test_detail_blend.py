"""Full-resolution detail (residual aggregation) and seamless joins: the post-processing of learned fills."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaintstudio.engine import blend, detail
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.evaluation import metrics


def _texture(h: int, w: int) -> np.ndarray:
    """Fine stripes (period 4 px, repeating every attention cell) over a smooth ramp."""
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = 40.0 * np.sin(2 * np.pi * xx / 4.0) * np.cos(2 * np.pi * yy / 4.0)
    ramp = 80.0 + 60.0 * xx / w
    return np.clip(np.stack([ramp + stripes] * 3, axis=2), 0, 255).astype(np.uint8)


def _shift_attention(grid: tuple[int, int], hole_cells: np.ndarray, shift: int) -> detail.AttentionMap:
    """Each cell draws from the cell ``shift`` columns to its left (a known one for hole cells)."""
    rows, cols = grid
    index = np.arange(rows * cols)
    for cell in np.flatnonzero(hole_cells.ravel()):
        i, j = divmod(int(cell), cols)
        index[cell] = i * cols + (j - shift)
    return detail.AttentionMap.from_best(index, grid, 8)


def test_residual_aggregation_restores_the_holes_high_frequencies() -> None:
    h = w = 256
    truth = _texture(h, w)
    hole = np.zeros((h, w), bool)
    hole[96:160, 160:224] = True
    # The crop as a network sees it at a quarter of the size (64 px), scaled back up: the stripes are gone.
    small = cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA)
    fill = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    crop = truth.copy()
    crop[hole] = 0  # the pixels under the hole must never be read
    grid = (8, 8)  # 64 px working image / 8 px cells
    cells = np.zeros(grid, bool)
    cells[2:6, 4:8] = True  # every cell whose 2c patch reaches into the hole
    attention = _shift_attention(grid, cells, shift=4)
    out = detail.transfer_detail(crop, hole, fill, attention, scaled_size=(64, 64), padded_size=(64, 64))
    before = metrics.detail_ratio(fill, truth, hole)
    after = metrics.detail_ratio(out, truth, hole)
    assert before < 0.3
    assert 0.8 < after < 1.2
    # the restored stripes are in phase with the truth: the error inside the hole falls, not only the blur
    assert metrics.psnr(truth, out, hole) > metrics.psnr(truth, fill, hole) + 6
    assert np.array_equal(out[~hole], fill[~hole])


def _two_source_attention(grid: tuple[int, int], hole_cells: np.ndarray) -> detail.AttentionMap:
    """Each hole cell draws half from the cell 4 columns to its left and half from the one 5 rows above."""
    rows, cols = grid
    index = np.stack([np.arange(rows * cols)] * 2, axis=1)
    weight = np.zeros((rows * cols, 2), np.float32)
    for cell in np.flatnonzero(hole_cells.ravel()):
        i, j = divmod(int(cell), cols)
        index[cell] = [i * cols + (j - 4), ((i - 5) % rows) * cols + j]
        weight[cell] = 0.5
    return detail.AttentionMap((rows, cols), 8, index, weight)


def _noise_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grain (unlike from place to place) over a flat grey, a hole, and the grain-free fill a network gives."""
    h = w = 256
    truth = np.clip(128 + 30 * np.random.default_rng(3).standard_normal((h, w, 1)), 0, 255).repeat(3, axis=2)
    truth = truth.astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[104:152, 168:216] = True
    fill = np.full_like(truth, 128)
    return truth, hole, fill


def test_kept_energy_gives_averaged_unlike_sources_their_amplitude_back() -> None:
    truth, hole, fill = _noise_case()
    cells = np.zeros((8, 8), bool)
    cells[3:6, 5:8] = True
    attention = _two_source_attention((8, 8), cells)
    kwargs = {"scaled_size": (64, 64), "padded_size": (64, 64)}
    averaged = detail.transfer_detail(truth, hole, fill, attention, **kwargs)
    kept = detail.transfer_detail(truth, hole, fill, attention, keep_energy=True, **kwargs)
    # two unlike residuals averaged, and four overlapping patches over each pixel: the grain cancels
    assert metrics.detail_ratio(averaged, truth, hole) < 0.72
    assert 0.8 < metrics.detail_ratio(kept, truth, hole) < 1.1
    assert np.array_equal(kept[~hole], fill[~hole])


def test_kept_energy_leaves_one_coherent_source_as_it_is() -> None:
    h = w = 256
    truth = _texture(h, w)
    hole = np.zeros((h, w), bool)
    hole[96:160, 160:224] = True
    fill = cv2.resize(cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_CUBIC)
    cells = np.zeros((8, 8), bool)
    cells[2:6, 4:8] = True
    attention = _shift_attention((8, 8), cells, shift=4)
    kwargs = {"scaled_size": (64, 64), "padded_size": (64, 64)}
    plain = detail.transfer_detail(truth, hole, fill, attention, **kwargs).astype(int)
    kept = detail.transfer_detail(truth, hole, fill, attention, keep_energy=True, **kwargs).astype(int)
    # the stripes repeat every cell, so the overlapping copies agree and nothing is lost to raise
    assert np.abs(kept - plain).mean() < 1.0


def test_residual_aggregation_without_downscaling_changes_nothing() -> None:
    truth = _texture(64, 64)
    hole = np.zeros((64, 64), bool)
    hole[20:40, 20:40] = True
    attention = detail.AttentionMap.from_best(np.arange(64), (8, 8), 8)
    out = detail.transfer_detail(truth, hole, truth, attention, scaled_size=(64, 64), padded_size=(64, 64))
    assert out is truth


def test_sharpened_attention_keeps_the_best_candidates() -> None:
    attention = np.array([[0.1, 0.0], [0.6, 0.5], [0.3, 0.5]])  # 3 candidates x 2 positions
    amap = detail.AttentionMap.from_dense(attention, (1, 2), 8, top_k=2, sharpness=8.0)
    assert amap.index[0].tolist()[np.argmax(amap.weight[0])] == 1
    assert amap.weight[0].max() > 0.95
    assert np.allclose(amap.weight.sum(axis=1), 1.0)


def test_seamless_join_removes_a_brightness_step() -> None:
    truth = _texture(128, 128)
    hole = np.zeros((128, 128), bool)
    hole[40:90, 30:100] = True
    # a network's output with the right texture and a regional brightness error (over the hole and
    # around it, as a network's whole output has it); only the hole of it is used
    fill = (truth.astype(np.int16) + 25).clip(0, 255).astype(np.uint8)
    out = blend.seamless(truth, hole, fill)
    assert metrics.l1(truth, fill, hole) > 0.08
    assert metrics.l1(truth, out, hole) < 0.02
    assert np.array_equal(out[~hole], fill[~hole])
    # the fill on its own, pasted into the photo, leaves a step of 25 levels at the hole's edge; corrected,
    # the rows on both sides of the hole's top edge differ by no more than the photo's own rows do
    pasted = np.where(hole[..., None], out, truth).astype(np.float32).mean(axis=(1, 2))
    own = np.abs(np.diff(truth.astype(np.float32).mean(axis=(1, 2))))
    assert abs(pasted[40] - pasted[39]) <= own.max() + 1


def test_membrane_of_a_constant_is_that_constant() -> None:
    known = np.zeros((50, 70), bool)
    known[::7, ::5] = True
    values = np.full((50, 70, 3), 12.5, np.float32)
    assert np.allclose(blend.membrane(values, known), 12.5, atol=1e-3)


@pytest.mark.parametrize("model", ["deepfillv2", "csa"])
def test_learned_fill_with_detail_and_blend_keeps_unmasked_pixels_exact(model: str) -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 255, (300, 420, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 2) + rng.integers(0, 20, image.shape, dtype=np.uint8)
    hole = np.zeros(image.shape[:2], bool)
    hole[80:220, 120:330] = True
    cache = ModelCache()
    plain = run_fill(FillRequest(image, hole, model, device="cpu", detail=False, blend=False), JobContext(), cache)
    full = run_fill(FillRequest(image, hole, model, device="cpu"), JobContext(), cache)
    for result in (plain, full):
        assert np.array_equal(result.image[~hole], image[~hole])
    assert not np.array_equal(plain.image[hole], full.image[hole])


def test_excluded_pixels_do_not_colour_the_seamless_join() -> None:
    crop = np.zeros((80, 120, 3), np.uint8)
    crop[:, :60] = (220, 30, 30)  # red, excluded
    crop[:, 60:] = (40, 160, 60)  # green
    hole = np.zeros((80, 120), bool)
    hole[20:60, 40:80] = True
    fill = np.broadcast_to(np.array([40, 160, 60], np.uint8), crop.shape).copy()  # the network painted green
    exclude = np.zeros_like(hole)
    exclude[:, :60] = True
    red_without = blend.seamless(crop, hole, fill)[hole][:, 0].mean()
    red_with = blend.seamless(crop, hole, fill, exclude=exclude)[hole][:, 0].mean()
    assert red_without > 60
    assert red_with == pytest.approx(40, abs=2)
