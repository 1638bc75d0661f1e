"""The window's actions, with their shortcuts (shown in menus and tooltips), menus and tool bars."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QSizePolicy, QToolBar, QWidget

from inpaintstudio.ui.canvas import CanvasView
from inpaintstudio.ui.file_controller import FileController
from inpaintstudio.ui.icons import icon
from inpaintstudio.ui.model_panel import DEVICE_LABELS

TOOL_KEYS = {"brush": "B", "eraser": "E", "sketch": "S", "exclude": "A", "extend": "X", "hand": "H"}
TOOL_TEXT = {
    "brush": "Mask brush",
    "eraser": "Mask eraser",
    "sketch": "Sketch (guide edges)",
    "exclude": "Sampling exclusion (do not copy from)",
    "extend": "Extend borders",
    "hand": "Hand (pan)",
}
TOOL_HINTS = {
    "brush": "paint over what should be removed; Alt + drag erases, [ and ] change the size",
    "eraser": "erase the mask; Alt + drag paints",
    "sketch": "draw lines where edges should run through the hole (used by models with sketch support)",
    "exclude": "paint over what the fill must not copy from (PatchMatch, DeepFill v2, CSA); Alt + drag erases",
    "extend": "drag the handles on the borders outwards, then Fill, to extend the photo",
    "hand": "drag to pan; Ctrl + wheel zooms",
}


class Window(Protocol):
    """What the actions, menus and tool bars need of the window they belong to (the main window is one):
    the commands they trigger, and the few QMainWindow calls that hold them."""

    files: FileController
    canvas: CanvasView
    devices: list[str]
    view_menu: QMenu

    def close(self) -> bool: ...
    def undo(self) -> None: ...
    def redo(self) -> None: ...
    def doc_call(self, method: str, *args: object) -> None: ...
    def reset_extent(self) -> None: ...
    def toggle_overlay(self) -> None: ...
    def set_tool(self, name: str) -> None: ...
    def step_size(self, direction: int) -> None: ...
    def fill(self) -> None: ...
    def compare(self) -> None: ...
    def escape(self) -> None: ...
    def manage_models(self) -> Any: ...
    def show_shortcuts(self) -> Any: ...
    def show_about(self) -> None: ...
    def set_device(self, device: str) -> None: ...
    def addAction(self, action: QAction) -> None: ...  # noqa: N802 - Qt API
    def menuBar(self) -> QMenuBar: ...  # noqa: N802 - Qt API
    def addToolBar(self, area: Qt.ToolBarArea, toolbar: QToolBar) -> None: ...  # noqa: N802 - Qt API


def plain_text(text: str) -> str:
    """An action's text as a menu shows it: "&&" is one ampersand, a single "&" marks the mnemonic."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").replace("...", "")


def make_action(
    parent: QWidget,
    text: str,
    slot: Callable[[], object] | None = None,
    *,
    icon_key: str | None = None,
    shortcuts: tuple[str | QKeySequence, ...] = (),
    tip: str = "",
    checkable: bool = False,
) -> QAction:
    action = QAction(text, parent)  # "&" marks the mnemonic, "&&" shows an ampersand
    if icon_key:
        action.setIcon(icon(icon_key))
    keys = [QKeySequence(k) for k in shortcuts]
    if keys:
        action.setShortcuts(keys)
    shown = keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""
    plain = plain_text(text)
    action.setToolTip(f"{tip or plain} ({shown})" if shown else tip or plain)
    action.setStatusTip(tip or plain)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    parent.addAction(action)  # shortcuts work whichever panel has the focus
    return action


