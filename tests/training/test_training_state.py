"""The portable training state: committed with the repository, resumed on any machine, never lost."""

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
from inpaintstudio.training.export import export_generator, export_run
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


def test_a_run_continues_on_another_machine_from_the_portable_state(tmp_path, photos):
    state_dir = tmp_path / "training-state" / "deepfillv2"
    first = Trainer(settings(photos, tmp_path / "here", state_dir), recipe_class("deepfillv2"))
    assert first.train() == 2
    info = portable.read_info(state_dir)
    assert info["step"] == 2 and info["samples_seen"] == 4 and info["optimizer"].startswith("kept")
    assert (state_dir / portable.OPTIM_FILE).is_file()
    # "another machine": a new run folder, only the portable state to go on
    second = Trainer(settings(photos, tmp_path / "there", state_dir, steps=3), recipe_class("deepfillv2"))
    assert second.step == 2 and second.samples_seen == 4
    for key, value in first.recipe.generator.state_dict().items():
        assert torch.allclose(second.recipe.generator.state_dict()[key], value.half().float())
    # Adam's moments came along (not a fresh optimiser)
    assert second.recipe.opt_g.state_dict()["state"], "the generator's Adam state was restored"
    assert second.train() == 3
    ledger = portable.read_ledger(state_dir)
    assert [(r["step_from"], r["step_to"]) for r in ledger] == [("0", "2"), ("2", "3")]
    assert all(r["crop"] == "64" and r["hardware"] for r in ledger)


def test_the_newer_of_checkpoint_and_portable_state_wins(tmp_path, photos):
    state_dir = tmp_path / "state"
    run = tmp_path / "run"
    Trainer(settings(photos, run, state_dir), recipe_class("deepfillv2")).train()
    # elsewhere, the run went on to step 4 and was committed
    Trainer(settings(photos, tmp_path / "elsewhere", state_dir, steps=4), recipe_class("deepfillv2")).train()
    resumed = Trainer(settings(photos, run, state_dir, steps=5), recipe_class("deepfillv2"))
    assert resumed.step == 4, "the local checkpoint (step 2) is older than the committed state"


