"""Every question and message box the app shows, in one place.

The rest of the app calls these functions (never QMessageBox / QFileDialog directly), so tests replace
them with recorders (see tests/ui/conftest.py) and no modal dialog ever blocks a test run.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from inpaintstudio.document.io import imageio, project

IMAGE_FILTER = imageio.OPEN_FILTER
_IMAGE_PATTERNS = IMAGE_FILTER[IMAGE_FILTER.index("(") + 1 : IMAGE_FILTER.rindex(")")]
OPEN_FILTER = ";;".join(
    (f"Images and projects ({_IMAGE_PATTERNS} *{project.SUFFIX})", IMAGE_FILTER, project.OPEN_FILTER)
)
PROJECT_FILTER = project.OPEN_FILTER
CHECKPOINT_FILTER = "Checkpoints (*.pth *.pt *.ckpt *.safetensors);;All files (*)"

SAVE_FILTERS = {
    "PNG (*.png)": ".png",
    "JPEG (*.jpg *.jpeg)": ".jpg",
    "WebP (*.webp)": ".webp",
    "TIFF (*.tif *.tiff)": ".tif",
}
MAP_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"


def error(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.exec()


def info(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    box.exec()


def ask_save_changes(parent: QWidget | None, name: str) -> str:
    """'save', 'discard' or 'cancel' for a document with unsaved changes."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to {name}?")
    box.setInformativeText("Your edits will be lost if you don't save them.")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
        QMessageBox.StandardButton(answer), "cancel"
    )


def choose(parent: QWidget | None, title: str, text: str, options: dict[str, str]) -> str | None:
    """Ask the user to pick one of ``options`` (key -> button text); None when they cancel."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    buttons = {box.addButton(label, QMessageBox.ButtonRole.AcceptRole): key for key, label in options.items()}
    if buttons:
        box.setDefaultButton(next(iter(buttons)))
    box.exec()
    return buttons.get(box.clickedButton())


def ask_open_path(
    parent: QWidget | None, folder: str, title: str = "Open image or project", filters: str = OPEN_FILTER
) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    return path


def save_filter_for(path: str) -> str:
    """The type filter of ``path``'s suffix (PNG when none fits), so the dialog shows the name's type."""
    pattern = f"*{Path(path).suffix.lower()}"
    return next((name for name in SAVE_FILTERS if pattern in name[name.index("(") + 1 : -1].split()), "PNG (*.png)")


def ask_save_path(parent: QWidget | None, suggested: str, title: str = "Save image") -> str:
    """Where to save the image; choosing another type in the dialog changes the name's suffix with it."""
    filters = ";;".join(SAVE_FILTERS)
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, filters, save_filter_for(suggested))
    if path and "." not in path.rsplit("/", 1)[-1]:
        path += SAVE_FILTERS.get(chosen, ".png")
    return path


def ask_map_save_path(parent: QWidget | None, suggested: str, what: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, f"Save {what}", suggested, "PNG (*.png)")
    if path and not path.lower().endswith(".png"):
        path += ".png"
    return path


def ask_quality(parent: QWidget | None, fmt: str, default: int) -> int | None:
    """JPEG / WebP quality 1..100, or None when cancelled."""
    value, ok = QInputDialog.getInt(parent, f"{fmt} quality", f"{fmt} quality (1-100):", default, 1, 100, 1)
    return int(value) if ok else None


def ask_project_save_path(parent: QWidget | None, suggested: str) -> str:
    """Where to save a project (``.inpaint`` is added when the name has no suffix)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save project", suggested, PROJECT_FILTER)
    if path and not path.lower().endswith(project.SUFFIX):
        path += project.SUFFIX
    return path


def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask before doing something that cannot be undone; ``action`` is the button that does it."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


def ask_text(parent: QWidget | None, title: str, label: str, default: str = "") -> str | None:
    """A line of text, or None when cancelled."""
    value, ok = QInputDialog.getText(parent, title, label, text=default)
    return value.strip() if ok else None


def ask_recover(parent: QWidget | None, description: str, others: int = 0) -> str:
    """'recover', 'discard' or 'later' for unsaved work a crashed or killed run left behind."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover unsaved work")
    box.setText("InpaintStudio did not close normally. Recover the unsaved work?")
    more = f"\n\n{others} more unsaved document(s) will be offered after this one." if others else ""
    box.setInformativeText(
        f"{description}\n\nRecover opens it with its mask, sketch and undo history. Discard deletes it. "
        f"Later keeps it and asks again at the next start.{more}"
    )
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(recover)
    box.setEscapeButton(later)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover else "discard" if clicked is discard else "later"
