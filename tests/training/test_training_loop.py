"""The training loop: steps, resume, time budget, samples, export as shipped weights, all families."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintstudio.cli import main
from inpaintstudio.engine import registry, weights
from inpaintstudio.training.recipes import recipe_class
from inpaintstudio.training.trainer import Trainer, TrainSettings


@pytest.fixture
def photos(tmp_path, photo):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.roll(photo, 50 * i, axis=1)).save(folder / f"p{i}.jpg")
    (folder / "ATTRIBUTION.tsv").write_text("file\tlicence\tauthor\tupstream\np0.jpg\tCC0\tsomeone\thttp://x\n")
    return folder


def tiny(family: str, photos, run, **extra) -> TrainSettings:
    network = {"deepfillv2": {"cnum": 8}, "csa": {"ngf": 4, "rough_ngf": 4}, "srn": {"cnum": 4}}[family]
    crop = 256 if family == "csa" else 64
    base = dict(
        family=family,
        data=[str(photos)],
        run=str(run),
        steps=2,
        batch_size=2,
        crop=crop,
        threads=1,
        network=network,
        options={"d_width": 8},
        sample_every=2,
        log_every=1,
    )
    base.update(extra)
    return TrainSettings(**base)


@pytest.mark.parametrize("family", ["deepfillv2", "csa", "srn"])
def test_every_family_trains_and_changes_its_generator(tmp_path, photos, family):
    options = {"d_width": 8, "gan_start": 1, "finetune_start": 1}
    trainer = Trainer(tiny(family, photos, tmp_path / "run", options=options), recipe_class(family))
    before = {k: v.clone() for k, v in trainer.recipe.generator.state_dict().items()}
    assert trainer.train() == 2
    after = trainer.recipe.generator.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the generator learned something"
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(log) == 3 and "l1" in log[0]
    assert (tmp_path / "run" / "samples" / "step_0000002.png").is_file()


def test_a_run_resumes_where_it_stopped(tmp_path, photos):
    run = tmp_path / "run"
    first = Trainer(tiny("deepfillv2", photos, run), recipe_class("deepfillv2"))
    first.train()
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == 2
    second = Trainer(tiny("deepfillv2", photos, run, steps=3), recipe_class("deepfillv2"))
    assert second.step == 2
    for k, v in second.recipe.generator.state_dict().items():
        assert torch.equal(v, state["modules"]["generator"][k])
    assert second.train() == 3
    info = json.loads((run / "run.json").read_text())
    assert info["step"] == 3 and info["samples_seen"] == 6


def test_a_run_refuses_another_network(tmp_path, photos):
    run = tmp_path / "run"
    Trainer(tiny("deepfillv2", photos, run), recipe_class("deepfillv2")).train()
    with pytest.raises(ValueError, match="network"):
        Trainer(tiny("deepfillv2", photos, run, network={"cnum": 12}), recipe_class("deepfillv2"))


def test_the_time_budget_stops_with_a_checkpoint(tmp_path, photos):
    trainer = Trainer(
        tiny("deepfillv2", photos, tmp_path / "run", steps=10_000, minutes=0.0001), recipe_class("deepfillv2")
    )
    reached = trainer.train()
    assert 0 < reached < 10_000
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == reached


def test_exported_weights_fill_through_the_app_pipeline(tmp_path, photos, monkeypatch, photo, make_hole):
    run = tmp_path / "run"
    Trainer(tiny("deepfillv2", photos, run), recipe_class("deepfillv2")).train()
    models = tmp_path / "models"
    code = main(["train", "deepfillv2", "--run", str(run), "--export", str(models), "--working-size", "96"])
    assert code == 0
    (spec,) = weights.read_manifest(models)
    assert spec.model == "deepfillv2" and spec.sha256 == weights.sha256_of(spec.path)
    assert spec.config["working_size"] == 96 and spec.config["cnum"] == 8
    assert (models / "deepfillv2.md").read_text().startswith("# Model card: deepfillv2")
    assert "p0.jpg\tCC0" in (models / "TRAINING_DATA.tsv").read_text()
    monkeypatch.setenv("INPAINTSTUDIO_MODELS_DIR", str(models))
    cls = registry.get("deepfillv2")
    assert cls.status().ready
    from inpaintstudio.engine.pipeline import ModelCache, run_fill
    from inpaintstudio.engine.request import FillRequest

    hole = make_hole(*photo.shape[:2])
    result = run_fill(FillRequest(photo, hole, "deepfillv2", device="cpu"), cache=ModelCache())
    assert (result.image[~hole] == photo[~hole]).all()


def test_train_command_errors_are_one_line(capsys, tmp_path):
    assert main(["train", "deepfillv2", "--run", str(tmp_path / "r")]) == 1
    assert "--data" in capsys.readouterr().err
    assert main(["train", "deepfillv2", "--run", str(tmp_path / "r"), "--export", str(tmp_path / "m")]) == 1
    assert "no checkpoint" in capsys.readouterr().err


def test_srn_run_can_change_its_crop_keeping_the_generator(tmp_path, photos):
    run = tmp_path / "run"
    first = Trainer(tiny("srn", photos, run), recipe_class("srn"))
    first.train()
    generator = {k: v.clone() for k, v in first.recipe.generator.state_dict().items()}
    with pytest.warns(UserWarning, match="critic restarts"):
        second = Trainer(tiny("srn", photos, run, crop=128, steps=3), recipe_class("srn"))
    assert second.step == 2
    for k, v in second.recipe.generator.state_dict().items():
        assert torch.equal(v, generator[k])
    assert second.train() == 3


def test_a_diverged_run_keeps_its_last_good_checkpoint(tmp_path, photos, monkeypatch):
    """A NaN loss has already poisoned the weights in memory: the checkpoint on disk must not be overwritten
    with them (that once destroyed a whole SRN run), and the error says where to resume from."""
    from inpaintstudio.errors import TrainingDivergedError

    run = tmp_path / "run"
    Trainer(tiny("deepfillv2", photos, run, checkpoint_every=1), recipe_class("deepfillv2")).train()
    good = torch.load(run / "checkpoint.pt", weights_only=True)
    trainer = Trainer(tiny("deepfillv2", photos, run, steps=5, checkpoint_every=1), recipe_class("deepfillv2"))
    real_step = trainer.recipe.step

    def poisoned_step(batch, step):
        losses = real_step(batch, step)
        if step == 3:
            with torch.no_grad():
                for p in trainer.recipe.generator.parameters():
                    p.fill_(float("nan"))
            losses = {k: float("nan") for k in losses}
        return losses

    monkeypatch.setattr(trainer.recipe, "step", poisoned_step)
    with pytest.raises(TrainingDivergedError, match="checkpoint of step 3"):
        trainer.train()
    kept = torch.load(run / "checkpoint.pt", weights_only=True)
    assert kept["step"] == 3 and kept["step"] > good["step"]
    assert all(torch.isfinite(v).all() for v in kept["modules"]["generator"].values() if v.is_floating_point())
    assert json.loads((run / "run.json").read_text())["step"] == 3


def test_the_train_command_reports_divergence_on_one_line(tmp_path, photos, monkeypatch, capsys):
    from inpaintstudio.errors import TrainingDivergedError

    def diverge(self, progress=None):
        raise TrainingDivergedError("the loss became non-finite at step 7")

    monkeypatch.setattr(Trainer, "train", diverge)
    code = main(["train", "deepfillv2", "--data", str(photos), "--run", str(tmp_path / "r"), "--crop", "64"])
    err = capsys.readouterr().err
    assert code == 1 and "non-finite at step 7" in err and "Traceback" not in err and "internal" not in err


@pytest.mark.parametrize("family", ["deepfillv2", "csa", "srn"])
def test_every_family_trains_in_bf16_with_float32_weights(tmp_path, photos, family):
    options = {"d_width": 8, "gan_start": 0, "finetune_start": 0}
    settings = tiny(family, photos, tmp_path / "run", options=options, precision="bf16")
    trainer = Trainer(settings, recipe_class(family))
    assert trainer.recipe.amp
    assert trainer.train() == 2
    assert all(
        v.dtype == torch.float32 for v in trainer.recipe.generator.state_dict().values() if v.is_floating_point()
    )
    losses = (tmp_path / "run" / "log.csv").read_text().splitlines()[-1].split(",")[2:]
    assert losses and all(np.isfinite(float(x)) for x in losses)
    assert "bf16" in json.loads((tmp_path / "run" / "run.json").read_text())["hardware"]


def test_precision_choice():
    from inpaintstudio.training.trainer import mixed_precision

    cpu = torch.device("cpu")
    assert mixed_precision("bf16", cpu) and not mixed_precision("float32", cpu)
    assert mixed_precision("auto", torch.device("cuda"))
    assert mixed_precision("auto", cpu) == bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)())
    with pytest.raises(ValueError, match="precision"):
        mixed_precision("fp8", cpu)


def test_augmentation_options_reach_the_crops(tmp_path, photos):
    settings = tiny("deepfillv2", photos, tmp_path / "run", options={"rotate": 5, "colour": 0.1})
    recipe = recipe_class("deepfillv2")(settings, torch.device("cpu"))
    crops = recipe.dataset(sorted(photos.glob("*.jpg")))
    assert (crops.rotate, crops.colour, crops.with_sketch) == (5.0, 0.1, True)
    plain = recipe_class("srn")(tiny("srn", photos, tmp_path / "r2"), torch.device("cpu")).dataset([photos / "p0.jpg"])
    assert (plain.rotate, plain.colour, plain.with_sketch) == (0.0, 0.0, False)


def test_an_augmentation_out_of_range_is_a_one_line_error(capsys, tmp_path, photos):
    args = ["train", "deepfillv2", "--data", str(photos), "--run", str(tmp_path / "r"), "--steps", "1"]
    assert main([*args, "--set", "rotate=60"]) == 1
    assert "rotate must be between 0 and 45 degrees, got 60" in capsys.readouterr().err
    assert main([*args, "--set", "colour=1.5"]) == 1
    assert "colour must be at least 0 and below 1" in capsys.readouterr().err
