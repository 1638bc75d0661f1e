"""Projects in the app: save and reopen a session exactly (image, mask, sketch, borders, undo history),
the title and recent files; hostile and corrupt files give an error and leave the open document alone."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from conftest import drag
from PIL import Image
from PySide6.QtGui import QKeySequence

from inpaintstudio.geometry import Rect
from inpaintstudio.ui import messages
from tests.project_zip import rewrite, set_size


def edit(window) -> None:  # noqa: ANN001
    """A mask stroke, a sketch stroke and wider borders, through the window's tools."""
    drag(window, [(20, 20), (70, 50)])
    window.set_tool("sketch")
    drag(window, [(100, 10), (120, 100)])
    window.doc.set_extent(Rect(-10, 0, 180, 130))


def test_project_save_and_reopen_restores_the_session(window, small_doc, dialogs, tmp_path):
    edit(window)
    labels = small_doc.history.labels()
    assert labels == ["Mask stroke", "Sketch stroke", "Extend borders"]
    layers = {k: v.copy() for k, v in small_doc.layers().items()}
    path = tmp_path / "session.inpaint"
    dialogs.project_path = str(path)
    window.actions_["save_project"].trigger()  # no project yet: asks where
    assert path.is_file() and small_doc.project_path == path and not small_doc.dirty
    assert window.windowTitle().startswith("session.inpaint")
    assert window.settings.recent_files[0] == str(path.resolve())

    window.files.open_path(Path(__file__).parents[1] / "fixtures" / "giraffe.jpg")
    assert window.doc is not small_doc
    dialogs.open_path = str(path)
    window.actions_["open"].trigger()
    doc = window.doc
    assert doc.project_path == path and not doc.dirty and not window.isWindowModified()
    assert window.windowTitle() == "session.inpaint[*] - InpaintStudio"
    for name, array in layers.items():
        assert np.array_equal(doc.layer(name), array), name
    assert doc.extent == Rect(-10, 0, 180, 130)
    assert doc.history.labels() == labels and doc.history.position == 3
    assert window.history_panel.count() == 4
    assert window.actions_["undo"].isEnabled() and window.actions_["reset_extent"].isEnabled()
    window.undo()
    window.undo()
    assert not doc.sketch.any() and doc.mask.any()

    # Ctrl+Alt+S now writes to the same project without asking; the unsaved-changes prompt saves it too.
    dialogs.project_path = ""
    assert window.files.save_project() and not doc.dirty
    window.redo()
    dialogs.save_changes = "save"
    assert window.files.replace_document(type(doc)(np.zeros((8, 8, 3), np.uint8)))
    reopened = window.files.open_path(path) and window.doc
    assert reopened.history.position == 2 and not reopened.dirty
    assert np.array_equal(reopened.sketch, layers["sketch"])


def test_the_menus_show_projects(window):
    shortcut = window.actions_["save_project"].shortcut()
    assert shortcut == QKeySequence("Ctrl+Alt+S")
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert "Save Pro&ject" in texts and "Save Project As..." in texts
    assert "*.inpaint" in messages.OPEN_FILTER.split(";;")[0] and "*.png" in messages.OPEN_FILTER.split(";;")[0]
    assert not window.actions_["save_project"].isEnabled(), "nothing to save without a document"


def test_recent_projects_reopen(window, small_doc, dialogs, tmp_path):
    path = tmp_path / "r.inpaint"
    assert window.files.save_project_to(path)
    window.set_document(None)
    window.recent_menu.actions()[0].trigger()
    assert window.doc is not None and window.doc.project_path == path


def _good_project(tmp_path: Path, doc) -> bytes:  # noqa: ANN001
    from inpaintstudio.document.io import project

    path = tmp_path / "good.inpaint"
    project.save_project(doc, path)
    return path.read_bytes()


def test_hostile_and_corrupt_files_leave_the_app_running(window, small_doc, dialogs, tmp_path, qtbot):
    from inpaintstudio.document.document import Document

    good = _good_project(tmp_path, Document(small_doc.image))
    drag(window, [(100, 80), (130, 90)])
    cases = {
        "bomb.inpaint": (set_size(good, "image.png", 4_000_000_000), "would unpack to"),
        "notzip.inpaint": (b"\x89PNG\r\n\x1a\n this is no project", "not a zip"),
        "cut.inpaint": (good[: len(good) // 2], ""),
        "broken.jpg": (b"\xff\xd8\xff\xe0 not really a jpeg", ""),
    }

    # A project whose history index names a layer outside the document (a path-traversal attempt).
    def traversal(members: dict[str, bytes]) -> None:
        members["history/index.json"] = b'{"format": 1, "position": 1, "edits": [{"kind": "exec", "layer": "../x"}]}'
        members["project.json"] = members["project.json"].replace(b'"history": false', b'"history": true')
        members["history/blobs.bin"] = b""

    cases["history.inpaint"] = (rewrite(good, traversal, compression=zipfile.ZIP_STORED), "history")
    for name, (content, words) in cases.items():
        (tmp_path / name).write_bytes(content)
        dialogs.errors.clear()
        assert not window.files.open_path(tmp_path / name), name
        assert window.doc is small_doc and small_doc.dirty, name
        [(title, text)] = dialogs.errors
        assert title.startswith("Cannot open") and name in text and words in text, (name, text)
    assert window.windowTitle().startswith("Pasted image")
    drag(window, [(10, 10), (40, 40)])  # and it keeps working
    assert small_doc.history.labels() == ["Mask stroke", "Mask stroke"]


def test_a_failed_project_save_keeps_the_document_dirty(window, small_doc, dialogs, tmp_path):
    small_doc.invert_mask()
    dialogs.project_path = str(tmp_path / "no-such-folder" / "x.inpaint")
    assert not window.files.save_project_as()
    assert dialogs.errors and dialogs.errors[0][0] == "Cannot save project"
    assert small_doc.dirty and small_doc.project_path is None
    Image.fromarray(small_doc.image).save(tmp_path / "x.png")
    dialogs.project_path = str(tmp_path / "x.png")
    assert not window.files.save_project_as()
    assert "end in .inpaint" in dialogs.errors[-1][1]
