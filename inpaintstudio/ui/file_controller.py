"""Opening and saving: the file dialogs, recent files, the clipboard, drops, masks and sketches as files,
and projects (``.inpaint``: image, mask, sketch, extent and undo history in one file).

Every failure a person can cause ends in a clear message and leaves the open document as it was; a
hostile file (a zip bomb, a lying header) is refused by the readers, and no code from a file is run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QWidget

from inpaintstudio.document.document import THRESHOLD, Document
from inpaintstudio.document.io import imageio, project
from inpaintstudio.errors import InpaintStudioError
from inpaintstudio.ui import messages
from inpaintstudio.ui.current_document import CurrentDocument
from inpaintstudio.ui.settings import AppSettings
from inpaintstudio.ui.status_bar import StatusBar

log = logging.getLogger(__name__)
LOSSY = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WebP"}
MAP_NAMES = {"exclude": "exclusion"}  # how dialogs name a layer loaded from or saved to a file
T = TypeVar("T")


@contextmanager
def wait_cursor() -> Iterator[None]:
    """A busy cursor while the GUI thread reads or writes a large file."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


def document_name(doc: Document | None) -> str:
    """What the title bar and the prompts call a document: its project, else its photo."""
    if doc is None:
        return ""
    if doc.project_path is not None:
        return doc.project_path.name
    return doc.path.name if doc.path else "Pasted image"