def build_actions(w: Window) -> dict[str, QAction]:
    f, c = w.files, w
    a: dict[str, QAction] = {}
    a["open"] = make_action(w, "&Open...", f.open_dialog, icon_key="open", shortcuts=(QKeySequence.StandardKey.Open,))
    a["paste"] = make_action(w, "&Paste image", f.paste, icon_key="paste", shortcuts=("Ctrl+V",))
    a["save"] = make_action(w, "&Save", f.save, icon_key="save", shortcuts=("Ctrl+S",))
    a["save_as"] = make_action(w, "Save &As...", f.save_as, shortcuts=("Ctrl+Shift+S",))
    a["save_project"] = make_action(
        w,
        "Save Pro&ject",
        f.save_project,
        shortcuts=("Ctrl+Alt+S",),
        tip="Save image, mask, sketch, borders and undo history as an .inpaint project",
    )
    a["save_project_as"] = make_action(
        w,
        "Save Project As...",
        f.save_project_as,
        shortcuts=("Ctrl+Alt+Shift+S",),
        tip="Save the session as a new .inpaint project",
    )
    a["load_mask"] = make_action(w, "Load mask...", lambda: f.load_map("mask"), icon_key="load")
    a["save_mask"] = make_action(w, "Save mask...", lambda: f.save_map("mask"), icon_key="export")
    a["load_sketch"] = make_action(w, "Load sketch...", lambda: f.load_map("sketch"), icon_key="load")
    a["save_sketch"] = make_action(w, "Save sketch...", lambda: f.save_map("sketch"), icon_key="export")
    a["load_exclude"] = make_action(w, "Load exclusion...", lambda: f.load_map("exclude"), icon_key="load")
    a["save_exclude"] = make_action(w, "Save exclusion...", lambda: f.save_map("exclude"), icon_key="export")
    a["quit"] = make_action(w, "&Quit", w.close, shortcuts=("Ctrl+Q",))
    a["undo"] = make_action(w, "&Undo", c.undo, icon_key="undo", shortcuts=("Ctrl+Z",))
    a["redo"] = make_action(w, "&Redo", c.redo, icon_key="redo", shortcuts=("Ctrl+Shift+Z", "Ctrl+Y"))
    a["clear_mask"] = make_action(
        w, "Clear mask", lambda: c.doc_call("clear_layer", "mask"), icon_key="clear", shortcuts=("Delete",)
    )
    a["invert_mask"] = make_action(
        w, "Invert mask", lambda: c.doc_call("invert_mask"), icon_key="invert", shortcuts=("Ctrl+I",)
    )
    a["clear_sketch"] = make_action(
        w, "Clear sketch", lambda: c.doc_call("clear_layer", "sketch"), icon_key="clear", shortcuts=("Shift+Delete",)
    )
    a["clear_exclude"] = make_action(
        w,
        "Clear exclusion",
        lambda: c.doc_call("clear_layer", "exclude"),
        icon_key="clear",
        shortcuts=("Ctrl+Delete",),
        tip="Clear the sampling exclusion: fills may copy from the whole photo again",
    )
    for name, short in (("clear_mask", "Clear"), ("invert_mask", "Invert"), ("load_mask", "Load..."),
                        ("save_mask", "Save..."), ("clear_sketch", "Clear"), ("load_sketch", "Load..."),
                        ("save_sketch", "Save..."), ("clear_exclude", "Clear"), ("load_exclude", "Load..."),
                        ("save_exclude", "Save...")):  # fmt: skip
        a[name].setIconText(short)  # the panel's compact buttons show this
    a["reset_extent"] = make_action(
        w, "Reset borders", c.reset_extent, tip="Undo the border extension (back to the photo's size)"
    )
    a["zoom_in"] = make_action(
        w, "Zoom &in", lambda: w.canvas.zoom_by(1.25), icon_key="zoom-in", shortcuts=("Ctrl++", "Ctrl+=")
    )
    a["zoom_out"] = make_action(
        w, "Zoom &out", lambda: w.canvas.zoom_by(0.8), icon_key="zoom-out", shortcuts=("Ctrl+-",)
    )
    a["fit"] = make_action(w, "&Fit to window", w.canvas.fit, icon_key="fit", shortcuts=("Ctrl+0",))
    a["actual"] = make_action(w, "&100 %", w.canvas.actual_size, icon_key="actual", shortcuts=("Ctrl+1",))
    a["show_overlay"] = make_action(
        w, "Show mask, sketch && exclusion", c.toggle_overlay, icon_key="overlay", shortcuts=("M",), checkable=True
    )
    a["show_overlay"].setChecked(True)
    group = QActionGroup(w)
    for name, key in TOOL_KEYS.items():
        a[name] = make_action(
            w, TOOL_TEXT[name], lambda n=name: c.set_tool(n), icon_key=name, shortcuts=(key,), checkable=True
        )
        group.addAction(a[name])
    a["smaller"] = make_action(w, "Smaller brush", lambda: c.step_size(-1), shortcuts=("[",))
    a["larger"] = make_action(w, "Larger brush", lambda: c.step_size(+1), shortcuts=("]",))
    a["fill"] = make_action(
        w,
        "&Fill",
        c.fill,
        icon_key="fill",
        shortcuts=("F",),
        tip="Fill the masked area (and extended borders) with the chosen model",
    )
    a["compare"] = make_action(
        w,
        "&Compare...",
        c.compare,
        icon_key="compare",
        shortcuts=("C",),
        tip="Run several models on the same input and compare",
    )
    a["cancel"] = make_action(
        w,
        "Cancel / back",
        c.escape,
        icon_key="cancel",
        shortcuts=("Esc",),
        tip="Cancel the running fill, or leave the comparison",
    )
    a["manage_models"] = make_action(
        w,
        "&Manage Models...",
        c.manage_models,
        icon_key="settings",
        shortcuts=("Ctrl+Shift+M",),
        tip="Check, import, download or remove model weights",
    )
    a["shortcuts"] = make_action(w, "Keyboard shortcuts", c.show_shortcuts, shortcuts=("F1",))
    a["about"] = make_action(w, "About InpaintStudio", c.show_about)
    devices = QActionGroup(w)
    for device in w.devices:
        action = make_action(w, DEVICE_LABELS.get(device, device), lambda d=device: c.set_device(d), checkable=True)
        action.setData(device)
        devices.addAction(action)
        a[f"device:{device}"] = action
    return a


