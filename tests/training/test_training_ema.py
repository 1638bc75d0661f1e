"""The generator's moving average (train --ema): updated after each step, kept with the state, shipped."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from inpaintstudio.cli import main
from inpaintstudio.engine import weights
from inpaintstudio.training import ema
from inpaintstudio.training import state as portable
from inpaintstudio.training.export import export_run
from inpaintstudio.training.recipes import recipe_class
from inpaintstudio.training.trainer import Trainer, TrainSettings


@pytest.fixture
def photos(tmp_path, photo):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.roll(photo, 40 * i, axis=1)).save(folder / f"p{i}.jpg")
    return folder


def settings(photos, run, state_dir, steps=2, **extra) -> TrainSettings:
    return TrainSettings(
        family="deepfillv2",
        data=[str(photos)],
        run=str(run),
        steps=steps,
        batch_size=2,
        crop=64,
        threads=1,
        network={"cnum": 8},
        options={"d_width": 8},
        sample_every=100,
        log_every=1,
        state_dir=str(state_dir),
        **extra,
    )


def test_the_average_moves_a_decay_of_the_way_per_step():
    model = nn.Linear(3, 2)
    average = ema.WeightAverage(model, 0.75)
    before = average.module.weight.clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    average.update(model)
    assert torch.allclose(average.module.weight, 0.75 * before + 0.25 * model.weight)
    assert not average.module.weight.requires_grad
    with pytest.raises(ValueError, match="between 0 and 1"):
        ema.WeightAverage(model, 1.0)


def test_a_run_keeps_its_average_in_the_state_and_ships_it(tmp_path, photos):
    state_dir = tmp_path / "training-state" / "deepfillv2"
    first = Trainer(settings(photos, tmp_path / "here", state_dir, ema=0.5), recipe_class("deepfillv2"))
    assert first.train() == 2
    kept = portable.read(state_dir)
    average, generator = kept.modules[ema.KEY], kept.modules["generator"]
    assert average.keys() == generator.keys()
    assert any(not torch.equal(average[k], generator[k]) for k in average), "the average lags the weights"
    # resumed elsewhere from the portable state: the average continues from the kept one
    second = Trainer(settings(photos, tmp_path / "there", state_dir, steps=3, ema=0.5), recipe_class("deepfillv2"))
    for key, value in second.average.state_dict().items():
        assert torch.equal(value, average[key])
    assert second.train() == 3
    # what ships is the average, from the checkpoint as from the state
    spec = export_run(tmp_path / "there", tmp_path / "models", "deepfillv2")
    shipped = weights.load_tensors(tmp_path / "models" / spec.file, floating_only=True)
    final = torch.load(tmp_path / "there" / "checkpoint.pt", weights_only=True)["modules"]
    for key, value in final[ema.KEY].items():
        assert torch.equal(shipped[key].float(), value.half().float())
    assert "moving average (decay 0.5" in (tmp_path / "models" / spec.card).read_text()


def test_a_run_without_the_average_ships_its_generator(tmp_path, photos):
    state_dir = tmp_path / "training-state" / "deepfillv2"
    run = Trainer(settings(photos, tmp_path / "run", state_dir), recipe_class("deepfillv2"))
    run.train()
    assert run.average is None and ema.KEY not in portable.read(state_dir).modules
    kept = portable.read(state_dir)
    assert ema.shipped_generator(kept.modules) is kept.modules["generator"]


def test_the_average_can_be_turned_on_when_resuming(tmp_path, photos, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state_dir = tmp_path / "training-state" / "deepfillv2"
    Trainer(settings(photos, tmp_path / "run", state_dir), recipe_class("deepfillv2")).train()
    args = ["train", "deepfillv2", "--resume", "--data", str(photos), "--steps", "3", "--threads", "1"]
    assert main([*args, "--ema", "0.9"]) == 0
    info = portable.read_info(state_dir)
    assert info["settings"]["ema"] == 0.9 and ema.KEY in portable.read(state_dir).modules
    # recorded: a later resume keeps averaging without being told again
    assert main([*args[:-4], "--steps", "4", "--threads", "1"]) == 0
    assert portable.read_info(state_dir)["settings"]["ema"] == 0.9
