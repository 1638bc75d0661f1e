"""Data-parallel training (issue 18): `train --nproc N`, ranks on torch.distributed (gloo on the CPU).

The multi-process tests start two ranks of a tiny network on this machine (a few seconds each).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintstudio.cli import main
from inpaintstudio.training import distributed
from inpaintstudio.training.recipes import recipe_class
from inpaintstudio.training.trainer import Trainer, TrainSettings

TINY = ["--crop", "64", "--net", "cnum=8", "--set", "d_width=8", "--threads", "1", "--device", "cpu"]


@pytest.fixture
def photos(tmp_path, photo):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        Image.fromarray(np.roll(photo, 50 * i, axis=1)).save(folder / f"p{i}.jpg")
    return folder


def _settings(photos: Path, run: Path, **extra) -> TrainSettings:
    base = dict(
        family="deepfillv2",
        data=[str(photos)],
        run=str(run),
        steps=3,
        batch_size=2,
        crop=64,
        threads=1,
        device="cpu",
        network={"cnum": 8},
        options={"d_width": 8, "gan_start": 1},  # the critic trains too (from the second step)
        sample_every=1000,
        log_every=1,
    )
    return TrainSettings(**{**base, **extra})


def _dump_rank(photos: Path, run: Path, out: Path) -> int:
    """One rank: a Trainer seeded by its rank (so without rank 0's state the ranks would start apart),
    three steps; what it started from, ended with and trained on goes to out/rankR.pt."""
    world = distributed.from_environment()
    with distributed.joined(world, "cpu"):
        trainer = Trainer(_settings(photos, run, seed=world.rank), recipe_class("deepfillv2"))
        modules = trainer.recipe.modules()
        start = {n: {k: v.clone() for k, v in m.state_dict().items()} for n, m in modules.items()}
        seen: list[str] = []
        make_dataset = trainer.recipe.dataset

        def recording(files):
            seen.extend(f.name for f in files)
            return make_dataset(files)

        trainer.recipe.dataset = recording
        trainer.train()
        end = {n: m.state_dict() for n, m in modules.items()}
        moments = {n: o.state_dict()["state"] for n, o in trainer.recipe.optimizers().items()}
        torch.save(
            {"start": start, "end": end, "moments": moments, "files": seen, "step": trainer.step},
            out / f"rank{world.rank}.pt",
        )
    return 0


def _same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            if not _same(x, y):
                return False
        elif torch.is_tensor(x):
            if not torch.equal(x, y):
                return False
        elif x != y:
            return False
    return True


def test_ranks_start_from_rank_0s_weights_stay_identical_and_see_disjoint_shards(tmp_path, photos):
    run = tmp_path / "run"
    assert distributed.launch(2, _dump_rank, photos, run, tmp_path) == 0
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    own = Trainer(_settings(photos, tmp_path / "alone", seed=1), recipe_class("deepfillv2")).recipe.generator
    assert not _same(own.state_dict(), rank0["start"]["generator"]), "rank 1's seed alone gives other weights"
    assert _same(rank0["start"], rank1["start"]), "every rank starts from rank 0's weights"
    assert _same(rank0["end"], rank1["end"]), "and they stay identical"
    assert _same(rank0["moments"], rank1["moments"]), "Adam's moments too"
    assert not _same(rank0["start"]["generator"], rank0["end"]["generator"])
    assert rank0["step"] == rank1["step"] == 3
    assert set(rank0["files"]).isdisjoint(rank1["files"])
    assert sorted(rank0["files"] + rank1["files"]) == sorted(p.name for p in photos.iterdir())
    # only rank 0 writes: one log line per step, the checkpoint holds its (= everyone's) weights
    assert len((run / "log.csv").read_text().splitlines()) == 1 + 3
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 3 and checkpoint["samples_seen"] == 6
    assert _same(checkpoint["modules"]["generator"], rank0["end"]["generator"])


def test_train_nproc_2_completes_with_one_checkpoint_and_resumes_on_one(capfd, tmp_path, photos):
    run = tmp_path / "run"
    args = ["train", "deepfillv2", "--data", str(photos), "--run", str(run), "--batch", "2", *TINY]
    assert main([*args, "--steps", "4", "--nproc", "2", "--sample-every", "2"]) == 0
    err = capfd.readouterr().err
    assert err.count("deepfillv2: steps 0 -> 4 of 4 on 2 processes") == 1 and "error" not in err
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "run.json", "samples"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000002.png", "step_0000004.png"]
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 4 and checkpoint["samples_seen"] == 8
    assert "2 processes" in (run / "run.json").read_text()
    # a resumed run may change the number of processes
    assert main([*args, "--steps", "5"]) == 0
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 5


def test_nproc_errors_are_one_line_before_any_process(capsys, tmp_path, photos, monkeypatch):
    args = ["train", "deepfillv2", "--data", str(photos), "--run", str(tmp_path / "r"), *TINY]
    assert main([*args, "--batch", "3", "--nproc", "2"]) == 1
    assert "does not divide among 2 processes" in capsys.readouterr().err
    assert main([*args, "--batch", "6", "--nproc", "6"]) == 1
    assert "5 photo(s) cannot be shared among 6 processes" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main([*args, "--nproc", "2"]) == 1
    assert "torchrun" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_shards_are_disjoint_and_cover_everything():
    items = [f"p{i}" for i in range(11)]
    for size in (1, 2, 3, 4):
        shards = [distributed.shard(items, distributed.World(rank, size)) for rank in range(size)]
        assert sorted(sum(shards, [])) == sorted(items)
        assert sum(len(s) for s in shards) == len(items)
        assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_the_world_is_read_from_torchruns_variables():
    assert distributed.from_environment({}) == distributed.SINGLE
    assert distributed.from_environment({"WORLD_SIZE": "1", "RANK": "0"}) == distributed.SINGLE
    world = distributed.from_environment({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert world == distributed.World(rank=3, size=4, local_rank=1, local_size=2) and not world.main
    with pytest.raises(ValueError, match="outside"):
        distributed.from_environment({"WORLD_SIZE": "2", "RANK": "2"})
    assert distributed.local_batch(8, distributed.World(0, 4)) == 2
