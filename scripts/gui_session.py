"""A scripted session in the real app window, with screenshots after each major step.

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb python scripts/gui_session.py SHOTS_DIR

Opens resources/sample.jpg (by a drop on the window), paints over two signs with the mask brush and
draws a sketch stroke, fills with Telea, undoes and redoes, compares three models (choosing them in the
dialog) and applies one, extends the right border by a third with the extend tool, fills it with
PatchMatch, and saves to a temporary PNG through the Save As dialog. Everything is driven by mouse and
key events; the screenshots (QWidget.grab) go to SHOTS_DIR.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INPAINTSTUDIO_HOME", tempfile.mkdtemp(prefix="inpaintstudio-session-"))

from PySide6.QtCore import QEventLoop, QMimeData, QPoint, QPointF, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog, QFileDialog, QLineEdit, QPushButton  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "sample.jpg"


class Session:
    def __init__(self, shots: Path) -> None:
        from inpaintstudio.ui.app import create_application
        from inpaintstudio.ui.main_window import MainWindow

        self.shots = shots
        self.app = create_application()
        self.window = MainWindow()
        self.window.resize(1500, 920)
        self.window.show()
        QTest.qWaitForWindowExposed(self.window)
        self.window.activateWindow()  # Xvfb has no window manager to do it; shortcuts need an active window
        QTest.qWaitForWindowActive(self.window)
        self.count = 0

    # -- helpers ---------------------------------------------------------------------------------------
    def wait(self, ms: int = 120) -> None:
        # Not QTest.qWait: PySide's qWait keeps the GIL while it sleeps, which starves the fill worker
        # (importing torch there took 35 s instead of 3). A nested event loop releases it, as app.exec does.
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError(f"timed out waiting for {what}")
            self.wait(30)

    def shot(self, name: str, widget=None) -> Path:  # noqa: ANN001
        self.wait(150)
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        (widget or self.window).grab().save(str(path))
        title = self.window.windowTitle().replace("[*]", "*" if self.window.isWindowModified() else "")
        print(f"screenshot {path.name}   title: {title}   status: {self.window.statusBar().currentMessage()}")
        return path

    def at(self, x: float, y: float) -> QPoint:
        return self.window.canvas.transform.to_view(x, y).toPoint()

    def activate(self) -> None:
        """Without a window manager nobody re-activates the window after a dialog; shortcuts need it."""
        if not self.window.isActiveWindow():
            self.window.activateWindow()
            QTest.qWaitForWindowActive(self.window)

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, widget=None) -> None:  # noqa: ANN001
        self.activate()
        QTest.keyClick(widget or self.window.canvas, key, modifier)
        self.wait(30)

    def stroke(self, points: list[tuple[float, float]], hold: bool = False) -> None:
        canvas = self.window.canvas
        QTest.mouseMove(canvas, self.at(*points[0]))
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, self.at(*points[0]))
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            for i in range(1, 9):
                t = i / 8
                QTest.mouseMove(canvas, self.at(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
                self.wait(5)
        if not hold:
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, self.at(*points[-1]))

    def click_model(self, name: str) -> None:
        tree = self.window.model_panel.tree
        for i in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == name:
                QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
                self.wait(50)
                assert self.window.model_panel.current_model() == name, name
                return
        raise LookupError(name)

    def fill_and_wait(self) -> None:
        self.key(Qt.Key.Key_F)
        self.wait_until(lambda: not self.window.fills.busy, what="the fill")

    def on_modal(self, handler: Callable[[QDialog], None]) -> None:
        """Run ``handler`` on the next modal dialog once it shows (it blocks the script's own call)."""

        def poll() -> None:
            dialog = QApplication.activeModalWidget()
            if isinstance(dialog, QDialog) and dialog.isVisible():
                handler(dialog)
            else:
                QTimer.singleShot(50, poll)

        QTimer.singleShot(50, poll)

    # -- the session -----------------------------------------------------------------------------------
    def run(self, out_png: Path) -> None:
        w = self.window
        self.shot("start")

        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(SAMPLE))])
        centre = QPointF(w.canvas.mapTo(w, w.canvas.rect().center()))
        with warnings.catch_warnings():  # PySide marks the QPoint constructor deprecated; it is the only one
            warnings.simplefilter("ignore", DeprecationWarning)
            enter = QDragEnterEvent(centre.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(w, enter)
        assert enter.isAccepted(), "the window accepts a dragged image file"
        drop = QDropEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(w, drop)
        self.wait_until(lambda: w.doc is not None, what="the photo to open")
        self.shot("opened")

        self.key(Qt.Key.Key_B)
        for _ in range(3):
            self.key(Qt.Key.Key_BracketLeft)  # 40 -> 23 px
        self.stroke([(154, 447), (153, 490), (151, 527)])
        self.key(Qt.Key.Key_BracketRight)
        self.stroke([(307, 466), (307, 484), (308, 501)])
        self.key(Qt.Key.Key_S)
        self.stroke([(297, 494), (318, 494)])  # a sketch line: the step edge behind the sign should continue
        self.key(Qt.Key.Key_B)
        QTest.mouseMove(w.canvas, self.at(420, 300))
        self.shot("mask-and-sketch")

        self.click_model("telea")
        self.fill_and_wait()
        self.shot("filled-telea")
        self.activate()
        QTest.keySequence(w, "Ctrl+Z")
        self.shot("undo")
        QTest.keySequence(w, "Ctrl+Shift+Z")
        self.shot("redo")

        self.key(Qt.Key.Key_BracketRight)
        self.stroke([(638, 446), (636, 475), (632, 506)])
        self.stroke([(560, 514), (561, 537)])
        self.shot("mask-for-compare")

        def choose(dialog: QDialog) -> None:
            boxes = {box.text(): box for box in dialog.findChildren(QCheckBox)}
            for label, box in boxes.items():
                wanted = any(label.startswith(p) for p in ("Telea", "Navier-Stokes", "PatchMatch"))
                if box.isChecked() != wanted and box.isEnabled():
                    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
            self.shot("compare-dialog", dialog)
            ok = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Compare")
            QTest.mouseClick(ok, Qt.MouseButton.LeftButton)

        self.on_modal(choose)
        self.key(Qt.Key.Key_C)
        comparison = w.compares.comparison
        self.wait_until(lambda: comparison is not None and comparison.finished, what="the comparison")
        self.shot("compare-grid")
        view = w.compare_view
        pane = view.panes[0].image
        QTest.mouseMove(pane, view.transform.to_view(600, 490).toPoint())
        for _ in range(4):  # Ctrl + wheel on the first pane zooms all of them around the signs
            wheel = QWheelEvent(
                view.transform.to_view(600, 490), QPointF(pane.mapToGlobal(view.transform.to_view(600, 490))),
                QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                Qt.ScrollPhase.NoScrollPhase, False,
            )  # fmt: skip
            QApplication.sendEvent(pane, wheel)
        self.shot("compare-zoomed-synchronised")
        self.key(Qt.Key.Key_O, widget=view)
        assert view.before.isChecked()
        self.shot("compare-before")
        self.key(Qt.Key.Key_O, widget=view)
        patchmatch = next(i for i, s in enumerate(comparison.slots) if s.model == "patchmatch")
        QTest.mouseClick(view.panes[patchmatch].apply, Qt.MouseButton.LeftButton)
        self.shot("compare-applied")

        self.key(Qt.Key.Key_X)
        doc = w.doc
        right = doc.width
        target = right + round(doc.width / 3)
        self.stroke([(right, doc.height / 2), (right + 100, doc.height / 2), (target, doc.height / 2)], hold=True)
        self.shot("extend-dragging")
        QTest.mouseRelease(w.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, self.at(target, doc.height / 2))  # fmt: skip
        assert doc.extent.w == target, doc.extent
        self.activate()
        QTest.keySequence(w, "Ctrl+0")
        self.shot("extended")
        self.click_model("patchmatch")
        self.fill_and_wait()
        assert (doc.width, doc.height) == (target, 640), (doc.width, doc.height)
        self.key(Qt.Key.Key_B)
        QTest.mouseMove(w.canvas, QPoint(w.canvas.width() // 2, w.canvas.height() - 6))  # below the photo
        self.shot("outpainted-patchmatch")

        def save_dialog(dialog: QDialog) -> None:
            assert isinstance(dialog, QFileDialog), type(dialog)
            edit = next(e for e in dialog.findChildren(QLineEdit) if e.isVisible())
            edit.selectAll()
            QTest.keyClicks(edit, str(out_png))
            self.shot("save-dialog", dialog)
            QTest.keyClick(edit, Qt.Key.Key_Return)

        self.on_modal(save_dialog)
        self.activate()
        QTest.keySequence(w, "Ctrl+Shift+S")
        self.wait_until(lambda: out_png.exists(), what="the saved file")
        self.shot("saved")
        print(f"saved {out_png} ({out_png.stat().st_size} bytes); history: {doc.history.labels()}")
        w.close()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    shots = Path(sys.argv[1])
    shots.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="inpaintstudio-out-")) / "session-result.png"
    session = Session(shots)
    started = time.perf_counter()
    session.run(out)
    print(f"session finished in {time.perf_counter() - started:.1f} s; screenshots in {shots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
