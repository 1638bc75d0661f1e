"""Fixtures for the app's widget tests: non-blocking dialogs, a main window, a slow test model."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from inpaintstudio.document.document import Document  # noqa: E402
from inpaintstudio.engine import registry  # noqa: E402
from inpaintstudio.engine.base import Capabilities, Inpainter  # noqa: E402
from inpaintstudio.ui import messages  # noqa: E402
from tests.images import gradient_photo  # noqa: E402


@dataclass
class Dialogs:
    """Records every message box and answers every question the app asks, without blocking."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    infos: list[tuple[str, str]] = field(default_factory=list)
    save_prompts: list[str] = field(default_factory=list)
    choices: list[dict[str, str]] = field(default_factory=list)
    save_changes: str = "discard"  # the answer to "Save the changes?"
    choice: str | None = None  # the answer to messages.choose (None = cancel)
    open_path: str = ""
    save_path: str = ""
    project_path: str = ""  # the answer to "Save project as"
    quality: int | None = 90
    recover: str = "later"  # the answer to the recover-on-start prompt: "recover", "discard" or "later"
    recover_prompts: list[str] = field(default_factory=list)
    confirm: bool = True  # the answer to messages.confirm
    confirms: list[str] = field(default_factory=list)
    text: str | None = None  # the answer to messages.ask_text (None: keep the suggested text)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(messages, "error", lambda parent, title, text: self.errors.append((title, text)))
        monkeypatch.setattr(messages, "info", lambda parent, title, text: self.infos.append((title, text)))

        def ask_save_changes(parent: object, name: str) -> str:
            self.save_prompts.append(name)
            return self.save_changes

        def choose(parent: object, title: str, text: str, options: dict[str, str]) -> str | None:
            self.choices.append(options)
            return self.choice

        monkeypatch.setattr(messages, "ask_save_changes", ask_save_changes)
        monkeypatch.setattr(messages, "choose", choose)
        monkeypatch.setattr(messages, "ask_open_path", lambda *a, **k: self.open_path)
        monkeypatch.setattr(messages, "ask_save_path", lambda *a, **k: self.save_path)
        monkeypatch.setattr(messages, "ask_map_save_path", lambda *a, **k: self.save_path)
        monkeypatch.setattr(messages, "ask_quality", lambda *a, **k: self.quality)
        monkeypatch.setattr(messages, "ask_project_save_path", lambda *a, **k: self.project_path)

        def ask_recover(parent: object, description: str, others: int = 0) -> str:
            self.recover_prompts.append(description)
            return self.recover

        def confirm(parent: object, title: str, text: str, action: str) -> bool:
            self.confirms.append(text)
            return self.confirm

        def ask_text(parent: object, title: str, label: str, default: str = "") -> str | None:
            return default if self.text is None else self.text

        monkeypatch.setattr(messages, "ask_recover", ask_recover)
        monkeypatch.setattr(messages, "confirm", confirm)
        monkeypatch.setattr(messages, "ask_text", ask_text)


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    recorder = Dialogs()
    recorder.install(monkeypatch)
    return recorder


@pytest.fixture
def window(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    from inpaintstudio.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    win.bridge.shutdown()


@pytest.fixture
def small_doc(window) -> Document:  # noqa: ANN001
    doc = Document(gradient_photo())
    window.set_document(doc)
    return doc


def view_point(window, x: float, y: float) -> QPoint:  # noqa: ANN001
    """The canvas position of image point (x, y)."""
    return window.canvas.transform.to_view(x, y).toPoint()


def drag(window, points: list[tuple[float, float]], modifier=Qt.KeyboardModifier.NoModifier) -> None:  # noqa: ANN001
    """A real mouse drag on the canvas through image points."""
    canvas = window.canvas.viewport()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, modifier, view_point(window, *points[0]))
    for point in points[1:]:
        QTest.mouseMove(canvas, view_point(window, *point))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, view_point(window, *points[-1]))


class SlowInpainter(Inpainter):
    """Takes a few seconds unless cancelled; fills with a flat grey."""

    name = "test-slow"
    label = "Slow (test)"
    summary = "A deliberately slow fill for tests"
    caps = Capabilities(outpaint=True)
    started = threading.Event()

    def inpaint(self, image, mask, sketch, ctx):  # noqa: ANN001, ANN201
        SlowInpainter.started.set()
        for step in range(300):
            ctx.check_cancelled()
            ctx.progress(step / 300, "working slowly")
            time.sleep(0.01)
        return np.full_like(image, 77)


@pytest.fixture
def slow_model(window):  # noqa: ANN001, ANN201
    SlowInpainter.started.clear()
    registry.register(SlowInpainter)
    window.model_panel.reload()
    yield SlowInpainter.name
    registry.unregister(SlowInpainter.name)
