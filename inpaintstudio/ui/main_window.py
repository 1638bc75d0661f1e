"""The main window: puts the canvas, panels and controllers together and keeps them in step.

The current document lives in a :class:`CurrentDocument` holder; when it is replaced the window hands the
new one to the widgets that observe it (canvas, history panel). Opening, saving, filling, comparing and
autosaving are done by the controllers in their own modules; each gets the few objects it uses (the
holder, the fill worker, the model panel, the settings, the status bar), never the window.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStackedWidget, QWidget

from inpaintstudio import __version__
from inpaintstudio.document.document import Change, Document
from inpaintstudio.document.tools import (
    BrushTool,
    EraserTool,
    ExcludeTool,
    ExtendTool,
    HandTool,
    SketchTool,
    StrokeTool,
    Tool,
)
from inpaintstudio.engine.pipeline import MAX_EXTEND_FACTOR
from inpaintstudio.ui import messages
from inpaintstudio.ui.actions import (
    TOOL_HINTS,
    TOOL_KEYS,
    TOOL_TEXT,
    build_actions,
    build_menus,
    build_toolbars,
    plain_text,
)
from inpaintstudio.ui.brush_panel import BrushPanel
from inpaintstudio.ui.canvas import CanvasView
from inpaintstudio.ui.compare_controller import CompareController
from inpaintstudio.ui.compare_view import CompareView
from inpaintstudio.ui.current_document import CurrentDocument
from inpaintstudio.ui.file_controller import FileController, document_name
from inpaintstudio.ui.fill_controller import FillController
from inpaintstudio.ui.history_panel import HistoryPanel
from inpaintstudio.ui.model_panel import ModelPanel
from inpaintstudio.ui.recovery_controller import RecoveryController
from inpaintstudio.ui.settings import AppSettings
from inpaintstudio.ui.shortcuts_dialog import MOUSE_ROWS, ShortcutsDialog, key_text, menu_sections
from inpaintstudio.ui.status_bar import StatusBar
from inpaintstudio.ui.worker_bridge import FillBridge

if TYPE_CHECKING:
    from inpaintstudio.ui.model_manager import ModelManagerDialog

SIZE_STEP = 1.2  # [ and ] scale the brush by this factor
MASK_BRUSHES = ("brush", "eraser", "exclude")  # the tools that share the panel's size and hardness


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, bridge: FillBridge | None = None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.devices = ["auto", "cpu", "cuda", *(["mps"] if sys.platform == "darwin" else [])]
        self.current = CurrentDocument(self)
        self._unsubscribe: Callable[[], None] | None = None
        self.setWindowTitle("InpaintStudio")
        self.setAcceptDrops(True)
        self.resize(1400, 900)

        s = self.settings
        self.tools: dict[str, Tool] = {
            "brush": BrushTool(s.brush_size, s.brush_hardness),
            "eraser": EraserTool(s.brush_size, s.brush_hardness),
            "sketch": SketchTool(s.sketch_size),
            "exclude": ExcludeTool(s.brush_size, s.brush_hardness),
            "extend": ExtendTool(MAX_EXTEND_FACTOR),
            "hand": HandTool(),
        }
        self.canvas = CanvasView()
        self.compare_view = CompareView()
        self.central = QStackedWidget()
        self.central.addWidget(self.canvas)
        self.central.addWidget(self.compare_view)
        self.setCentralWidget(self.central)
        self.status = StatusBar()
        self.setStatusBar(self.status)

        self.bridge = bridge or FillBridge(self)
        self.files = FileController(self.current, self.settings, self.status, self)
        self.actions_ = build_actions(self)
        self.recent_menu = build_menus(self, self.actions_)
        build_toolbars(self, self.actions_)
        self.brush_panel = BrushPanel(s.brush_size, s.brush_hardness, s.sketch_size, s.mask_opacity, self.actions_)
        self.model_panel = ModelPanel(self.actions_, self.devices)
        self.history_panel = HistoryPanel()
        docks = [
            self._dock("Brush && layers", self.brush_panel, "brushDock"),
            self._dock("Model", self.model_panel, "modelDock"),
            self._dock("History", self.history_panel, "historyDock"),
        ]
        self.resizeDocks(docks, [320, 320, 320], Qt.Orientation.Horizontal)
        self.fills = FillController(self.current, self.bridge, self.model_panel, self.settings, self.status, self)
        self.compares = CompareController(
            self.current,
            self.bridge,
            self.model_panel,
            self.settings,
            self.status,
            self.compare_view,
            self.canvas,
            self,
        )
        self.recovery = RecoveryController(self.status, self.canvas, self.files, self)
        self.model_manager: ModelManagerDialog | None = None  # made on first use (it imports more)
        self.shortcuts_dialog: ShortcutsDialog | None = None
        self._connect()
        self.model_panel.reload(s.model)
        self.model_panel.set_device(s.device)
        self.actions_[f"device:{s.device}"].setChecked(True)
        self.canvas.set_mask_opacity(s.mask_opacity)
        self.set_tool("brush")
        self.refresh_recent()
        self.set_document(None)
        geometry, state = s.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)  # "&&" shows one ampersand
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _connect(self) -> None:
        s, c = self.settings, self.canvas
        self.brush_panel.size_changed.connect(self._set_brush_size)
        self.brush_panel.hardness_changed.connect(self._set_hardness)
        self.brush_panel.sketch_size_changed.connect(self._set_sketch_size)
        self.brush_panel.opacity_changed.connect(lambda v: (c.set_mask_opacity(v), setattr(s, "mask_opacity", v)))
        self.model_panel.model_changed.connect(lambda name: setattr(s, "model", name))
        self.model_panel.device_changed.connect(self.set_device)
        self.status.cancel_requested.connect(self.fills.cancel)
        self.fills.busy_changed.connect(lambda _busy: self._update_actions())
        self.fills.applied.connect(lambda _result: self.recovery.filled())
        self.compares.applied.connect(self.recovery.filled)
        self.compares.shown.connect(self.show_compare)
        self.files.recent_changed.connect(self.refresh_recent)
        self.current.replaced.connect(self._show_document)
        c.zoom_changed.connect(self.status.set_zoom)
        c.cursor_moved.connect(self.status.set_position)
        c.extent_dragged.connect(self._show_size)

    # -- the document --------------------------------------------------------------------------------
    @property
    def doc(self) -> Document | None:
        return self.current.doc

    def set_document(self, doc: Document | None) -> None:
        self.current.set(doc)

    def _show_document(self, doc: Document | None) -> None:
        """The current document was replaced: every view and controller follows."""
        self.fills.cancel()
        if self.compares.comparison is not None:
            self.compares.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.canvas.set_document(doc)
        self.history_panel.set_document(doc)
        self.recovery.set_document(doc)
        if doc is not None:
            self._unsubscribe = doc.subscribe(self._on_change)
        self._show_size()
        self._update_title()
        self._update_actions()

    def _on_change(self, change: Change) -> None:
        if change.kind in ("history", "saved"):
            self._update_title()
            self._update_actions()
        elif change.kind in ("canvas", "extent"):
            self._show_size()

    def _show_size(self) -> None:
        """The photo's size, and while borders are extended (or being dragged) the size a fill gives."""
        doc = self.doc
        if doc is None:
            self.status.set_size(0, 0)
            return
        content = self.canvas.content_rect()
        self.status.set_size(doc.width, doc.height, None if content == doc.rect else (content.w, content.h))

    def _update_title(self) -> None:
        doc = self.doc
        if doc is None:
            self.setWindowTitle("InpaintStudio")
            self.setWindowModified(False)
            return
        self.setWindowTitle(f"{document_name(doc)}[*] - InpaintStudio")
        self.setWindowModified(doc.dirty)

    def _update_actions(self) -> None:
        has = self.doc is not None
        for name in ("save", "save_as", "save_project", "save_project_as", "load_mask", "save_mask", "load_sketch",
                     "save_sketch", "load_exclude", "save_exclude", "clear_mask", "invert_mask", "clear_sketch",
                     "clear_exclude", "zoom_in", "zoom_out", "fit", "actual", "fill", "compare"):  # fmt: skip
            self.actions_[name].setEnabled(has)
        self.actions_["undo"].setEnabled(has and self.doc.history.can_undo())
        self.actions_["redo"].setEnabled(has and self.doc.history.can_redo())
        self.actions_["reset_extent"].setEnabled(has and self.doc.extent != self.doc.rect)

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files
        for index, path in enumerate(files):
            action = QAction(f"&{index + 1} {path}", self.recent_menu)
            action.triggered.connect(lambda _checked=False, p=path: self.files.open_path(p))
            self.recent_menu.addAction(action)
        self.recent_menu.setEnabled(bool(files))

    # -- commands --------------------------------------------------------------------------------------
    def doc_call(self, method: str, *args: object) -> None:
        if self.doc is not None:
            getattr(self.doc, method)(*args)

    def undo(self) -> None:
        self.canvas.interaction.cancel_drag()
        self.doc_call("undo")

    def redo(self) -> None:
        self.canvas.interaction.cancel_drag()
        self.doc_call("redo")

    def reset_extent(self) -> None:
        if self.doc is not None:
            self.doc.set_extent(self.doc.rect, "Reset borders")

    def set_tool(self, name: str) -> None:
        self.actions_[name].setChecked(True)
        self.canvas.interaction.set_tool(self.tools[name])
        self.status.showMessage(f"{TOOL_TEXT[name]} ({TOOL_KEYS[name]}): {TOOL_HINTS[name]}", 8000)

    def step_size(self, direction: int) -> None:
        tool = self.canvas.tool
        size_control = self.brush_panel.sketch_size if isinstance(tool, SketchTool) else self.brush_panel.size
        current = size_control.value()
        new = current * SIZE_STEP if direction > 0 else current / SIZE_STEP
        size_control.set_value(max(current + direction, new) if direction > 0 else min(current - 1, new))

    def _set_brush_size(self, size: float) -> None:
        for name in MASK_BRUSHES:
            tool = self.tools[name]
            assert isinstance(tool, StrokeTool)
            tool.size = size
        self.settings.brush_size = size
        self.canvas.interaction.refresh_outline()

    def _set_hardness(self, hardness: float) -> None:
        for name in MASK_BRUSHES:
            self.tools[name].hardness = hardness  # type: ignore[attr-defined]
        self.settings.brush_hardness = hardness

    def _set_sketch_size(self, size: float) -> None:
        self.tools["sketch"].size = size  # type: ignore[attr-defined]
        self.settings.sketch_size = size
        self.canvas.interaction.refresh_outline()

    def set_device(self, device: str) -> None:
        self.settings.device = device
        self.model_panel.set_device(device)
        self.actions_[f"device:{device}"].setChecked(True)

    def toggle_overlay(self) -> None:
        self.canvas.interaction.show_overlay = self.actions_["show_overlay"].isChecked()
        self.canvas.update()

    def manage_models(self) -> ModelManagerDialog:
        """Show the model manager; it is not modal, so editing goes on while weights download."""
        from inpaintstudio.ui.model_manager import ModelManagerDialog

        if self.model_manager is None:
            self.model_manager = ModelManagerDialog(self.settings, self)
            self.model_manager.models_changed.connect(self.models_changed)
        if not self.model_manager.busy:
            self.model_manager.reload()
        self.model_manager.show()
        self.model_manager.raise_()
        self.model_manager.activateWindow()
        return self.model_manager

    def models_changed(self) -> None:
        """Models were imported, removed or downloaded: list them again (unusable ones stay disabled)."""
        if not self.bridge.busy:
            self.bridge.cache.release()  # a re-imported or re-downloaded model must be loaded afresh
        self.model_panel.reload()

    def fill(self) -> None:
        if self.compares.comparison is not None:
            self.compares.close()
        self.fills.fill()

    def compare(self) -> None:
        self.compares.choose_and_start()

    def show_compare(self, shown: bool) -> None:
        self.central.setCurrentWidget(self.compare_view if shown else self.canvas)

    def escape(self) -> None:
        if self.fills.busy:
            self.fills.cancel()
        elif self.compares.comparison is not None:
            self.compares.close()

    def show_shortcuts(self) -> ShortcutsDialog:
        """Every shortcut in a table (not modal, so it can stay open while trying them)."""
        if self.shortcuts_dialog is None:
            before = self.compare_view.before
            comparison = [(key_text(before), f"{plain_text(before.text())} (in the comparison)")]
            sections = [*menu_sections(self.menuBar()), ("Comparison", comparison), ("Mouse", list(MOUSE_ROWS))]
            self.shortcuts_dialog = ShortcutsDialog(sections, self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        return self.shortcuts_dialog

    def show_about(self) -> None:
        messages.info(
            self, "About InpaintStudio", f"InpaintStudio {__version__}\nRemove, guide and extend with inpainting."
        )

    # -- window events ---------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        event.acceptProposedAction()
        self.files.open_mime(event.mimeData())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.files.maybe_save():
            event.ignore()
            return
        if self.model_manager is not None:
            self.model_manager.cancel_task(wait=5.0)
        self.fills.cancel()
        self.compares.cancel()
        self.recovery.close()
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.bridge.shutdown()
        event.accept()
