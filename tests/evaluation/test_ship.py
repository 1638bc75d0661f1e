"""Validating a committed training state and shipping it only when it scores better."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintstudio.cli import main
from inpaintstudio.engine import weights
from inpaintstudio.evaluation import ship
from inpaintstudio.paths import PACKAGE_DIR
from inpaintstudio.training import state as portable
from inpaintstudio.training.recipes import recipe_class
from inpaintstudio.training.trainer import Trainer, TrainSettings

FIXTURES = PACKAGE_DIR.parent / "tests" / "fixtures"


@pytest.fixture
def models(shipped_models):
    return shipped_models(validation=["giraffe.jpg"])


@pytest.fixture
def state_dir(tmp_path, photo):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.asarray(photo)).save(photos / "p0.jpg")
    state = tmp_path / "training-state" / "deepfillv2"
    settings = TrainSettings(
        family="deepfillv2",
        data=[str(photos)],
        run=str(tmp_path / "run"),
        steps=1,
        batch_size=1,
        crop=64,
        threads=1,
        network={"cnum": 8},
        options={"d_width": 8},
        state_dir=str(state),
    )
    Trainer(settings, recipe_class("deepfillv2")).train()
    return state


def scores(psnr, l1, detail):
    return {"psnr": psnr, "l1": l1, "detail": detail, "images": 8}


def test_better_means_higher_psnr_lower_l1_and_no_less_detail():
    shipped = scores(18.0, 0.085, 0.60)
    assert ship.compare(scores(18.1, 0.084, 0.60), shipped).better
    assert not ship.compare(scores(18.1, 0.086, 0.60), shipped).better
    assert not ship.compare(scores(17.9, 0.084, 0.70), shipped).better
    verdict = ship.compare(scores(18.5, 0.080, 0.40), shipped)
    assert not verdict.better and "detail 0.40 < 0.60" in verdict.reason


def classical(folder, job, **fills):
    """A models/scores.json recording the classical fills' scores for ``job``."""
    import json

    (folder / "scores.json").write_text(json.dumps({job: {n: scores(*v) for n, v in fills.items()}}))


def test_first_weights_must_beat_the_best_textured_classical_fill(models):
    classical(models, "borders", patchmatch=(16.2, 0.106, 0.97), telea=(16.9, 0.100, 0.25))
    # telea has the higher PSNR but keeps no texture: patchmatch is the fill to beat, as auto chooses
    assert ship.best_classical("borders")[0] == "patchmatch"
    assert ship.compare(scores(16.5, 0.100, 0.80), None, "borders").better
    verdict = ship.compare(scores(16.6, 0.119, 0.68), None, "borders")
    assert not verdict.better
    assert "L1 0.1190 >= patchmatch's 0.1060" in verdict.reason and "detail 0.68 < 0.7" in verdict.reason
    assert not ship.compare(scores(16.1, 0.090, 0.90), None, "borders").better
    # a job with no classical score recorded: only the detail counts
    assert ship.compare(scores(10, 1, 0.7), None, "holes").better
    assert not ship.compare(scores(30, 0, 0.2), None, "holes").better


def test_first_weights_are_scored_at_their_training_crop_and_larger(models):
    assert ship.working_sizes_for("deepfillv2", {"settings": {"crop": 128}}) == [128, 192, 256]
    assert ship.working_sizes_for("deepfillv2", {"settings": {"crop": 100}}) == [100, 152, 200]
    assert ship.working_sizes_for("deepfillv2") == [None]


