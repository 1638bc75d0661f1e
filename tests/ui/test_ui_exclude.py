"""The sampling exclusion in the app: its tool and shortcut, the tint, undo, clearing, fill, compare, projects."""

from __future__ import annotations

import numpy as np
from conftest import drag, view_point
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from inpaintstudio.document.document import Document
from inpaintstudio.document.tools import ExcludeTool
from inpaintstudio.ui.canvas.rendering import EXCLUDE_COLOUR
from tests.exclusion_case import red_fraction, stripes_and_grass


def shown_colour(window, x: float, y: float) -> np.ndarray:  # noqa: ANN001
    """The RGB the canvas shows at image point (x, y)."""
    image = window.canvas.grab().toImage()
    point = view_point(window, x, y)
    colour = image.pixelColor(point.x(), point.y())
    return np.array([colour.red(), colour.green(), colour.blue()])


def test_the_exclude_tool_paints_its_own_tinted_layer_and_undoes(window, small_doc, qtbot):
    QTest.keyClick(window, Qt.Key.Key_A)
    assert isinstance(window.canvas.tool, ExcludeTool) and window.actions_["exclude"].isChecked()
    before = shown_colour(window, 50, 60)
    drag(window, [(20, 60), (140, 60)])
    assert small_doc.exclude[60, 50] == 255 and not small_doc.mask.any() and not small_doc.sketch.any()
    assert small_doc.history.labels() == ["Exclusion stroke"]
    tinted = shown_colour(window, 50, 60)
    # towards amber: more red and green than blue, and not the photo any more
    assert np.abs(tinted - before).sum() > 40
    assert np.dot(tinted - before, np.array(EXCLUDE_COLOUR) - 128) > 0
    # M hides it with the mask, and shows it again
    QTest.keyClick(window, Qt.Key.Key_M)
    assert np.array_equal(shown_colour(window, 50, 60), before)
    QTest.keyClick(window, Qt.Key.Key_M)
    assert np.array_equal(shown_colour(window, 50, 60), tinted)
    # Alt + drag erases it
    drag(window, [(40, 60), (60, 60)], Qt.KeyboardModifier.AltModifier)
    assert small_doc.exclude[60, 50] == 0 and small_doc.history.labels()[-1] == "Exclusion erase"
    window.undo()
    assert small_doc.exclude[60, 50] == 255
    window.undo()
    assert not small_doc.exclude.any()
    assert np.array_equal(shown_colour(window, 50, 60), before), "the tint goes with the undone stroke"


def test_brush_size_applies_to_the_exclusion_and_ctrl_delete_clears_it(window, small_doc):
    window.brush_panel.size.set_value(30)
    assert window.tools["exclude"].size == 30
    window.set_tool("exclude")
    drag(window, [(80, 60), (81, 60)])
    assert small_doc.exclude[60, 80 + 12] == 255 and small_doc.exclude[60, 80 + 18] == 0
    QTest.keyClick(window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert not small_doc.exclude.any() and small_doc.history.labels()[-1] == "Clear exclusion"
    assert small_doc.mask is not None and not small_doc.mask.any()


def _stripes_doc(window) -> tuple[Document, np.ndarray]:  # noqa: ANN001
    image, hole, exclude = stripes_and_grass()
    doc = Document(image)
    doc.layer("mask")[hole] = 255
    doc.layer("exclude")[exclude] = 255
    window.set_document(doc)
    return doc, hole


def test_fill_in_the_app_copies_nothing_from_the_exclusion(window, qtbot):
    doc, hole = _stripes_doc(window)
    job = window.fills.fill("patchmatch")
    assert job is not None
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=30000)
    assert doc.history.labels() == ["Fill (patchmatch)"]
    assert red_fraction(doc.image, hole) < 0.01
    assert doc.exclude.any(), "the exclusion stays for the next fill"


def test_compare_honours_the_exclusion_and_says_which_model_ignores_it(window, qtbot):
    doc, hole = _stripes_doc(window)
    comparison = window.compares.start(["patchmatch", "telea"])
    assert comparison is not None and comparison.request.exclude is not None
    qtbot.waitUntil(lambda: comparison.finished, timeout=30000)
    patchmatch, telea = comparison.slots
    assert patchmatch.status == telea.status == "done"
    assert red_fraction(np.asarray(patchmatch.result.image), hole) < 0.01
    assert "ignores the exclusion" in telea.caption() and "ignores" not in patchmatch.caption()
    assert any("exclusion was ignored" in note for note in telea.result.notices)


def test_an_exclusion_over_everything_is_refused_before_the_fill(window, dialogs):
    doc, _ = _stripes_doc(window)
    doc.layer("exclude")[...] = 255
    assert window.fills.fill("patchmatch") is None
    assert dialogs.errors and "nothing left to copy from" in dialogs.errors[-1][1]


def test_projects_keep_the_exclusion(window, small_doc, dialogs, tmp_path):
    window.set_tool("exclude")
    drag(window, [(20, 30), (140, 30)])
    painted = small_doc.exclude.copy()
    path = tmp_path / "excl.inpaint"
    dialogs.project_path = str(path)
    window.actions_["save_project"].trigger()
    window.set_document(Document(small_doc.image))
    dialogs.open_path = str(path)
    window.actions_["open"].trigger()
    doc = window.doc
    assert np.array_equal(doc.exclude, painted) and doc.history.labels() == ["Exclusion stroke"]
    assert window.canvas.exclusion.image is not None
    window.undo()
    assert not doc.exclude.any()


def test_the_exclusion_saves_to_and_loads_from_a_file(window, small_doc, dialogs, tmp_path):
    small_doc.layer("exclude")[10:50, 20:90] = 255
    painted = small_doc.exclude.copy()
    dialogs.save_path = str(tmp_path / "excl.png")
    window.actions_["save_exclude"].trigger()
    assert (tmp_path / "excl.png").is_file()
    window.actions_["clear_exclude"].trigger()
    assert not small_doc.exclude.any()
    dialogs.open_path = str(tmp_path / "excl.png")
    window.actions_["load_exclude"].trigger()
    assert np.array_equal(small_doc.exclude, painted) and small_doc.history.labels()[-1] == "Load exclusion"
    assert not small_doc.mask.any()
