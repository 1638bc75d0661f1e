"""What ``auto`` picks: the best recorded validation score, never learned weights below a classical fill."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inpaintstudio.cli import main
from inpaintstudio.engine import registry, selection, weights


@pytest.fixture
def models(shipped_models):
    return shipped_models("manifest.json", "deepfillv2.safetensors", "csa.safetensors")


def set_scores(folder: Path, learned: dict[str, dict], classical: dict[str, dict]) -> None:
    specs = weights.read_manifest(folder)
    weights.write_manifest(folder, [s.__class__(**{**s.to_json(), "scores": learned.get(s.model, {})}) for s in specs])
    (folder / selection.SCORES_FILE).write_text(json.dumps(classical))


def holes(psnr: float, detail: float) -> dict:
    return {"holes": {"psnr": psnr, "l1": 0.1, "detail": detail}}


def test_the_best_recorded_learned_model_is_chosen(models):
    set_scores(
        models,
        {"deepfillv2": holes(18.3, 0.63), "csa": holes(17.2, 0.7)},
        {"holes": {"telea": {"psnr": 17.4, "detail": 0.27}, "patchmatch": {"psnr": 17.8, "detail": 0.83}}},
    )
    choice = registry.select("holes")
    assert choice.model == "deepfillv2"
    assert "18.30 dB" in choice.reason


def test_learned_weights_scoring_below_a_classical_fill_are_never_chosen(models):
    set_scores(
        models,
        {"deepfillv2": holes(17.0, 0.9), "csa": holes(15.1, 0.4)},
        {"holes": {"telea": {"psnr": 17.4, "detail": 0.27}, "patchmatch": {"psnr": 17.3, "detail": 1.0}}},
    )
    assert registry.select("holes").model == "patchmatch"
    # not even for sketch strokes, which only the learned model follows
    assert registry.select("holes", sketch=True).model == "patchmatch"


def test_a_blurring_fill_is_not_chosen_over_one_that_keeps_the_texture(models):
    set_scores(
        models,
        {},
        {"holes": {"navier-stokes": {"psnr": 17.9, "detail": 0.28}, "patchmatch": {"psnr": 17.8, "detail": 0.83}}},
    )
    assert registry.select("holes").model == "patchmatch"


def test_unscored_weights_are_never_chosen(models):
    set_scores(models, {}, {"holes": {"telea": {"psnr": 10.0, "detail": 0.6}}})
    assert registry.select("holes").model == "telea"


def test_damaged_weights_are_skipped_with_a_note(models):
    set_scores(models, {"deepfillv2": holes(19.0, 0.8)}, {"holes": {"patchmatch": {"psnr": 17.8, "detail": 0.8}}})
    (models / "deepfillv2.safetensors").write_bytes(b"broken")
    choice = registry.select("holes")
    assert choice.model == "patchmatch"
    assert any("deepfillv2 skipped: its weights are" in n for n in choice.notes)


def test_borders_without_srn_weights_go_to_patchmatch_with_a_note(models):
    set_scores(models, {}, {"borders": {"patchmatch": {"psnr": 16.2, "detail": 0.97}}})
    choice = registry.select("borders")
    assert choice.model == "patchmatch"
    assert any(n.startswith("srn skipped") for n in choice.notes)


def test_fill_auto_says_what_it_chose_and_why(models, tmp_path, photo_path, capsys):
    from PIL import Image

    set_scores(
        models,
        {"deepfillv2": holes(16.0, 0.6)},
        {"holes": {"telea": {"psnr": 17.4, "detail": 0.27}, "patchmatch": {"psnr": 17.0, "detail": 0.9}}},
    )
    with Image.open(photo_path) as im:
        size = im.size
    mask = Image.new("L", size)
    mask.paste(255, (100, 80, 140, 120))
    mask.save(tmp_path / "mask.png")
    assert main(["fill", str(photo_path), "--mask", str(tmp_path / "mask.png"), "-o", str(tmp_path / "out.png")]) == 0
    err = capsys.readouterr().err
    assert "auto: patchmatch (best recorded score for holes: 17.00 dB" in err
