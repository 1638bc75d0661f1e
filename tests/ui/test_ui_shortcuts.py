"""Help > Keyboard shortcuts (F1): one straight table of every shortcut, texts as the menus show them."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QTableWidget


def test_f1_shows_every_shortcut_in_a_two_column_table(window, dialogs):
    window.actions_["shortcuts"].trigger()
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.windowTitle() == "Keyboard shortcuts"]
    assert len(shown) == 1 and dialogs.infos == [], "a dialog of its own, not a message box of padded text"
    table = shown[0].findChild(QTableWidget)
    assert table is not None and table.columnCount() == 2, "keys and actions in columns that stay straight"
    rows = shown[0].rows()
    assert ("M", "Show mask, sketch & exclusion") in rows, "'&&' is one ampersand, not a mnemonic"
    assert ("O", "Before / after (in the comparison)") in rows
    assert ("Ctrl+Shift+Z, Ctrl+Y", "Redo") in rows, "every key of an action"
    assert ("Ctrl+O", "Open") in rows and ("F", "Fill") in rows and ("Esc", "Cancel / back") in rows
    assert ("Ctrl + wheel", "Zoom") in rows
    assert ("A", "Sampling exclusion (do not copy from)") in rows and ("Ctrl+Del", "Clear exclusion") in rows
    for key in ("B", "E", "S", "X", "H", "[", "]", "C", "Del", "Shift+Del", "Ctrl+I", "F1", "Ctrl+Shift+M"):
        assert any(k == key or k.startswith(key + ",") for k, _ in rows), key
    assert all(k and t and "&&" not in t for k, t in rows)
