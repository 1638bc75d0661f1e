"""Seamless joins: a learned fill is corrected so that it meets the photo without a step at the hole's edge.

A network's fill often has the right shapes but a slightly wrong brightness or colour (a greyish blob on
sand, a lighter patch of sky), and the eye sees the outline of the hole. Poisson blending (Perez et al.
2003; used after the fill in Iizuka et al. 2017) keeps the fill's gradients and takes its boundary
values from the photo: the result is ``fill + c`` where ``c`` is a smooth (membrane) field equal to
``photo - fill`` on the known pixels around the hole and interpolated across it.

``c`` is interpolated by push-pull on an image pyramid (Gortler et al. 1996): boundary differences are
averaged down to coarse levels, where every hole pixel has a value, and blended back up, which is a
close, fast approximation of the harmonic solution (no iterations, no streaks). The boundary is a ring a
few pixels wide, so one noisy pixel of texture does not colour the whole hole.
"""

from __future__ import annotations

import cv2
import numpy as np

RING = 3  # pixels of known photo around the hole whose difference sets the correction


def membrane(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill ``values`` (H x W x C float32) where ``known`` is False by push-pull interpolation."""
    h, w = known.shape
    weight = known.astype(np.float32)
    value = values * weight[..., None]
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    while True:
        levels.append((value, weight))
        if min(value.shape[:2]) <= 2:
            break
        size = (max(1, value.shape[1] // 2), max(1, value.shape[0] // 2))
        # area averaging of value and weight separately: a weighted mean once divided
        value = cv2.resize(value, size, interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        if value.ndim == 2:
            value = value[..., None]
    value, weight = levels[-1]
    total = float(weight.sum())
    mean = value.reshape(-1, value.shape[-1]).sum(axis=0) / max(total, 1e-6)
    estimate = np.where(weight[..., None] > 1e-6, value / np.maximum(weight, 1e-6)[..., None], mean)
    for value, weight in reversed(levels[:-1]):
        up = cv2.resize(estimate, (value.shape[1], value.shape[0]), interpolation=cv2.INTER_LINEAR)
        if up.ndim == 2:
            up = up[..., None]
        alpha = np.clip(weight, 0.0, 1.0)[..., None]
        own = value / np.maximum(weight, 1e-6)[..., None]
        estimate = alpha * own + (1.0 - alpha) * up
    return estimate.reshape(h, w, -1)


def seamless(
    crop: np.ndarray, hole: np.ndarray, fill: np.ndarray, ring: int = RING, exclude: np.ndarray | None = None
) -> np.ndarray:
    """``fill`` corrected to meet ``crop`` at the hole's edge (H x W x 3 uint8; unchanged outside the hole).

    ``fill`` is the model's whole output (scaled back to the crop), known pixels included: a network's
    colour error is regional, so its output around the hole shows the same offset as inside. (Measuring
    the step against the fill's values just inside the hole instead scored 0.15 dB lower on the
    validation photos.) Pixels of a sampling exclusion do not set the correction, unless nothing else
    borders the hole.
    """
    if not hole.any() or hole.all():
        return fill
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    around = cv2.dilate(hole.astype(np.uint8), kernel).astype(bool) & ~hole
    if exclude is not None and (around & ~exclude).any():
        # the user said not to copy from there: its colour must not bleed into the fill either
        around &= ~exclude
    if not around.any():
        return fill
    difference = crop.astype(np.float32) - fill.astype(np.float32)
    correction = membrane(np.where(around[..., None], difference, 0.0).astype(np.float32), around)
    result = np.clip(np.rint(fill.astype(np.float32) + correction), 0, 255).astype(np.uint8)
    return np.where(hole[..., None], result, fill)


EDGE_RING = 1  # the step is measured between the photo's last row (column) and the band's first one
EDGE_WINDOW = 19  # ... each averaged along the edge over this many pixels, so texture does not set it
# The step fades into the band over this fraction of the crop's shorter side: a network's colour error is
# largest at the join and its own colours are kept far from it. On the 8 validation photos' borders with
# srn at step 400: 16.35 dB spread by the membrane (which averages a thin edge into one colour far from
# it), 16.76 from the nearest edge without fading, 16.70 / 16.91 / 17.10 / 17.15 / 17.05 fading over
# 20 / 40 / 80 / 160 / 320 px of photos 640 px on the short side.
EDGE_DECAY = 0.25


def edge_join(crop: np.ndarray, hole: np.ndarray, fill: np.ndarray, ring: int = EDGE_RING) -> np.ndarray:
    """``fill`` corrected so that its first pixels inside the hole meet the photo's last pixels outside it.

    For a model that hands back the photo's own pixels around the hole (SRN pastes the known rectangle into
    its canvas), :func:`seamless` sees no difference; the step is between the photo's last ``ring`` pixels
    and the fill's first ``ring`` ones. Both are averaged locally (:data:`EDGE_WINDOW`, each over its own
    side), their difference is taken on the fill's side of the edge and carried into the hole from the
    nearest edge, fading with the distance (see :data:`EDGE_DECAY`). Pixels outside the hole are unchanged.
    """
    if not hole.any() or hole.all():
        return fill
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    inside = cv2.dilate((~hole).astype(np.uint8), kernel).astype(bool) & hole  # the fill's first pixels
    outside = cv2.dilate(hole.astype(np.uint8), kernel).astype(bool) & ~hole  # the photo's last pixels
    if not inside.any() or not outside.any():
        return fill
    window = (EDGE_WINDOW, EDGE_WINDOW)

    def local_mean(values: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = cv2.blur(where.astype(np.float32), window)
        total = cv2.blur(np.where(where[..., None], values, 0.0).astype(np.float32), window)
        return total / np.maximum(weight, 1e-6)[..., None], weight

    photo_mean, photo_weight = local_mean(crop.astype(np.float32), outside)
    fill_mean, _ = local_mean(fill.astype(np.float32), inside)
    known = inside & (photo_weight > 1e-3)
    if not known.any():
        return fill
    step = np.where(known[..., None], photo_mean - fill_mean, 0.0).astype(np.float32)
    # Each hole pixel takes the step of its nearest edge pixel (a band's rows keep their own step: sky
    # above, trees below), fading with the distance from it; smoothed where nearest edges meet.
    distance, labels = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    table = np.zeros((int(labels.max()) + 1, step.shape[2]), np.float32)
    table[labels[known]] = step[known]
    correction = cv2.blur(table[labels], window)
    correction *= np.exp(-distance / (EDGE_DECAY * min(hole.shape)))[..., None]
    result = np.clip(np.rint(fill.astype(np.float32) + correction), 0, 255).astype(np.uint8)
    return np.where(hole[..., None], result, fill)
