"""The app shows which model auto would pick for holes and for borders, and why (recorded scores)."""

from __future__ import annotations

from inpaintstudio.engine import registry


def _item(window, name):  # noqa: ANN001
    tree = window.model_panel.tree
    return next(
        tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if window.model_panel._info(i).name == name
    )


def test_the_recommended_models_are_starred_with_the_reason(window):  # noqa: ANN001
    holes = registry.select("holes")
    borders = registry.select("borders")
    assert holes.model and borders.model
    item = _item(window, holes.model)
    assert item.text(0).endswith("\u2605")
    assert f"Recommended for filling holes: {holes.reason}" in item.toolTip(0)
    assert f"Recommended for extending borders: {borders.reason}" in _item(window, borders.model).toolTip(0)
    others = [n for n in ("telea", "navier-stokes") if n not in (holes.model, borders.model)]
    assert all(not _item(window, n).text(0).endswith("\u2605") for n in others)


def test_a_first_start_selects_the_recommended_model_and_another_choice_names_it(window):  # noqa: ANN001
    panel = window.model_panel
    holes = registry.select("holes")
    assert panel.current_model() == holes.model
    panel.select("telea")
    assert "Recommended for filling holes" in panel.summary.text()
    assert panel.info(holes.model).label in panel.summary.text()
    assert holes.reason in panel.summary.toolTip()
