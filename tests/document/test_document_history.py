"""Strokes, undo / redo, history memory, fills and extents as history steps."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.document.brush import Brush
from inpaintstudio.document.document import Document
from inpaintstudio.engine.pipeline import run_fill
from inpaintstudio.errors import InputError
from inpaintstudio.geometry import Rect


def stroke(doc: Document, points, layer="mask", size=20.0, erase=False, hardness=1.0) -> bool:
    s = doc.begin_stroke(layer, Brush(size, hardness), erase=erase)
    for x, y in points:
        s.add_point(x, y)
    return s.end()


def test_stroke_changes_only_pixels_near_the_path(photo):
    doc = Document(photo)
    assert stroke(doc, [(50, 50), (150, 50)], size=20)
    changed = doc.mask > 0
    ys, xs = np.nonzero(changed)
    assert ys.min() >= 50 - 11 and ys.max() <= 50 + 11
    assert xs.min() >= 50 - 11 and xs.max() <= 150 + 11
    assert doc.mask[50, 100] == 255 and doc.mask[50, 50] == 255
    assert (doc.image == photo).all(), "painting the mask never touches the photo"
    assert doc.history.labels() == ["Mask stroke"]


def test_undo_redo_restore_exact_layers(photo):
    doc = Document(photo)
    stroke(doc, [(10, 10), (200, 120)], size=30)
    first = doc.mask.copy()
    stroke(doc, [(100, 10), (100, 200)], size=12, erase=True)
    second = doc.mask.copy()
    assert not np.array_equal(first, second)
    doc.undo()
    assert np.array_equal(doc.mask, first)
    doc.undo()
    assert not doc.mask.any()
    doc.redo()
    doc.redo()
    assert np.array_equal(doc.mask, second)
    assert not doc.redo()


def test_new_edit_after_undo_drops_the_redo_branch(photo):
    doc = Document(photo)
    stroke(doc, [(10, 10), (50, 10)])
    stroke(doc, [(10, 40), (50, 40)])
    doc.undo()
    stroke(doc, [(10, 80), (50, 80)])
    assert not doc.history.can_redo()
    assert doc.mask[40, 30] == 0 and doc.mask[80, 30] == 255


def test_jump_to_any_step(photo):
    doc = Document(photo)
    states = [doc.mask.copy()]
    for y in (20, 60, 100):
        stroke(doc, [(10, y), (80, y)])
        states.append(doc.mask.copy())
    for target in (0, 3, 1, 2):
        doc.jump_to(target)
        assert np.array_equal(doc.mask, states[target])


def test_soft_brush_has_graded_edges_hard_brush_does_not(photo):
    doc = Document(photo)
    stroke(doc, [(100, 100)], size=40, hardness=0.0)
    profile = doc.mask[100, 80:121]
    assert profile[20] >= 250 and 0 < profile[8] < 200, "a soft brush fades out"
    hard = Document(photo)
    stroke(hard, [(100, 100)], size=40, hardness=1.0)
    inner = hard.mask[100, 82:119]
    assert (inner == 255).all()


def test_sketch_strokes_go_to_the_sketch_layer(photo):
    doc = Document(photo)
    stroke(doc, [(20, 20), (120, 20)], layer="sketch", size=3)
    assert doc.sketch.any() and not doc.mask.any()
    assert doc.history.labels() == ["Sketch stroke"]


def test_history_of_200_strokes_on_24_megapixels_stays_small():
    """The issue's budget: 200 strokes of 60 px on a 6000 x 4000 photo under 150 MB of history."""
    rng = np.random.default_rng(1)
    doc = Document(np.zeros((4000, 6000, 3), np.uint8))
    steps = 0
    for i in range(200):
        # Strokes start on a grid so each paints fresh pixels, in random directions (diagonals included).
        x, y = 300 + (i % 10) * 540 + rng.uniform(-50, 50), 200 + (i // 10) * 180 + rng.uniform(-50, 50)
        angle = rng.uniform(0, 2 * np.pi)
        steps += stroke(doc, [(x + k * 40 * np.cos(angle), y + k * 40 * np.sin(angle)) for k in range(25)], size=60)
    mb = doc.history.nbytes / 1e6
    print(f"history of 200 strokes (1000 px long, 60 px wide) on 6000x4000: {mb:.2f} MB")
    assert steps == 200 and len(doc.history.edits) == 200
    assert mb < 150


def test_clear_and_invert_are_single_steps(photo):
    doc = Document(photo)
    stroke(doc, [(30, 30), (60, 60)])
    painted = doc.mask.copy()
    assert doc.invert_mask()
    assert np.array_equal(doc.mask, 255 - painted)
    assert doc.clear_layer("mask")
    assert not doc.mask.any()
    doc.undo()
    doc.undo()
    assert np.array_equal(doc.mask, painted)
    assert not doc.clear_layer("sketch"), "clearing an empty layer is not a step"


def test_fill_is_one_undoable_step_and_clears_the_hole(photo):
    doc = Document(photo)
    stroke(doc, [(100, 100), (180, 140)], size=30)
    hole = doc.hole()
    result = run_fill(doc.fill_request("telea"))
    assert doc.apply_fill(result)
    assert doc.history.labels() == ["Mask stroke", "Fill (telea)"]
    assert (doc.image[~hole] == photo[~hole]).all()
    assert (doc.image[hole] != photo[hole]).any()
    assert not (doc.mask >= 128).any()
    doc.undo()
    assert (doc.image == photo).all() and np.array_equal(doc.hole(), hole)
    doc.redo()
    assert np.array_equal(doc.image, result.image)


def test_extend_then_fill_grows_the_image_and_undo_shrinks_it(photo):
    doc = Document(photo)
    h, w = photo.shape[:2]
    doc.set_extent(Rect(-20, 0, w + 20 + w // 3, h + 10))
    result = run_fill(doc.fill_request("patchmatch"))
    doc.apply_fill(result)
    assert doc.image.shape == (h + 10, w + 20 + w // 3, 3)
    assert doc.extent == doc.rect
    assert (doc.image[0:h, 20 : 20 + w] == photo).all(), "the original pixels are kept exactly"
    assert doc.mask.shape == doc.image.shape[:2]
    grown = doc.image.copy()
    doc.undo()  # the fill
    assert doc.image.shape == photo.shape and (doc.image == photo).all()
    assert doc.extent == Rect(-20, 0, w + 20 + w // 3, h + 10)
    doc.undo()  # the extent
    assert doc.extent == doc.rect
    doc.redo()
    doc.redo()
    assert np.array_equal(doc.image, grown)


def test_extent_must_contain_the_image(photo):
    doc = Document(photo)
    with pytest.raises(InputError):
        doc.set_extent(Rect(10, 0, 50, 50))


def test_a_result_for_another_size_is_refused(photo):
    doc = Document(photo)
    stroke(doc, [(50, 50), (60, 60)])
    result = run_fill(doc.fill_request("telea"))
    other = Document(photo[:100, :100].copy())
    with pytest.raises(InputError):
        other.apply_fill(result)


def test_dirty_flag_follows_saves_and_undo(photo, tmp_path):
    doc = Document(photo)
    assert not doc.dirty
    stroke(doc, [(5, 5), (40, 40)])
    assert doc.dirty
    doc.save(tmp_path / "out.png")
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty


def test_listeners_hear_changes_with_rectangles(photo):
    doc = Document(photo)
    heard = []
    unsubscribe = doc.subscribe(heard.append)
    stroke(doc, [(30, 30), (40, 30)], size=10)
    kinds = [c.kind for c in heard]
    assert "mask" in kinds and kinds[-1] == "history"
    rect = next(c.rect for c in heard if c.kind == "mask")
    assert rect.contains(Rect(28, 28, 4, 4))
    unsubscribe()
    heard.clear()
    doc.undo()
    assert heard == []


def test_sixteen_bit_document_fill_keeps_depth():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 65535, (64, 80, 3), dtype=np.uint16)
    doc = Document(pixels)
    stroke(doc, [(20, 20), (40, 30)], size=10)
    hole = doc.hole()
    doc.apply_fill(run_fill(doc.fill_request("telea")))
    assert doc.image.dtype == np.uint16
    assert (doc.image[~hole] == pixels[~hole]).all()
