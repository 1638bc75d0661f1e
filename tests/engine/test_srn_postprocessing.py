"""SRN's post-processing: full-resolution detail through a matched attention, and a join at the old edge."""

from __future__ import annotations

import cv2
import numpy as np

from inpaintstudio.engine import blend, detail
from inpaintstudio.engine.pipeline import run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.evaluation import metrics
from inpaintstudio.geometry import Rect


def _stripes(h: int, w: int) -> np.ndarray:
    """Fine stripes (period 4 px) over a ramp that differs by row band: the bands are the structure."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.where(yy < h // 2, 70.0, 170.0)
    stripes = 40.0 * np.sin(2 * np.pi * xx / 4.0)
    return np.clip(np.stack([base + stripes] * 3, axis=2), 0, 255).astype(np.uint8)


def test_matched_attention_draws_from_the_nearest_colour_layout_away_from_the_hole() -> None:
    h, w = 64, 128
    image = cv2.resize(_stripes(h, w), (w, h), interpolation=cv2.INTER_AREA)
    hole = np.zeros((h, w), bool)
    hole[:, 96:] = True
    amap = detail.matched_attention(image, hole)
    rows, cols = amap.grid
    assert (rows, cols) == (8, 16)
    for cell in range(rows * cols):
        i, j = divmod(cell, cols)
        sources = amap.index[cell][amap.weight[cell] > 0]
        if j < 11:  # cells whose patch stays out of the hole (and inside the picture) receive nothing
            assert sources.size == 0 or i in (0, rows - 1) or j == 0
            continue
        assert sources.size and np.isclose(amap.weight[cell].sum(), 1.0)
        src_rows, src_cols = np.divmod(sources, cols)
        # the same half of the picture (dark top, bright bottom), and never the cells just across the edge
        assert np.all((src_rows < rows // 2) == (i < rows // 2)) or i in (rows // 2 - 1, rows // 2)
        assert np.all(src_cols <= 12 - 1 - detail.MATCH_GAP)


def test_matched_attention_restores_high_frequencies_in_a_band() -> None:
    h, w = 256, 512
    truth = _stripes(h, w)
    hole = np.zeros((h, w), bool)
    hole[:, 384:] = True
    small = cv2.resize(truth, (128, 64), interpolation=cv2.INTER_AREA)
    fill = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    crop = truth.copy()
    crop[hole] = 0
    amap = detail.matched_attention(small, cv2.resize(hole.astype(np.uint8), (128, 64)) > 0)
    out = detail.transfer_detail(crop, hole, fill, amap, scaled_size=(128, 64), padded_size=(128, 64))
    assert metrics.detail_ratio(fill, truth, hole) < 0.3
    assert metrics.detail_ratio(out, truth, hole) > 0.7
    assert np.array_equal(out[~hole], fill[~hole])


def test_edge_join_removes_the_step_between_the_photos_last_pixels_and_the_band() -> None:
    rng = np.random.default_rng(0)
    h, w = 96, 160
    photo = np.clip(120 + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[:, 120:] = True
    fill = photo.copy()  # the model hands back the photo's pixels, and a band 40 levels too bright
    fill[hole] = np.clip(160 + rng.normal(0, 6, (int(hole.sum()), 3)), 0, 255).astype(np.uint8)
    assert np.array_equal(blend.seamless(photo, hole, fill), fill)  # the membrane join sees no step
    out = blend.edge_join(photo, hole, fill).astype(np.float32)
    assert abs(out[:, 119].mean() - out[:, 120].mean()) < 2.0
    assert np.array_equal(out[~hole], fill[~hole].astype(np.float32))

    # the band keeps its own texture, and the correction fades away from the edge
    def grain(a):
        return (a - cv2.blur(a, (5, 5)))[:, 124:156].std()

    assert abs(grain(out) - grain(fill.astype(np.float32))) < 0.5
    shift_near = fill[:, 120].astype(np.float32).mean() - out[:, 120].mean()
    shift_far = fill[:, 159].astype(np.float32).mean() - out[:, 159].mean()
    assert 30 < shift_near and 0 < shift_far < shift_near / 2


def test_srn_extension_has_no_step_at_the_old_edge_and_keeps_the_photo(srn_weights, photo) -> None:
    """Random weights paint anything; the join must still meet the photo at each old edge."""
    h, w = photo.shape[:2]
    left, top, right, bottom = 80, 40, 80, 40
    request = FillRequest(
        photo, np.zeros((h, w), bool), "srn", extent=Rect(-left, -top, w + left + right, h + top + bottom),
        device="cpu",
    )  # fmt: skip
    result = run_fill(request)
    out = result.image.astype(np.float32)
    assert np.array_equal(result.image[top : top + h, left : left + w], photo)
    own_rows = np.percentile(np.abs(np.diff(photo.astype(np.float32).mean(axis=(1, 2)))), 95)
    own_cols = np.percentile(np.abs(np.diff(photo.astype(np.float32).mean(axis=(0, 2)))), 95)
    cols, rows = slice(left, left + w), slice(top, top + h)
    assert abs(out[top - 1, cols].mean() - out[top, cols].mean()) <= own_rows
    assert abs(out[top + h - 1, cols].mean() - out[top + h, cols].mean()) <= own_rows
    assert abs(out[rows, left - 1].mean() - out[rows, left].mean()) <= own_cols
    assert abs(out[rows, left + w - 1].mean() - out[rows, left + w].mean()) <= own_cols


def test_matched_attention_leaves_out_busy_cells_of_the_same_mean_colour() -> None:
    """A cell crossed by fine dark-and-light lines has the sky's mean colour (here: the band's, exactly);
    its lines must not be copied into a flat band."""
    h, w = 64, 128
    image = np.full((h, w, 3), 129, np.uint8)
    image[:, 96:] = 128  # the band to fill
    image[24:28, 40:44:2] = 28  # a tiny grille, finer than the colour layout sees (4 x 4 working pixels),
    image[24:28, 41:44:2] = 228  # with the band's mean colour: the nearest cells in colour
    hole = np.zeros((h, w), bool)
    hole[:, 96:] = True
    amap = detail.matched_attention(image, hole)
    rows, cols = amap.grid
    used = {int(i) for i in amap.index[amap.weight > 0]}
    busy = {i * cols + j for i in (2, 3) for j in (4, 5)}  # the cells whose 2-cell patch holds the grille
    assert used and not used & busy
