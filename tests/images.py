"""Small synthetic test photos, shared by the app's tests and the engine's."""

from __future__ import annotations

import numpy as np


def gradient_photo(width: int = 160, height: int = 120) -> np.ndarray:
    """A smooth, textured test photo (fast to fill, easy to check)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x * 7 + y * 3) % 256], axis=2)
    return rgb.astype(np.uint8)
