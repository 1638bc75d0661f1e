"""Tests for edge maps, Zhang-Suen thinning and synthetic sketches."""

from __future__ import annotations

import time

import cv2
import numpy as np

from inpaintstudio.training.sketch import (
    edge_map,
    sketch_from_ground_truth,
    synthetic_sketch,
    zhang_suen_thin,
)


def _shapes_image(seed: int = 0, size: int = 256) -> np.ndarray:
    """Random filled discs and boxes on a grey background, with a little noise (many edges)."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), 120, dtype=np.uint8)
    for _ in range(25):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), int(rng.integers(6, 40)), color, -1)
        else:
            cv2.rectangle(image, (x, y), (x + int(rng.integers(8, 60)), y + int(rng.integers(8, 60))), color, -1)
    noise = rng.integers(0, 8, image.shape).astype(np.uint8)
    return cv2.add(image, noise)


def _has_2x2_block(binary: np.ndarray) -> bool:
    return bool((binary[:-1, :-1] & binary[1:, :-1] & binary[:-1, 1:] & binary[1:, 1:]).any())


def _centre_hole(size: int = 256) -> np.ndarray:
    hole = np.zeros((size, size), dtype=bool)
    hole[64:192, 48:208] = True
    return hole


def test_edge_map_of_rectangle_follows_its_outline() -> None:
    image = np.zeros((128, 128, 3), dtype=np.uint8)
    image[32:96, 40:100] = 200
    edges = edge_map(image)
    assert edges.dtype == bool and edges.shape == (128, 128)
    perimeter = 2 * (64 + 60)
    assert 0.7 * perimeter <= edges.sum() <= 1.3 * perimeter
    outline = np.zeros((128, 128), dtype=np.uint8)
    cv2.rectangle(outline, (40, 32), (99, 95), 1, 1)
    near_outline = cv2.dilate(outline, np.ones((5, 5), np.uint8)) > 0
    assert near_outline[edges].all()
    assert not _has_2x2_block(edges)


def test_edge_map_is_thin_on_a_busy_image_and_blank_on_flat() -> None:
    edges = edge_map(_shapes_image())
    assert edges.sum() > 500
    assert not _has_2x2_block(edges)
    assert not edge_map(np.full((64, 64, 3), 90, dtype=np.uint8)).any()


def test_zhang_suen_thins_a_thick_bar_to_one_pixel() -> None:
    bar = np.zeros((64, 64), dtype=bool)
    bar[20:31, 5:60] = True
    thin = zhang_suen_thin(bar)
    assert thin.any()
    assert (thin.sum(axis=0)[15:50] == 1).all()  # one pixel per column along the bar's middle part
    assert not (thin & ~bar).any()


def test_zhang_suen_keeps_thin_lines() -> None:
    line = np.zeros((64, 64), dtype=np.uint8)
    cv2.line(line, (3, 5), (60, 50), 1, 1)
    thin = zhang_suen_thin(line > 0)
    assert thin.sum() >= 0.9 * line.sum()


def test_thinning_is_fast_on_canny_output() -> None:
    gray = cv2.cvtColor(_shapes_image(1), cv2.COLOR_RGB2GRAY)
    canny = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.0), 20, 50) > 0
    zhang_suen_thin(canny)  # warm-up
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        zhang_suen_thin(canny)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05


def test_sketch_from_ground_truth_is_edges_inside_hole() -> None:
    image, hole = _shapes_image(2), _centre_hole()
    sketch = sketch_from_ground_truth(image, hole)
    assert sketch.any()
    assert not (sketch & ~hole).any()
    assert np.array_equal(sketch, edge_map(image) & hole)


def test_synthetic_sketch_without_degradation_equals_ground_truth() -> None:
    image, hole = _shapes_image(3), _centre_hole()
    sketch = synthetic_sketch(image, hole, np.random.default_rng(0), drop_all_p=0, dropout_p=0, jitter_px=0)
    assert np.array_equal(sketch, sketch_from_ground_truth(image, hole))


def test_synthetic_sketch_inside_hole_near_edges_and_thinner_than_truth() -> None:
    image, hole = _shapes_image(4), _centre_hole()
    truth = sketch_from_ground_truth(image, hole)
    near_truth = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # jitter_px = 2
    sizes = []
    for seed in range(40):
        sketch = synthetic_sketch(image, hole, np.random.default_rng(seed), drop_all_p=0.0)
        assert sketch.dtype == bool
        assert not (sketch & ~hole).any()
        assert not (sketch & ~near_truth).any()
        sizes.append(int(sketch.sum()))
    # Dropout removes about 30 % of the pieces on average.
    assert 0.45 * truth.sum() <= np.mean(sizes) <= 0.9 * truth.sum()


def test_synthetic_sketch_empty_probability() -> None:
    image, hole = _shapes_image(5), _centre_hole()
    empties = [
        not synthetic_sketch(image, hole, np.random.default_rng(seed), dropout_p=0.0).any() for seed in range(300)
    ]
    assert 0.22 <= np.mean(empties) <= 0.38
    all_dropped = synthetic_sketch(image, hole, np.random.default_rng(0), drop_all_p=0.0, dropout_p=1.0)
    assert not all_dropped.any()


def test_synthetic_sketch_is_deterministic() -> None:
    image, hole = _shapes_image(6), _centre_hole()
    a = synthetic_sketch(image, hole, np.random.default_rng(11), drop_all_p=0.0)
    b = synthetic_sketch(image, hole, np.random.default_rng(11), drop_all_p=0.0)
    assert np.array_equal(a, b)
