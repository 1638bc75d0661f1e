"""Image-quality metrics for inpainting evaluation: L1, PSNR and SSIM, optionally restricted to the hole.

Inputs are ``H x W x 3`` (or ``H x W``) images, either uint8 in [0, 255] or float in [0, 1]; both are
compared on the [0, 1] scale so numbers do not depend on the storage type. A mask is a bool ``H x W``
array (True = pixel counted, normally the hole): whole-image scores are dominated by the untouched known
pixels, so per-hole scores are what separates inpainting methods.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MAX_PSNR_DB", "all_metrics", "detail_ratio", "gradient_magnitude", "l1", "psnr", "ssim"]

#: PSNR reported for identical images (the true value is infinite, which breaks averages and JSON).
MAX_PSNR_DB = 100.0

_SSIM_K1, _SSIM_K2 = 0.01, 0.03
_SSIM_WINDOW, _SSIM_SIGMA = 11, 1.5


def _as_unit_float(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float64 on the [0, 1] scale (uint8 is divided by 255, floats kept as is)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    if image.dtype == np.bool_:
        return image.astype(np.float64)
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float64)
    raise TypeError(f"expected uint8 or float image, got {image.dtype}")


def _prepare(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convert both images, check shapes, and validate the mask (must select at least one pixel)."""
    fa, fb = _as_unit_float(a), _as_unit_float(b)
    if fa.shape != fb.shape:
        raise ValueError(f"image shapes differ: {fa.shape} vs {fb.shape}")
    if fa.ndim not in (2, 3):
        raise ValueError(f"expected HxW or HxWxC images, got shape {fa.shape}")
    if mask is None:
        return fa, fb, None
    m = np.asarray(mask, dtype=bool)
    if m.shape != fa.shape[:2]:
        raise ValueError(f"mask shape {m.shape} does not match image shape {fa.shape[:2]}")
    if not m.any():
        raise ValueError("mask selects no pixels")
    return fa, fb, m


def _masked_mean(values: np.ndarray, mask: np.ndarray | None) -> float:
    """Mean of an HxW or HxWxC array over all pixels, or over the masked pixels (all channels)."""
    if mask is None:
        return float(values.mean())
    return float(values[mask].mean())


def l1(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error on the [0, 1] scale, over the whole image or the masked pixels."""
    fa, fb, m = _prepare(a, b, mask)
    return _masked_mean(np.abs(fa - fb), m)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / MSE)``, MSE over the masked pixels.

    ``data_range`` refers to the [0, 1] scale the images are converted to. Identical images give
    :data:`MAX_PSNR_DB` instead of infinity; results are capped there too.
    """
    fa, fb, m = _prepare(a, b, mask)
    mse = _masked_mean((fa - fb) ** 2, m)
    if mse <= 0.0:
        return MAX_PSNR_DB
    return float(min(MAX_PSNR_DB, 10.0 * np.log10(data_range**2 / mse)))


def _ssim_map(fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (Wang et al. 2004) with an 11x11 Gaussian window (sigma 1.5), per channel.

    Statistics are filtered with reflected borders so the map keeps the image size and can be masked.
    """

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (_SSIM_WINDOW, _SSIM_WINDOW), _SSIM_SIGMA, borderType=cv2.BORDER_REFLECT_101)

    c1 = (_SSIM_K1 * 1.0) ** 2
    c2 = (_SSIM_K2 * 1.0) ** 2
    mu_a, mu_b = blur(fa), blur(fb)
    var_a = blur(fa * fa) - mu_a * mu_a
    var_b = blur(fb * fb) - mu_b * mu_b
    cov = blur(fa * fb) - mu_a * mu_b
    numerator = (2.0 * mu_a * mu_b + c1) * (2.0 * cov + c2)
    denominator = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return numerator / denominator


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Structural similarity on the [0, 1] scale (K1 = 0.01, K2 = 0.03, Gaussian 11x11, sigma 1.5).

    Colour images: the SSIM map is computed per channel and the channel maps are averaged. With a mask,
    the map is averaged over the masked pixels only (the window still sees context around them).
    """
    fa, fb, m = _prepare(a, b, mask)
    ssim_map = _ssim_map(fa, fb)
    if ssim_map.ndim == 3:
        ssim_map = ssim_map.mean(axis=2)
    return _masked_mean(ssim_map, m)


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    """Per-pixel gradient magnitude of the luminance on the [0, 1] scale (central differences)."""
    f = _as_unit_float(image)
    if f.ndim == 3:
        f = f @ np.array([0.299, 0.587, 0.114]) if f.shape[2] == 3 else f.mean(axis=2)
    gy, gx = np.gradient(f)
    return np.hypot(gx, gy)


def detail_ratio(result: np.ndarray, original: np.ndarray, mask: np.ndarray) -> float:
    """Mean gradient magnitude inside the hole of ``result`` over that of ``original``.

    1.0: the fill is as detailed as the photo was; a blur scores low (a smooth fill near 0), and
    noise or invented texture can score above 1. A perfectly flat original counts as 1 when the
    result is flat too.
    """
    fa, fb, m = _prepare(result, original, mask)
    ours = float(gradient_magnitude(fa)[m].mean())
    theirs = float(gradient_magnitude(fb)[m].mean())
    if theirs <= 1e-12:
        return 1.0 if ours <= 1e-12 else float("inf")
    return ours / theirs


def all_metrics(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """Return ``{'l1', 'psnr', 'ssim'}`` for one image pair (convenience for evaluation reports)."""
    return {"l1": l1(a, b, mask), "psnr": psnr(a, b, mask), "ssim": ssim(a, b, mask)}
