"""Icons from qtawesome (Material Design Icons 6), tinted for the app's dark theme."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

FOREGROUND = "#d7dae0"
DISABLED = "#6b7079"
ACCENT = "#4fa3ff"

NAMES = {
    "brush": "mdi6.brush",
    "eraser": "mdi6.eraser",
    "sketch": "mdi6.draw",
    "exclude": "mdi6.select-remove",
    "extend": "mdi6.arrow-expand-all",
    "hand": "mdi6.hand-back-right",
    "fill": "mdi6.auto-fix",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "open": "mdi6.folder-open-outline",
    "save": "mdi6.content-save-outline",
    "paste": "mdi6.content-paste",
    "zoom-in": "mdi6.magnify-plus-outline",
    "zoom-out": "mdi6.magnify-minus-outline",
    "fit": "mdi6.fit-to-screen-outline",
    "actual": "mdi6.numeric-1-box-outline",
    "compare": "mdi6.view-grid-outline",
    "cancel": "mdi6.close-circle-outline",
    "clear": "mdi6.delete-outline",
    "invert": "mdi6.invert-colors",
    "load": "mdi6.tray-arrow-up",
    "export": "mdi6.tray-arrow-down",
    "history": "mdi6.history",
    "apply": "mdi6.check",
    "before": "mdi6.compare-horizontal",
    "capable": "mdi6.check-bold",
    "ready": "mdi6.checkbox-marked-circle-outline",
    "missing": "mdi6.alert-circle-outline",
    "overlay": "mdi6.eye",
    "settings": "mdi6.cog-outline",
}


@cache
def icon(key: str, color: str = FOREGROUND) -> QIcon:
    import qtawesome

    return qtawesome.icon(NAMES.get(key, key), color=color, color_disabled=DISABLED, color_selected="#ffffff")