def qimage_to_arrays(image: QImage) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB uint8 pixels (and alpha when the image has any) from a QImage, copied."""
    alpha = image.hasAlphaChannel()
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888 if alpha else QImage.Format.Format_RGB888)
    h, w, bpl = converted.height(), converted.width(), converted.bytesPerLine()
    channels = 4 if alpha else 3
    rows = np.frombuffer(converted.constBits(), np.uint8).reshape(h, bpl)[:, : w * channels]
    pixels = rows.reshape(h, w, channels).copy()
    if alpha and (pixels[..., 3] < 255).any():
        return np.ascontiguousarray(pixels[..., :3]), np.ascontiguousarray(pixels[..., 3])
    return np.ascontiguousarray(pixels[..., :3]), None


class FileController(QObject):
    recent_changed = Signal()  # the settings' list of recent files changed

    def __init__(self, current: CurrentDocument, settings: AppSettings, status: StatusBar, parent: QWidget) -> None:
        super().__init__(parent)
        self.current = current
        self.settings = settings
        self.status = status
        self.parent_widget = parent  # for the dialogs
        self.save_path: Path | None = None  # where Ctrl+S writes; set by the first Save As

    # -- opening -------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = messages.ask_open_path(self.parent_widget, self.settings.last_folder)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a photo or a ``.inpaint`` project (told apart by the suffix)."""
        path = Path(path)
        is_project = project.is_project(path)
        title = "Cannot open project" if is_project else "Cannot open image"
        reader: Callable[[Path], Document] = project.load_project if is_project else Document.open
        doc = self._guarded(title, path.name, lambda: reader(path))
        if doc is None:
            if not path.exists():
                self.settings.remove_recent(str(path.resolve()))
                self.recent_changed.emit()
            return False
        if not self.replace_document(doc):
            return False
        self.settings.add_recent(path)
        self.settings.last_folder = str(path.resolve().parent)
        self.recent_changed.emit()
        return True

    def _guarded(self, title: str, name: str, work: Callable[[], T]) -> T | None:
        """Run a file operation; any failure is a message (the app keeps running), None is returned."""
        try:
            with wait_cursor():
                return work()
        except InpaintStudioError as exc:
            messages.error(self.parent_widget, title, str(exc))
        except MemoryError:
            messages.error(self.parent_widget, title, f"{name} is too large to fit in memory.")
        except Exception as exc:  # a reader bug must not take the user's session down
            log.exception("%s: %s", title, name)
            messages.error(self.parent_widget, title, f"{name}: internal error: {type(exc).__name__}: {exc}")
        return None

    def replace_document(self, doc: Document) -> bool:
        """Swap in ``doc`` after offering to save unsaved work; False when the user cancelled."""
        if not self.maybe_save():
            return False
        self.save_path = None
        self.current.set(doc)
        return True

    def paste(self) -> bool:
        from PySide6.QtWidgets import QApplication

        return self.open_mime(QApplication.clipboard().mimeData(), "The clipboard holds no image.")

    def open_mime(self, mime: QMimeData | None, nothing: str = "Nothing to open.") -> bool:
        if mime is not None and mime.hasUrls():
            local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if local:
                return self.open_path(local[0])
        if mime is not None and mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                pixels, alpha = qimage_to_arrays(image)
                if self.replace_document(Document(pixels, alpha)):
                    self.status.showMessage(f"Pasted an image of {image.width()} x {image.height()}", 6000)
                    return True
                return False
        messages.error(self.parent_widget, "Nothing to open", nothing)
        return False

    # -- saving --------------------------------------------------------------------------------------
    def suggested_path(self) -> str:
        doc = self.current.doc
        folder = Path(self.settings.last_folder or Path.home())
        if doc is None or doc.path is None:
            return str(folder / "inpainted.png")
        suffix = doc.path.suffix.lower() if doc.path.suffix.lower() in imageio.SAVE_FORMATS else ".png"
        return str(doc.path.with_name(f"{doc.path.stem}-inpainted{suffix}"))

    def save(self) -> bool:
        if self.save_path is None:
            return self.save_as()
        return self.save_to(self.save_path)

    def save_as(self) -> bool:
        if self.current.doc is None:
            return False
        path = messages.ask_save_path(self.parent_widget, self.suggested_path())
        return bool(path) and self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        doc = self.current.doc
        if doc is None:
            return False
        quality = self.settings.jpeg_quality
        kind = LOSSY.get(path.suffix.lower())
        if kind is not None:
            answer = messages.ask_quality(self.parent_widget, kind, quality)
            if answer is None:
                return False
            quality = self.settings.jpeg_quality = answer
        try:
            notes = doc.save(path, quality=quality)  # metadata the format cannot carry, at most one note
        except InpaintStudioError as exc:
            messages.error(self.parent_widget, "Cannot save image", str(exc))
            return False
        self.save_path = path
        self.settings.add_recent(path)
        self.settings.last_folder = str(path.resolve().parent)
        self.recent_changed.emit()
        self.status.showMessage("; ".join([f"Saved {path.name}", *notes]), 15000 if notes else 6000)
        return True

    def maybe_save(self) -> bool:
        """Offer to save unsaved work; False when the user cancelled (the caller must then stop).

        A document that belongs to a project is saved to its project; any other one as an image."""
        doc = self.current.doc
        if doc is None or not doc.dirty:
            return True
        name = document_name(doc) if doc.path or doc.project_path else "the pasted image"
        answer = messages.ask_save_changes(self.parent_widget, name)
        if answer == "save":
            return self.save_project() if doc.project_path is not None else self.save()
        return answer == "discard"

    # -- projects ------------------------------------------------------------------------------------
    def suggested_project_path(self) -> str:
        doc = self.current.doc
        if doc is not None and doc.project_path is not None:
            return str(doc.project_path)
        folder = Path(self.settings.last_folder or Path.home())
        if doc is None or doc.path is None:
            return str(folder / f"untitled{project.SUFFIX}")
        return str(doc.path.with_suffix(project.SUFFIX))

    def save_project(self) -> bool:
        """Save to the document's project file (Save Project As... the first time)."""
        doc = self.current.doc
        if doc is None:
            return False
        if doc.project_path is None:
            return self.save_project_as()
        return self.save_project_to(doc.project_path)

    def save_project_as(self) -> bool:
        if self.current.doc is None:
            return False
        path = messages.ask_project_save_path(self.parent_widget, self.suggested_project_path())
        return bool(path) and self.save_project_to(Path(path))

    def save_project_to(self, path: Path) -> bool:
        doc = self.current.doc
        if doc is None:
            return False
        if self._guarded("Cannot save project", path.name, lambda: project.save_project(doc, path) or True) is None:
            return False
        self.settings.add_recent(path)
        self.settings.last_folder = str(path.resolve().parent)
        self.recent_changed.emit()
        self.status.showMessage(f"Saved project {path.name}", 6000)
        return True

    # -- masks and sketches as files ----------------------------------------------------------------
    def load_map(self, layer: str) -> bool:
        doc = self.current.doc
        if doc is None:
            return False
        name = MAP_NAMES.get(layer, layer)
        path = messages.ask_open_path(
            self.parent_widget, self.settings.last_folder, f"Load {name}", messages.MAP_FILTER
        )
        if not path:
            return False
        try:
            binary = imageio.load_binary_map(path, (doc.width, doc.height), name, doc.meta.orientation)
            return doc.set_binary_layer(layer, binary, f"Load {name}")
        except InpaintStudioError as exc:
            messages.error(self.parent_widget, f"Cannot load the {name}", str(exc))
            return False

    def save_map(self, layer: str) -> bool:
        doc = self.current.doc
        if doc is None:
            return False
        stem = doc.path.stem if doc.path else "image"
        name = MAP_NAMES.get(layer, layer)
        suggested = str(Path(self.settings.last_folder or Path.home()) / f"{stem}-{layer}.png")
        path = messages.ask_map_save_path(self.parent_widget, suggested, name)
        if not path:
            return False
        white = np.where(doc.layer(layer) >= THRESHOLD, 255, 0).astype(np.uint8)
        try:
            imageio.save_image(path, np.repeat(white[..., None], 3, axis=2), None, imageio.ImageMeta(gray=True))
        except InpaintStudioError as exc:
            messages.error(self.parent_widget, f"Cannot save the {name}", str(exc))
            return False
        self.status.showMessage(f"Saved the {name} as {Path(path).name}", 6000)
        return True
