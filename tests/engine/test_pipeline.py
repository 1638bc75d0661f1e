"""run_fill end to end with the classical models: exactness outside the hole, notices, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.engine import registry
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.errors import CapabilityError, FillCancelled, InputError, UnknownModelError
from inpaintstudio.geometry import Rect

CLASSICAL = ["telea", "navier-stokes", "patchmatch"]


@pytest.mark.parametrize("model", CLASSICAL)
def test_unmasked_pixels_are_bit_identical(photo, make_hole, model):
    hole = make_hole(*photo.shape[:2], seed=2)
    result = run_fill(FillRequest(photo, hole, model))
    assert result.image.shape == photo.shape and result.image.dtype == np.uint8
    assert (result.image[~hole] == photo[~hole]).all()
    changed = (result.image != photo).any(axis=2)
    assert changed[hole].mean() > 0.5, "the hole was really filled"
    # A fill should look like its surroundings, not like the removed content or noise.
    ring_mean = photo[~hole].reshape(-1, 3).mean(axis=0)
    assert np.abs(result.image[hole].reshape(-1, 3).mean(axis=0) - ring_mean).max() < 60


def test_crop_strategy_on_a_large_photo_fills_only_around_the_hole(photo):
    big = np.tile(photo, (8, 8, 1))  # 2048 x 3072
    hole = np.zeros(big.shape[:2], bool)
    hole[1000:1040, 1500:1560] = True
    for strategy in ("crop", "resize"):
        result = run_fill(FillRequest(big, hole, "telea", strategy=strategy))
        assert (result.image[~hole] == big[~hole]).all()
        assert (result.image[hole] != big[hole]).any()


def test_empty_mask_returns_the_input_with_a_notice(photo):
    result = run_fill(FillRequest(photo, np.zeros(photo.shape[:2], bool), "telea"))
    assert np.array_equal(result.image, photo)
    assert not result.changed
    assert any("empty" in n for n in result.notices)


def test_outpainting_with_patchmatch_grows_the_canvas(photo):
    h, w = photo.shape[:2]
    canvas = Rect(-16, -8, w + 16 + 64, h + 8)
    result = run_fill(FillRequest(photo, np.zeros((h, w), bool), "patchmatch", extent=canvas))
    assert result.image.shape == (h + 8, w + 80, 3) and result.offset == (16, 8)
    assert np.array_equal(result.image[8:, 16 : 16 + w], photo)
    band = result.image[:, 16 + w :]
    assert band.std() > 5, "the new area has texture, not a flat colour"


def test_models_that_cannot_extend_refuse(photo):
    h, w = photo.shape[:2]
    with pytest.raises(CapabilityError, match="cannot extend"):
        run_fill(FillRequest(photo, np.zeros((h, w), bool), "telea", extent=Rect(0, 0, w + 10, h)))


def test_absurd_extents_are_refused(photo):
    h, w = photo.shape[:2]
    with pytest.raises(InputError, match="times the image"):
        run_fill(FillRequest(photo, np.zeros((h, w), bool), "patchmatch", extent=Rect(0, 0, w * 4, h)))


def test_unknown_model_lists_the_known_ones(photo):
    with pytest.raises(UnknownModelError, match="telea"):
        run_fill(FillRequest(photo, np.zeros(photo.shape[:2], bool), "no-such-model"))


def test_sketch_for_a_model_without_sketch_support_is_ignored_with_a_notice(photo, make_hole):
    hole = make_hole(*photo.shape[:2])
    sketch = np.zeros_like(hole)
    sketch[hole] = True
    result = run_fill(FillRequest(photo, hole, "telea", sketch=sketch))
    assert any("sketch" in n for n in result.notices)


def test_cancelled_job_stops_before_filling(photo, make_hole):
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(FillCancelled):
        run_fill(FillRequest(photo, make_hole(*photo.shape[:2]), "telea"), ctx)


def test_request_is_a_frozen_snapshot(photo, make_hole):
    hole = make_hole(*photo.shape[:2])
    request = FillRequest(photo, hole, "telea")
    photo[:] = 0
    hole[:] = False
    assert request.image.any() and request.mask.any(), "later edits do not reach a submitted request"
    with pytest.raises(ValueError):
        request.image[0, 0, 0] = 1


def test_progress_is_reported_from_zero_to_one(photo, make_hole):
    seen = []
    run_fill(FillRequest(photo, make_hole(*photo.shape[:2]), "telea"), JobContext(progress=lambda f, m: seen.append(f)))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(a <= b + 1e-9 for a, b in zip(seen, seen[1:], strict=False))


def test_model_cache_reuses_and_releases():
    cache = ModelCache()
    ctx = JobContext()
    telea = registry.get("telea")
    first = cache.get(telea, "cpu", ctx)
    assert cache.get(telea, "cpu", ctx) is first
    other = cache.get(registry.get("navier-stokes"), "cpu", ctx)
    assert other is not first


def test_a_black_and_white_photo_gets_a_black_and_white_fill(photo):
    """Learned models trained on colour photos tint the holes of a grey picture stored as RGB; the
    pipeline keeps such fills grey, and leaves a colour photo's fill alone."""
    from inpaintstudio.engine.base import Inpainter

    @registry.register
    class Tinted(Inpainter):
        name = "test-purple"

        def inpaint(self, image, mask, sketch, ctx):
            out = image.copy()
            out[mask] = (150, 90, 170)
            return out

    try:
        hole = np.zeros(photo.shape[:2], bool)
        hole[100:150, 120:200] = True
        grey = np.repeat(photo.mean(axis=2, keepdims=True).round().astype(np.uint8), 3, axis=2)
        grey[..., 2] = np.clip(grey[..., 2].astype(int) + 2, 0, 255)  # a JPEG's chroma noise
        filled = run_fill(FillRequest(grey, hole, "test-purple")).image
        assert (filled[hole][:, 0] == filled[hole][:, 1]).all() and (filled[hole][:, 1] == filled[hole][:, 2]).all()
        assert (filled[~hole] == grey[~hole]).all()
        coloured = run_fill(FillRequest(photo, hole, "test-purple")).image
        assert (coloured[hole] == (150, 90, 170)).all()
    finally:
        registry.unregister("test-purple")


def test_sketch_strokes_far_from_the_hole_are_not_reported_as_ignored():
    image = np.full((400, 600, 3), 120, np.uint8)
    hole = np.zeros((400, 600), bool)
    hole[300:340, 500:540] = True
    sketch = np.zeros((400, 600), bool)
    sketch[20:24, 20:200] = True  # a stroke kept for a later fill, far from this hole
    result = run_fill(FillRequest(image, hole, "telea", sketch=sketch), JobContext())
    assert not any("sketch" in n for n in result.notices)
    sketch[310:314, 505:535] = True  # a stroke in the hole is ignored by telea, and it says so
    result = run_fill(FillRequest(image, hole, "telea", sketch=sketch), JobContext())
    assert any("does not use sketch strokes" in n for n in result.notices)
