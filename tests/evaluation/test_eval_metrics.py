"""Tests for the L1 / PSNR / SSIM metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inpaintstudio.evaluation.metrics import MAX_PSNR_DB, all_metrics, l1, psnr, ssim


def _noise_image(seed: int = 0, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = np.stack([xx * 4, yy * 4, (xx + yy) * 2], axis=2) % 256
    return (base + rng.integers(0, 30, base.shape)).clip(0, 255).astype(np.uint8)


def test_l1_known_constant_error() -> None:
    a = np.zeros((8, 8, 3), dtype=np.uint8)
    b = np.full((8, 8, 3), 51, dtype=np.uint8)
    assert l1(a, b) == pytest.approx(0.2)
    mask = np.zeros((8, 8), dtype=bool)
    mask[:2] = True
    c = a.copy()
    c[:2] = 255
    assert l1(a, c, mask) == pytest.approx(1.0)
    assert l1(a, c) == pytest.approx(0.25)


def test_psnr_known_constant_error() -> None:
    a = np.full((10, 10, 3), 0.5)
    assert psnr(a, a + 0.1) == pytest.approx(20.0)
    assert psnr(a, a + 0.1, data_range=2.0) == pytest.approx(20.0 + 20.0 * math.log10(2.0))
    u = np.full((10, 10, 3), 100, dtype=np.uint8)
    v = np.full((10, 10, 3), 110, dtype=np.uint8)
    assert psnr(u, v) == pytest.approx(20.0 * math.log10(25.5))
    assert psnr(u, u) == MAX_PSNR_DB


def test_psnr_mask_restricts_error() -> None:
    a = np.zeros((10, 10, 3))
    b = a.copy()
    b[:, :5] = 0.1
    left, right = np.zeros((10, 10), dtype=bool), np.zeros((10, 10), dtype=bool)
    left[:, :5], right[:, 5:] = True, True
    assert psnr(a, b, left) == pytest.approx(20.0)
    assert psnr(a, b, right) == MAX_PSNR_DB
    assert psnr(a, b) == pytest.approx(10.0 * math.log10(1.0 / 0.005))


def test_ssim_identical_noise_and_constant_images() -> None:
    image = _noise_image()
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-9)
    rng = np.random.default_rng(1)
    light = (image + rng.normal(0, 5, image.shape)).clip(0, 255).astype(np.uint8)
    heavy = (image + rng.normal(0, 40, image.shape)).clip(0, 255).astype(np.uint8)
    s_light, s_heavy = ssim(image, light), ssim(image, heavy)
    assert s_heavy < s_light < 1.0
    assert s_heavy < 0.7
    # Flat images: only the luminance term remains, (2ab + C1) / (a^2 + b^2 + C1).
    c1 = 0.01**2
    expected = (2 * 0.5 * 0.25 + c1) / (0.5**2 + 0.25**2 + c1)
    assert ssim(np.full((32, 32), 0.5), np.full((32, 32), 0.25)) == pytest.approx(expected)


def test_ssim_mask_averages_over_masked_pixels() -> None:
    image = _noise_image(2)
    damaged = image.copy()
    damaged[:, :24] = 0
    right = np.zeros(image.shape[:2], dtype=bool)
    right[:, 40:] = True  # more than the 5 px window radius away from the damage
    left = ~right
    assert ssim(image, damaged, right) == pytest.approx(1.0, abs=1e-9)
    assert ssim(image, damaged, left) < ssim(image, damaged) < 1.0


def test_uint8_and_float_inputs_agree() -> None:
    a, b = _noise_image(3), _noise_image(4)
    fa, fb = a / 255.0, b / 255.0
    for metric in (l1, psnr, ssim):
        assert metric(a, b) == pytest.approx(metric(fa, fb))
    assert set(all_metrics(a, b)) == {"l1", "psnr", "ssim"}


def test_invalid_inputs_raise() -> None:
    a = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError):
        l1(a, np.zeros((8, 9, 3), dtype=np.uint8))
    with pytest.raises(ValueError):
        psnr(a, a, np.zeros((8, 8), dtype=bool))
    with pytest.raises(ValueError):
        ssim(a, a, np.ones((4, 4), dtype=bool))
