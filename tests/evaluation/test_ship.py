"""Validating a committed training state and shipping it only when it scores better."""

from __future__ import annotations

import numpy as np
import pytest
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
    assert ship.compare(scores(10, 1, 0), None).better


def test_validate_scores_the_state_and_ships_only_when_better(models, state_dir, monkeypatch, capsys):
    monkeypatch.chdir(state_dir.parent.parent)
    args = ["train", "deepfillv2", "--resume", "--validate", "--data", str(FIXTURES), "--device", "cpu"]
    assert main([*args, "--ship"]) == 0  # nothing shipped yet: the first state ships
    spec = weights.find_spec("deepfillv2")
    assert spec is not None and spec.scores["holes"]["images"] == 3
    card = (models / "deepfillv2.md").read_text()
    assert card.count("| 20") >= 1 and "Shipped versions" in card and "How it was trained" in card
    row = portable.read_ledger(state_dir)[-1]
    assert row["note"] == "holes: shipped" and float(row["val_psnr"]) > 0
    # the same state again is not better than itself: nothing changes
    sha = spec.sha256
    assert main([*args, "--ship"]) == 0
    assert "not better than the shipped weights" in capsys.readouterr().out
    assert weights.find_spec("deepfillv2").sha256 == sha
    assert portable.read_ledger(state_dir)[-1]["note"] == "holes: not better than shipped"


def test_ship_keeps_every_shipped_version_in_the_card(models, state_dir):
    first = ship.ship("deepfillv2", state_dir, {"holes": scores(15.0, 0.2, 0.3)})
    second = ship.ship("deepfillv2", state_dir, {"holes": scores(16.0, 0.1, 0.4)})
    card = (models / second.card).read_text()
    assert "| 15.00 |" in card and "| 16.00 |" in card
    assert first.sha256[:12] in card
