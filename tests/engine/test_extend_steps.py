"""Extending borders: any sides and sizes in one fill, large extensions in steps, no seam at the old edge."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import extension_steps, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.errors import FillCancelled
from inpaintstudio.geometry import Rect


def extend(image: np.ndarray, pads: tuple[int, int, int, int], model: str = "patchmatch", ctx=None):  # noqa: ANN001
    h, w = image.shape[:2]
    left, top, right, bottom = pads
    request = FillRequest(
        image, np.zeros((h, w), bool), model, extent=Rect(-left, -top, w + left + right, h + top + bottom)
    )
    return request, run_fill(request, ctx)


def test_steps_add_at_most_half_the_canvas_per_side():
    image = np.zeros((480, 640, 3), np.uint8)
    one = FillRequest(image, np.zeros((480, 640), bool), "telea", extent=Rect(0, -120, 640, 480 + 200))
    assert extension_steps(one) == [(0, 120, 0, 80)]
    big = FillRequest(image, np.zeros((480, 640), bool), "telea", extent=Rect(-640, 0, 640 * 3, 480))
    assert extension_steps(big) == [(320, 0, 320, 0), (320, 0, 320, 0)]
    assert sum(s[0] for s in extension_steps(big)) == 640


@pytest.mark.parametrize("pads", [(0, 120, 0, 80), (60, 60, 200, 30)])
def test_any_sides_give_exact_sizes_and_keep_the_photo_bit_exact(photo, pads):
    request, result = extend(photo, pads)
    left, top, right, bottom = pads
    h, w = photo.shape[:2]
    assert result.size == (w + left + right, h + top + bottom)
    assert np.array_equal(result.image[top : top + h, left : left + w], photo)
    assert result.filled.sum() == result.size[0] * result.size[1] - w * h


def test_an_extension_of_the_photos_own_size_runs_in_steps_with_progress_and_cancel(photo):
    h, w = photo.shape[:2]
    messages: list[str] = []
    request, result = extend(photo, (w, h, w, h), ctx=JobContext(progress=lambda f, m: messages.append(m)))
    assert result.size == (3 * w, 3 * h)
    assert np.array_equal(result.image[h : 2 * h, w : 2 * w], photo)
    assert result.offset == (w, h)
    assert any("step 1 of 2" in m for m in messages) and any("step 2 of 2" in m for m in messages)

    cancel = threading.Event()

    def stop_at_second_step(fraction: float, message: str) -> None:
        if "step 2 of" in message:
            cancel.set()

    with pytest.raises(FillCancelled):
        extend(photo, (w, h, w, h), ctx=JobContext(progress=stop_at_second_step, cancel_event=cancel))


def test_no_brightness_step_at_the_old_edge(photo):
    """Rows / columns either side of each old edge differ by no more than the photo's own neighbours do."""
    h, w = photo.shape[:2]
    left, top, right, bottom = 80, 60, 80, 60
    _, result = extend(photo, (left, top, right, bottom), "patchmatch")
    out = result.image.astype(np.float32)
    own_rows = np.percentile(np.abs(np.diff(photo.astype(np.float32).mean(axis=(1, 2)))), 95)
    own_cols = np.percentile(np.abs(np.diff(photo.astype(np.float32).mean(axis=(0, 2)))), 95)
    cols, rows = slice(left, left + w), slice(top, top + h)
    assert abs(out[top - 1, cols].mean() - out[top, cols].mean()) <= own_rows
    assert abs(out[top + h - 1, cols].mean() - out[top + h, cols].mean()) <= own_rows
    assert abs(out[rows, left - 1].mean() - out[rows, left].mean()) <= own_cols
    assert abs(out[rows, left + w - 1].mean() - out[rows, left + w].mean()) <= own_cols
