"""Fill results as patches: the work and the undo data follow the holes, not the photo."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.document.document import Document
from inpaintstudio.document.io.imageio import ImageMeta
from inpaintstudio.engine.pipeline import run_fill
from inpaintstudio.engine.request import FillRequest, FillResult, Patch
from inpaintstudio.geometry import Rect


@pytest.fixture
def big(photo: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.tile(photo, (6, 6, 1)))  # 1536 x 2304, 3.5 MP


def two_holes(doc: Document) -> None:
    doc.mask[100:140, 150:210] = 255
    doc.mask[1300:1330, 2000:2050] = 255


def test_a_crop_fill_shares_the_input_and_carries_only_its_regions(big):
    doc = Document(big)
    two_holes(doc)
    request = doc.fill_request("telea")
    result = run_fill(request)
    assert result.base is request.image, "the input is shared, not copied"
    assert len(result.patches) == 2
    covered = sum(p.rect.area for p in result.patches)
    assert covered < 0.02 * big.shape[0] * big.shape[1]
    assert result.filled.sum() == doc.hole().sum()
    assert not result.image.flags.writeable and not result.filled.flags.writeable
    outside = ~doc.hole()
    assert (result.image[outside] == big[outside]).all()


def test_applying_patches_equals_the_whole_picture_and_undo_is_exact(big):
    doc = Document(big.copy())
    two_holes(doc)
    result = run_fill(doc.fill_request("telea"))
    assert doc.apply_fill(result)
    assert np.array_equal(doc.image, result.image)
    assert not (doc.mask >= 128).any()
    # Undo data: the two hole boxes with their mask/sketch fringes, nowhere near the 10 MB photo.
    step = doc.history.edits[doc.history.position - 1]
    assert step.nbytes < 200_000
    doc.undo()
    assert np.array_equal(doc.image, big)
    assert (doc.mask[100:140, 150:210] == 255).all() and (doc.mask[1300:1330, 2000:2050] == 255).all()
    doc.redo()
    assert np.array_equal(doc.image, result.image)


def test_a_greyscale_photo_stays_grey_after_a_patch_fill(photo):
    grey = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    doc = Document(grey.copy(), meta=ImageMeta(mode="L", gray=True))
    doc.mask[60:100, 80:140] = 255
    red = np.zeros((40, 60, 3), np.uint8)
    red[..., 0] = 200
    result = FillResult(
        grey, (Patch(Rect(80, 60, 60, 40), red, np.ones((40, 60), bool)),), (0, 0), (384, 256), "t", "cpu", 0
    )
    assert doc.apply_fill(result)
    assert (doc.image[..., 0] == doc.image[..., 1]).all() and (doc.image[..., 1] == doc.image[..., 2]).all()
    assert (doc.image[60:100, 80:140] == round(200 * 0.299)).all()
    assert np.array_equal(doc.image[:60], grey[:60])


def test_a_whole_picture_result_is_one_patch(photo):
    filled = np.zeros(photo.shape[:2], bool)
    filled[10:20, 30:50] = True
    result = FillResult.whole(photo, filled, (0, 0), (photo.shape[1], photo.shape[0]), "test")
    assert result.size == (photo.shape[1], photo.shape[0]) and result.changed
    assert np.array_equal(result.image, photo) and np.array_equal(result.filled, filled)


def test_a_cropped_patch_keeps_only_its_part():
    pixels = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    patch = Patch(Rect(10, 20, 8, 6), pixels, np.ones((6, 8), bool))
    part = patch.cropped(Rect(14, 0, 100, 23))
    assert part.rect == Rect(14, 20, 4, 3)
    assert np.array_equal(part.pixels, pixels[:3, 4:])
    assert patch.cropped(Rect(0, 0, 5, 5)).rect.is_empty()


def test_a_request_takes_a_readonly_snapshot_as_it_is_and_copies_anything_else(photo):
    hole = np.zeros(photo.shape[:2], bool)
    hole[5:10, 5:10] = True
    mine = photo.copy()
    request = FillRequest(mine, hole, "telea")
    assert request.image is not mine and request.mask is not hole
    mine[:] = 0
    hole[:] = False
    assert request.image.any() and request.mask.any(), "painting on after the snapshot does not reach it"
    frozen = photo.copy()
    frozen.flags.writeable = False
    assert FillRequest(frozen, request.mask, "telea").image is frozen
    view = frozen[:, :]
    assert FillRequest(view, request.mask, "telea").image is not view, "a view may share a writeable base"
