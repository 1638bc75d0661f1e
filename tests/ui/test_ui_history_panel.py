"""The history panel lists the steps and jumps to any of them."""

from __future__ import annotations

from conftest import drag


def test_history_panel_lists_steps_and_jumps(window, small_doc):
    panel = window.history_panel
    drag(window, [(20, 20), (60, 20)])
    drag(window, [(20, 80), (60, 80)])
    small_doc.invert_mask()
    assert [panel.item(i).text() for i in range(panel.count())] == [
        "Open image", "Mask stroke", "Mask stroke", "Invert mask",
    ]  # fmt: skip
    assert panel.currentRow() == 3
    panel.itemClicked.emit(panel.item(1))
    assert small_doc.history.position == 1
    assert small_doc.mask[20, 40] >= 128 and small_doc.mask[80, 40] == 0
    assert panel.currentRow() == 1 and panel.item(3).font().italic()
    panel.itemClicked.emit(panel.item(3))
    assert small_doc.history.position == 3
    assert window.actions_["redo"].isEnabled() is False and window.actions_["undo"].isEnabled()