def test_validate_scores_the_state_and_ships_only_when_better(models, state_dir, monkeypatch, capsys):
    monkeypatch.chdir(state_dir.parent.parent)
    # the first state must beat the classical fills: recorded here low enough for a one-step state
    classical(models, "holes", telea=(1.0, 0.99, 0.0))
    monkeypatch.setattr(ship, "FIRST_SHIP_DETAIL", 0.0)
    args = ["train", "deepfillv2", "--resume", "--validate", "--data", str(FIXTURES), "--device", "cpu"]
    assert main([*args, "--ship"]) == 0  # nothing shipped yet, better than the classical fills: it ships
    out = capsys.readouterr().out
    spec = weights.find_spec("deepfillv2")
    # first weights: scored at three working sizes, shipped at the one named as scored
    tried = out.split("working sizes tried (")[1].split(")")[0]
    assert tried.count(" px ") == 3 and f"scored at {spec.config['working_size']} px" in out
    assert spec is not None and spec.scores["holes"]["images"] == 3
    card = (models / "deepfillv2.md").read_text()
    assert card.count("| 20") >= 1 and "Shipped versions" in card and "Training ledger" in card
    row = portable.read_ledger(state_dir)[-1]
    assert row["note"] == f"holes: shipped (at {spec.config['working_size']} px)" and float(row["val_psnr"]) > 0
    # the same state again is not better than itself: nothing changes
    sha = spec.sha256
    assert main([*args, "--ship"]) == 0
    assert "not better than the shipped weights" in capsys.readouterr().out
    assert weights.find_spec("deepfillv2").sha256 == sha
    assert (
        portable.read_ledger(state_dir)[-1]["note"]
        == f"holes: not better than shipped (at {spec.config['working_size']} px)"
    )


def test_ship_keeps_every_shipped_version_in_the_card(models, state_dir):
    first = ship.ship("deepfillv2", state_dir, {"holes": scores(15.0, 0.2, 0.3)})
    second = ship.ship("deepfillv2", state_dir, {"holes": scores(16.0, 0.1, 0.4)})
    card = (models / second.card).read_text()
    assert "| 15.00 |" in card and "| 16.00 |" in card
    assert first.sha256[:12] in card


def test_first_state_below_the_classical_fills_is_not_shipped(models, state_dir, monkeypatch, capsys):
    monkeypatch.chdir(state_dir.parent.parent)
    classical(models, "holes", patchmatch=(40.0, 0.001, 1.0))
    args = ["train", "deepfillv2", "--resume", "--validate", "--ship", "--data", str(FIXTURES), "--device", "cpu"]
    assert main(args) == 0
    assert "first weights, not better than the classical fills" in capsys.readouterr().out
    assert weights.find_spec("deepfillv2") is None and not (models / "deepfillv2.md").exists()
    assert portable.read_ledger(state_dir)[-1]["note"].startswith("holes: not better than the classical fills (at ")


def test_shipping_again_keeps_the_hand_written_sections_of_the_card(models, state_dir):
    first = ship.ship("deepfillv2", state_dir, {"holes": scores(15.0, 0.2, 0.3)})
    card = models / first.card
    text = card.read_text()
    card.write_text(
        text + "\n## How it was chosen\n\nLooked at side by side: sand is plausible.\n\n### Sizes\n\n192 px.\n"
    )
    for psnr in (16.0, 17.0):  # twice: kept once, never nested deeper
        ship.ship("deepfillv2", state_dir, {"holes": scores(psnr, 0.1, 0.4)})
    text = card.read_text()
    assert text.count("Looked at side by side: sand is plausible.") == 1
    assert "## Notes kept from earlier versions" in text and "### How it was chosen" in text
    assert "#### Sizes" in text and "##### Sizes" not in text
    assert text.count("## Training ledger") == 1 and text.count("## Validation scores") == 1
    assert "| 15.00 |" in text and "| 16.00 |" in text and "| 17.00 |" in text


def test_what_ships_is_the_state_that_was_scored_even_if_training_wrote_a_newer_one(models, state_dir, monkeypatch):
    classical(models, "holes", telea=(1.0, 0.99, 0.0))
    monkeypatch.setattr(ship, "FIRST_SHIP_DETAIL", 0.0)
    scored = ship.score_state("deepfillv2", state_dir, FIXTURES)
    assert scored.state.step == 1
    # the run, still training, writes its next checkpoint before the validation ships
    settings = TrainSettings(**{**scored.state.info["settings"], "steps": 2})
    Trainer(settings, recipe_class("deepfillv2")).train()
    newer = portable.read(state_dir)
    assert newer.step == 2
    spec = ship.ship("deepfillv2", state_dir, scored.scores, working_size=scored.working_size, kept=scored.state)
    assert spec.training.startswith("1 steps of batch 1")
    shipped = weights.load_tensors(spec.path, floating_only=True)
    scored_g, newer_g = scored.state.modules["generator"], newer.modules["generator"]
    assert any(not torch.equal(scored_g[k], newer_g[k]) for k in shipped)
    assert all(torch.equal(shipped[k], scored_g[k]) for k in shipped)
