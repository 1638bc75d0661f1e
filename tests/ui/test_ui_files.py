"""Opening, saving, recent files, clipboard, drops, the unsaved-changes prompt, masks as files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QTimer, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QLineEdit

from inpaintstudio.document.io.imageio import load_image
from inpaintstudio.ui import messages
from inpaintstudio.ui.settings import AppSettings


def write_photo(path: Path, width: int = 90, height: int = 60) -> Path:
    rgb = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def test_open_from_a_path_and_the_recent_files_persist(window, tmp_path):
    photo = write_photo(tmp_path / "a.png")
    assert window.files.open_path(photo)
    assert window.doc.width == 90
    assert window.windowTitle().startswith("a.png")
    assert AppSettings().recent_files[0] == str(photo.resolve())
    actions = window.recent_menu.actions()
    assert actions and str(photo.resolve()) in actions[0].text()
    # a second window (a new run) sees them
    from inpaintstudio.ui.main_window import MainWindow

    again = MainWindow()
    assert again.settings.recent_files == [str(photo.resolve())]
    again.close()
    again.bridge.shutdown()


def test_opening_a_corrupt_file_shows_an_error_and_keeps_the_document(window, small_doc, tmp_path, dialogs):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not window.files.open_path(broken)
    assert window.doc is small_doc
    assert dialogs.errors and "broken.jpg" in dialogs.errors[0][1]


def test_exif_orientation_is_honoured(window, tmp_path):
    rgb = np.zeros((40, 80, 3), np.uint8)
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    im.save(tmp_path / "rot.jpg", exif=exif.tobytes())
    window.files.open_path(tmp_path / "rot.jpg")
    assert (window.doc.width, window.doc.height) == (40, 80)


def test_save_prompts_on_close_when_dirty(window, small_doc, dialogs, tmp_path, qtbot):
    small_doc.mask[10:20, 10:20] = 255
    small_doc.invert_mask()
    assert small_doc.dirty and window.isWindowModified()
    dialogs.save_changes = "cancel"
    assert not window.close(), "cancel keeps the window open"
    assert dialogs.save_prompts == ["image"] or dialogs.save_prompts
    dialogs.save_changes = "save"
    dialogs.save_path = str(tmp_path / "out.png")
    assert window.close()
    assert (tmp_path / "out.png").exists()
    assert not small_doc.dirty


def test_save_as_jpeg_asks_for_the_quality_and_clears_the_marker(window, small_doc, dialogs, tmp_path):
    small_doc.invert_mask()
    dialogs.save_path = str(tmp_path / "out.jpg")
    dialogs.quality = 70
    assert window.files.save_as()
    assert load_image(tmp_path / "out.jpg").meta.format == "JPEG"
    assert window.settings.jpeg_quality == 70
    assert not window.isWindowModified()
    small_doc.invert_mask()
    assert window.isWindowModified()
    dialogs.save_path = ""
    assert window.files.save(), "Ctrl+S writes to the same file again without asking"


def test_paste_and_drop_open_images(window, tmp_path):
    image = QImage(50, 30, QImage.Format.Format_RGB32)
    image.fill(0xFF336699)
    QApplication.clipboard().setImage(image)
    assert window.files.paste()
    assert (window.doc.width, window.doc.height) == (50, 30)
    assert tuple(window.doc.image[0, 0]) == (0x33, 0x66, 0x99)
    photo = write_photo(tmp_path / "dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    assert window.files.open_mime(mime)
    assert window.doc.path == photo


def test_command_line_argument_opens_the_photo(qtbot, tmp_path, monkeypatch):
    from inpaintstudio.ui import app as app_module
    from inpaintstudio.ui.main_window import MainWindow

    photo = write_photo(tmp_path / "cli.png")
    shown: list[MainWindow] = []
    original_show = MainWindow.show
    monkeypatch.setattr(MainWindow, "show", lambda self: (shown.append(self), original_show(self)))
    seen = {}

    def fake_exec(self):  # noqa: ANN001 - instead of the event loop: check, then close
        window = shown[0]
        qtbot.waitUntil(lambda: window.doc is not None, timeout=5000)
        seen["size"] = (window.doc.width, window.doc.height)
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert app_module.main([str(photo)]) == 0
    assert seen["size"] == (90, 60)


def test_mask_save_and_load_round_trip(window, small_doc, dialogs, tmp_path):
    small_doc.mask[20:40, 30:70] = 255
    dialogs.save_path = str(tmp_path / "mask.png")
    assert window.files.save_map("mask")
    window.doc_call("clear_layer", "mask")
    assert not small_doc.mask.any()
    dialogs.open_path = str(tmp_path / "mask.png")
    assert window.files.load_map("mask")
    assert small_doc.hole()[20:40, 30:70].all() and small_doc.hole().sum() == 20 * 40
    dialogs.open_path = str(write_photo(tmp_path / "wrong.png", 10, 10))
    assert not window.files.load_map("mask")
    assert "10x10" in dialogs.errors[-1][1]


def test_settings_persist(window):
    window.brush_panel.size.set_value(77)
    window.set_device("cpu")
    window.model_panel.select("telea")
    fresh = AppSettings()
    assert fresh.brush_size == 77 and fresh.device == "cpu" and fresh.model == "telea"
    assert Path(fresh.path).parent == Path(__import__("os").environ["INPAINTSTUDIO_HOME"])


def test_opening_a_too_large_image_says_so(window, small_doc, tmp_path, dialogs):
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)  # 400 megapixels, declared in the header
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    assert not window.files.open_path(huge)
    assert window.doc is small_doc
    assert "megapixels" in dialogs.errors[-1][1]


ASK_SAVE_PATH = messages.ask_save_path  # the real dialog (conftest's recorder replaces it in each test)


def test_save_as_shows_the_type_of_the_suggested_name(window, tmp_path, qtbot):
    """A JPEG photo's suggestion is name-inpainted.jpg: the type filter must show JPEG, not PNG; choosing
    another type changes the name's suffix with it."""
    seen: dict[str, str] = {}

    def look_and_answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, look_and_answer)
            return
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        seen["filter"], seen["name"] = dialog.selectedNameFilter(), name.text()
        types = dialog.findChild(QComboBox, "fileTypeCombo")
        types.setCurrentIndex(types.findText("TIFF (*.tif *.tiff)"))
        types.activated.emit(types.currentIndex())  # what choosing it in the list does
        seen["after"] = name.text()
        dialog.reject()

    for suffix, wanted in ((".jpg", "JPEG (*.jpg *.jpeg)"), (".webp", "WebP (*.webp)"), (".png", "PNG (*.png)")):
        QTimer.singleShot(0, look_and_answer)
        assert ASK_SAVE_PATH(window, str(tmp_path / f"photo-inpainted{suffix}")) == ""
        assert seen == {"filter": wanted, "name": f"photo-inpainted{suffix}", "after": "photo-inpainted.tif"}