def test_a_write_killed_half_way_leaves_the_previous_state(tmp_path, photos, monkeypatch):
    state_dir = tmp_path / "state"
    trainer = Trainer(settings(photos, tmp_path / "run", state_dir), recipe_class("deepfillv2"))
    trainer.train()
    before = (state_dir / portable.STATE_FILE).read_bytes()

    def dies(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr("os.replace", dies)
    trainer.step = 7
    with pytest.raises(KeyboardInterrupt):
        trainer.save_checkpoint()
    monkeypatch.undo()
    assert (state_dir / portable.STATE_FILE).read_bytes() == before
    assert portable.read(state_dir).step == 2
    assert not list(state_dir.glob(".*.part")), "no temporary file is left behind"


def test_moments_from_another_step_are_not_used(tmp_path, photos):
    state_dir = tmp_path / "state"
    trainer = Trainer(settings(photos, tmp_path / "run", state_dir), recipe_class("deepfillv2"))
    trainer.train()
    trainer.step = 9
    trainer.save_checkpoint(final=False)  # an hourly write: networks only
    kept = portable.read(state_dir)
    assert kept.step == 9 and kept.optimizers is None


def test_a_new_run_starts_from_shipped_weights(tmp_path, photos):
    from safetensors.torch import save_file

    source = Trainer(settings(photos, tmp_path / "a", tmp_path / "sa", seed=1), recipe_class("deepfillv2"))
    shipped = tmp_path / "seed.safetensors"
    save_file({k: v.half().contiguous() for k, v in source.recipe.generator.state_dict().items()}, str(shipped))
    fresh = Trainer(
        settings(photos, tmp_path / "b", tmp_path / "sb", init_from=str(shipped)),
        recipe_class("deepfillv2"),
    )
    assert fresh.step == 0
    unseeded = Trainer(settings(photos, tmp_path / "c", tmp_path / "sc"), recipe_class("deepfillv2"))
    key = next(iter(source.recipe.generator.state_dict()))
    assert not torch.allclose(unseeded.recipe.generator.state_dict()[key], source.recipe.generator.state_dict()[key])
    for key, value in source.recipe.generator.state_dict().items():
        assert torch.allclose(fresh.recipe.generator.state_dict()[key], value.half().float())


def test_resume_command_uses_the_recorded_settings(tmp_path, photos, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    state_dir = tmp_path / "training-state" / "deepfillv2"
    Trainer(settings(photos, tmp_path / "run", state_dir), recipe_class("deepfillv2")).train()
    code = main(["train", "deepfillv2", "--resume", "--data", str(photos), "--steps", "3", "--threads", "1"])
    assert code == 0
    info = portable.read_info(state_dir)
    assert info["step"] == 3
    assert info["settings"]["crop"] == 64 and info["network"]["cnum"] == 8


def test_resume_without_a_committed_state_says_so(tmp_path, photos, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "deepfillv2", "--resume", "--data", str(photos)]) == 1
    assert "holds no training state" in capsys.readouterr().err


# -- the generator's moving average (train --ema): updated after each step, kept with the state, shipped


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


def test_weights_trained_on_from_shipped_weights_count_every_crop_they_have_seen(tmp_path, photos, monkeypatch):
    """A run started from shipped weights records their training; its export counts both, and so on."""
    first = Trainer(settings(photos, tmp_path / "a", tmp_path / "sa"), recipe_class("deepfillv2"))
    first.train()  # 2 steps of batch 2: 4 crops
    models = tmp_path / "models"
    export_run(tmp_path / "a", models, "deepfillv2")
    second = Trainer(
        settings(photos, tmp_path / "b", tmp_path / "sb", steps=3, init_from=str(models / "deepfillv2.safetensors")),
        recipe_class("deepfillv2"),
    )
    assert {k: second.settings.prior[k] for k in ("steps", "crops")} == {"steps": 2, "crops": 4}
    second.train()  # 3 more steps: 6 crops
    # resumed from its portable state with the command (a new machine): the prior comes with the settings
    monkeypatch.chdir(tmp_path)
    code = main(["train", "deepfillv2", "--resume", "--state", "sb", "--data", str(photos), "--steps", "4"])
    assert code == 0
    info = portable.read_info(tmp_path / "sb")
    assert info["step"] == 4 and info["settings"]["prior"]["crops"] == 4
    later = tmp_path / "later"
    weights_spec = export_run(tmp_path / "b", later, "deepfillv2")  # the run folder's own checkpoint: step 3
    assert "in all 5 steps, 10 crops" in weights_spec.training
    kept = portable.read(tmp_path / "sb")  # step 4, shipped with scores: the card's version row counts all
    scores = {"holes": {"psnr": 18.0, "l1": 0.09, "detail": 0.6, "images": 24}}
    export_generator(
        kept.info, kept.info["network"], kept.modules["generator"], tmp_path / "m2", "deepfillv2", scores=scores
    )
    assert "| 6 | 12 | holes | 18.00 |" in (tmp_path / "m2" / "deepfillv2.md").read_text()
    third = Trainer(
        settings(photos, tmp_path / "c", tmp_path / "sc", init_from=str(later / "deepfillv2.safetensors")),
        recipe_class("deepfillv2"),
    )
    assert {k: third.settings.prior[k] for k in ("steps", "crops")} == {"steps": 5, "crops": 10}


def test_weights_without_a_manifest_entry_record_no_prior(tmp_path, photos):
    from safetensors.torch import save_file

    source = Trainer(settings(photos, tmp_path / "a", tmp_path / "sa"), recipe_class("deepfillv2"))
    loose = tmp_path / "loose.safetensors"
    save_file({k: v.half().contiguous() for k, v in source.recipe.generator.state_dict().items()}, str(loose))
    fresh = Trainer(settings(photos, tmp_path / "b", tmp_path / "sb", init_from=str(loose)), recipe_class("deepfillv2"))
    assert fresh.settings.prior == {}
