"""The sampling exclusion in the document: painted, undone, cleared, filled with, saved and recovered."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from inpaintstudio.document.brush import Brush
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import project
from inpaintstudio.document.io.recovery import RecoveryStore
from inpaintstudio.document.tools import ExcludeTool
from inpaintstudio.engine.request import FillResult
from inpaintstudio.errors import ImageLoadError, InputError
from inpaintstudio.geometry import Rect
from tests.project_zip import members as zip_members
from tests.project_zip import rewrite


def stroke(doc: Document, points, layer: str = "exclude", size: float = 12.0, erase: bool = False) -> None:
    s = doc.begin_stroke(layer, Brush(size, 1.0), erase=erase)
    for x, y in points:
        s.add_point(x, y)
    s.end()


def test_exclusion_strokes_are_undoable_steps_of_their_own_layer(photo):
    doc = Document(photo[:80, :120])
    assert doc.exclude.shape == (80, 120) and not doc.exclude.any()
    stroke(doc, [(10, 10), (100, 10)])
    painted = doc.exclude.copy()
    assert painted.any() and not doc.mask.any() and not doc.sketch.any()
    assert doc.history.labels() == ["Exclusion stroke"]
    stroke(doc, [(50, 10), (60, 10)], erase=True)
    assert doc.history.labels()[-1] == "Exclusion erase" and (doc.exclude < painted).any()
    doc.undo()
    assert np.array_equal(doc.exclude, painted)
    doc.undo()
    assert not doc.exclude.any()
    doc.redo()
    assert np.array_equal(doc.exclude, painted)


def test_the_exclude_tool_paints_and_alt_erases(photo):
    doc = Document(photo[:80, :120])
    tool = ExcludeTool(size=10)
    tool.press(doc, 20, 40)
    tool.move(80, 40)
    assert tool.release(80, 40)
    assert doc.exclude[40, 50] == 255 and not doc.mask.any()
    tool.press(doc, 50, 40, alternate=True)
    assert tool.release(50, 40)
    assert doc.exclude[40, 50] == 0 and doc.exclude[40, 30] == 255


def test_clearing_the_exclusion_is_one_undoable_step(photo):
    doc = Document(photo[:80, :120])
    stroke(doc, [(10, 10), (100, 70)])
    painted = doc.exclude.copy()
    assert doc.clear_layer("exclude")
    assert not doc.exclude.any() and doc.history.labels()[-1] == "Clear exclusion"
    assert not doc.clear_layer("exclude")  # nothing left: no step
    doc.undo()
    assert np.array_equal(doc.exclude, painted)


def test_the_fill_request_carries_the_exclusion(photo):
    doc = Document(photo[:80, :120])
    stroke(doc, [(40, 40), (50, 40)], layer="mask", size=20)
    assert doc.fill_request("patchmatch").exclude is None
    doc.layer("exclude")[:, :30] = 200
    doc.layer("exclude")[:, 30:35] = 100  # a faint fringe below the threshold does not count
    request = doc.fill_request("patchmatch")
    assert request.exclude.dtype == bool and request.exclude[:, :30].all() and not request.exclude[:, 30:].any()
    doc.layer("exclude")[...] = 255
    with pytest.raises(InputError, match="nothing left to copy from"):
        doc.fill_request("patchmatch")
    assert doc.fill_request("telea").exclude.all()  # telea ignores it (with a note from the fill)


def test_a_fill_leaves_the_exclusion_and_canvas_growth_keeps_it_in_place(photo):
    doc = Document(photo[:80, :120])
    doc.layer("exclude")[:, :30] = 255
    stroke(doc, [(60, 40), (70, 40)], layer="mask", size=20)
    h, w = 80 + 10, 120 + 20
    filled = np.ones((h, w), bool)
    filled[5:85, 10:130] = doc.hole()
    image = np.zeros((h, w, 3), np.uint8)
    assert doc.apply_fill(FillResult.whole(image, filled, (10, 5), (120, 80), "test"))
    assert doc.exclude.shape == (90, 140)
    assert doc.exclude[5:85, 10:40].all() and not doc.exclude[:, :10].any() and not doc.exclude[:, 40:].any()
    doc.undo()
    assert doc.exclude.shape == (80, 120) and doc.exclude[:, :30].all()


def test_projects_keep_the_exclusion_and_its_history(tmp_path, photo):
    doc = Document(photo[:80, :120])
    stroke(doc, [(10, 10), (100, 10)])
    doc.set_extent(Rect(-4, 0, 128, 80))
    stroke(doc, [(10, 60), (100, 60)])
    path = tmp_path / "session.inpaint"
    project.save_project(doc, path)
    members = zip_members(path)
    assert json.loads(members["project.json"])["version"] == 2 and "exclude.png" in members
    back = project.load_project(path)
    assert np.array_equal(back.exclude, doc.exclude)
    assert back.history.labels() == doc.history.labels()
    back.undo()
    back.undo()
    assert back.exclude[10, 50] == 255 and back.exclude[60, 50] == 0
    back.undo()
    assert not back.exclude.any()


def test_a_project_without_the_exclusion_stays_format_1(tmp_path, photo):
    """Older versions open it: no exclude.png, and canvas steps without exclusion strips, exactly as
    files written before the layer existed (which this version therefore reads too)."""
    doc = Document(photo[:80, :120])
    stroke(doc, [(20, 20), (60, 20)], layer="mask")
    doc.set_extent(Rect(0, 0, 130, 90))
    fake = np.zeros((90, 130, 3), np.uint8)
    filled = np.ones((90, 130), bool)
    filled[:80, :120] = doc.hole()
    doc.apply_fill(FillResult.whole(fake, filled, (0, 0), (120, 80), "test"))
    path = tmp_path / "plain.inpaint"
    project.save_project(doc, path)
    members = zip_members(path)
    assert json.loads(members["project.json"])["version"] == 1 and "exclude.png" not in members
    index = json.loads(members["history/index.json"])
    [canvas] = [e for step in index["edits"] for e in step.get("edits", [step]) if e["kind"] == "canvas"]
    assert set(canvas["strips"]) == {"image", "mask", "sketch"}
    back = project.load_project(path)
    assert back.exclude.shape == (90, 130) and not back.exclude.any()
    back.undo()  # the canvas step, restored with empty exclusion strips
    assert back.exclude.shape == (80, 120)
    back.redo()
    assert back.exclude.shape == (90, 130) and not back.exclude.any()


def test_a_format_2_project_without_its_exclusion_is_damaged(tmp_path, photo):
    doc = Document(photo[:80, :120])
    stroke(doc, [(10, 10), (100, 10)])
    path = tmp_path / "session.inpaint"
    project.save_project(doc, path, history=False)
    path.write_bytes(rewrite(path, lambda m: m.pop("exclude.png"), compression=zipfile.ZIP_STORED))
    with pytest.raises(ImageLoadError, match="no exclude.png"):
        project.load_project(path)


def test_recovery_snapshots_keep_the_exclusion(tmp_path, photo):
    store = RecoveryStore(tmp_path / "rec")
    doc = Document(photo[:80, :120])
    stroke(doc, [(10, 10), (100, 70)])
    store.save(doc, "s1")
    back = store.restore(next(entry for entry, _ in store.entries()))
    assert np.array_equal(back.exclude, doc.exclude) and back.dirty
    back.undo()
    assert not back.exclude.any()
