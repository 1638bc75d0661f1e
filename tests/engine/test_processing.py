"""Shared pre/post-processing: regions around holes, scaling, padding, compositing, canvas growth."""

from __future__ import annotations

import numpy as np

from inpaintstudio.engine import processing
from inpaintstudio.geometry import Rect


def test_small_holes_in_a_large_photo_get_one_crop_each():
    hole = np.zeros((3000, 4000), bool)
    hole[100:150, 200:260] = True
    hole[2500:2600, 3500:3550] = True
    regions = processing.plan_regions(hole, native_size=512)
    assert len(regions) == 2
    for region in regions:
        assert region.area < 0.01 * hole.size, "work stays around the hole"
    covered = np.zeros_like(hole)
    for r in regions:
        covered[r.slices()] = True
    assert covered[hole].all(), "every hole pixel lies in a region"


def test_nearby_holes_share_a_region_and_regions_never_overlap():
    hole = np.zeros((2000, 2000), bool)
    for x in (300, 340, 380):
        hole[500:520, x : x + 10] = True
    hole[1500:1510, 1500:1510] = True
    regions = processing.plan_regions(hole, native_size=512)
    assert len(regions) == 2
    assert regions[0].intersect(regions[1]).is_empty()


def test_margin_keeps_context_and_min_side_is_respected():
    hole = np.zeros((1000, 1000), bool)
    hole[500:510, 500:510] = True
    (region,) = processing.plan_regions(hole, native_size=512, margin=40, min_side=256)
    assert region.w == 256 and region.h == 256
    assert region.contains(Rect(460, 460, 90, 90))


def test_big_holes_and_resize_strategy_use_the_whole_canvas():
    hole = np.zeros((400, 600), bool)
    hole[50:350, 100:500] = True
    assert processing.plan_regions(hole, native_size=256) == [Rect(0, 0, 600, 400)]
    small = np.zeros((400, 600), bool)
    small[10:20, 10:20] = True
    assert processing.plan_regions(small, native_size=256, strategy="resize") == [Rect(0, 0, 600, 400)]
    assert processing.plan_regions(np.zeros((10, 10), bool), native_size=256) == []


def test_many_specks_are_merged_into_one_region():
    rng = np.random.default_rng(0)
    hole = np.zeros((3000, 3000), bool)
    ys, xs = rng.integers(1000, 1200, 200), rng.integers(1000, 1200, 200)
    hole[ys, xs] = True
    regions = processing.plan_regions(hole, native_size=512, margin=4)
    assert len(regions) <= processing.MAX_REGIONS


def test_prepare_scales_down_pads_and_restore_inverts():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (700, 1000, 3), dtype=np.uint8)
    mask = np.zeros((700, 1000), bool)
    mask[300:303, 400:403] = True  # a tiny hole must survive downscaling
    prepared = processing.prepare(image, mask, None, native_size=512, pad_multiple=8)
    h, w = prepared.mask.shape
    assert h % 8 == 0 and w % 8 == 0 and max(prepared.scaled_size) == 512
    assert prepared.mask.any()
    restored = processing.restore(prepared.image, prepared)
    assert restored.shape == image.shape


def test_prepare_mirrors_the_mask_into_the_padding():
    image = np.zeros((10, 10, 3), np.uint8)
    mask = np.zeros((10, 10), bool)
    mask[:, 9] = True
    prepared = processing.prepare(image, mask, None, native_size=None, pad_multiple=8)
    assert prepared.mask.shape == (16, 16)
    assert prepared.mask[:10, 10].all(), "the hole at the edge continues into the padding"


def test_paste_holes_changes_only_hole_pixels():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 255, (50, 60, 3), dtype=np.uint8)
    original = target.copy()
    source = rng.integers(0, 255, (50, 60, 3), dtype=np.uint8)
    hole = rng.random((50, 60)) < 0.3
    processing.paste_holes(target, source, hole)
    assert (target[~hole] == original[~hole]).all()
    assert (target[hole] == source[hole]).all()


def test_grow_canvas_marks_new_area_as_hole():
    image = np.full((20, 30, 3), 7, np.uint8)
    mask = np.zeros((20, 30), bool)
    grown, hole, sketch, offset = processing.grow_canvas(image, mask, None, Rect(-5, -2, 45, 25))
    assert grown.shape == (25, 45, 3) and offset == (5, 2)
    assert (grown[2:22, 5:35] == 7).all()
    assert hole[:2].all() and hole[:, :5].all() and hole[:, 35:].all() and hole[22:].all()
    assert not hole[2:22, 5:35].any()
    assert sketch is None
