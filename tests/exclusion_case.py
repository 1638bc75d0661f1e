"""The synthetic case of issue 20, shared by the engine, command-line and app tests of the exclusion."""

from __future__ import annotations

import cv2
import numpy as np


def stripes_and_grass(h: int = 256, w: int = 384, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, hole, exclusion): red / cream stripes left, green texture right, a square hole on the
    border, the red half excluded."""
    rng = np.random.default_rng(seed)
    half = w // 2
    image = np.zeros((h, w, 3), np.uint8)
    stripe = (np.arange(half) // 8) % 2 == 0
    image[:, :half] = np.where(stripe[None, :, None], [220, 30, 30], [250, 235, 225]).astype(np.uint8)
    noise = cv2.GaussianBlur(rng.normal(0, 25, (h, w - half)).astype(np.float32), (0, 0), 1.2)
    image[:, half:, 0] = np.clip(40 + 0.5 * noise, 0, 255)
    image[:, half:, 1] = np.clip(150 + 1.5 * noise, 0, 255)
    image[:, half:, 2] = np.clip(50 + 0.5 * noise, 0, 255)
    hole = np.zeros((h, w), bool)
    hole[h // 2 - 50 : h // 2 + 50, half - 50 : half + 50] = True
    exclude = np.zeros((h, w), bool)
    exclude[:, :half] = True
    return image, hole, exclude


def red_fraction(image: np.ndarray, hole: np.ndarray) -> float:
    pixels = image[hole].astype(int)
    return float(((pixels[:, 0] > 140) & (pixels[:, 0] > pixels[:, 1] + 60)).mean())