def build_menus(w: Window, a: dict[str, QAction]) -> QMenu:
    """Fill the menu bar; returns the Open Recent menu (rebuilt when the list changes)."""
    bar = w.menuBar()
    file = bar.addMenu("&File")
    file.addAction(a["open"])
    recent = file.addMenu("Open &Recent")
    file.addAction(a["paste"])
    file.addSeparator()
    for name in ("save", "save_as", "save_project", "save_project_as", None,
                 "load_mask", "save_mask", "load_sketch", "save_sketch", "load_exclude", "save_exclude", None,
                 "quit"):  # fmt: skip
        file.addSeparator() if name is None else file.addAction(a[name])
    edit = bar.addMenu("&Edit")
    for name in ("undo", "redo", None, "clear_mask", "invert_mask", "clear_sketch", "clear_exclude", None,
                 "reset_extent"):  # fmt: skip
        edit.addSeparator() if name is None else edit.addAction(a[name])
    view = bar.addMenu("&View")
    for name in ("zoom_in", "zoom_out", "fit", "actual", None, "show_overlay"):
        view.addSeparator() if name is None else view.addAction(a[name])
    w.view_menu = view
    tools = bar.addMenu("&Tools")
    for name in (*TOOL_KEYS, None, "smaller", "larger"):
        tools.addSeparator() if name is None else tools.addAction(a[name])
    fill = bar.addMenu("F&ill")
    for name in ("fill", "compare", "cancel"):
        fill.addAction(a[name])
    device = fill.addMenu("&Device")
    for name in w.devices:
        device.addAction(a[f"device:{name}"])
    fill.addSeparator()
    fill.addAction(a["manage_models"])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(a["shortcuts"])
    help_menu.addAction(a["about"])
    return recent


def build_toolbars(w: Window, a: dict[str, QAction]) -> None:
    main = QToolBar("Main", w)
    main.setObjectName("mainToolBar")
    main.setIconSize(QSize(20, 20))
    main.setMovable(False)
    for name in ("open", "save", None, "undo", "redo", None, "zoom_out", "zoom_in", "fit", "actual", "show_overlay"):
        main.addSeparator() if name is None else main.addAction(a[name])
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    main.addWidget(spacer)
    main.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    for name in ("compare", "fill"):
        main.addAction(a[name])
        main.widgetForAction(a[name]).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    main.widgetForAction(a["fill"]).setObjectName("fillToolButton")
    w.addToolBar(Qt.ToolBarArea.TopToolBarArea, main)
    tools = QToolBar("Tools", w)
    tools.setObjectName("toolsToolBar")
    tools.setIconSize(QSize(22, 22))
    tools.setMovable(False)
    for name in TOOL_KEYS:
        tools.addAction(a[name])
    w.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools)
