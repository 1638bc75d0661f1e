"""`inpaintstudio eval`: scores per image and per model, outpainting mode, refusals."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from inpaintstudio.cli import main
from inpaintstudio.evaluation import benchmark


@pytest.fixture
def eval_set(tmp_path, photo, make_hole):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for i, name in enumerate(("one", "two")):
        Image.fromarray(np.roll(photo, 40 * i, axis=1)).save(images / f"{name}.png")
        Image.fromarray(make_hole(*photo.shape[:2], seed=i).astype(np.uint8) * 255).save(masks / f"{name}.png")
    return images, masks


def test_eval_writes_per_image_rows_and_a_summary(capsys, tmp_path, eval_set):
    images, masks = eval_set
    out = tmp_path / "report.csv"
    assert (
        main(
            ["eval", "--images", str(images), "--masks", str(masks), "--models", "telea,patchmatch", "--out", str(out)]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "| telea |" in table and "| patchmatch |" in table
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 and {r["model"] for r in rows} == {"telea", "patchmatch"}
    for r in rows:
        assert 0 < float(r["l1_hole"]) < 0.5
        assert float(r["psnr_all"]) > float(r["psnr_hole"]), "known pixels are exact, so the whole image scores higher"
    summary = list(csv.DictReader((tmp_path / "report.summary.csv").open()))
    assert [s["model"] for s in summary] == ["telea", "patchmatch"]
    assert (tmp_path / "report.md").read_text().startswith("| model |")


def test_outpainting_mode_scores_the_restored_band(tmp_path, eval_set):
    images, _ = eval_set
    cases = benchmark.load_cases(images, None, extend_fraction=0.25)
    assert cases[0].hole[:, :10].all() and not cases[0].hole[cases[0].known.slices()].any()
    rows = benchmark.evaluate(cases[:1], ["patchmatch"])
    assert 0.2 < rows[0].hole_fraction < 0.5
    assert rows[0].psnr_hole > 8


def test_models_that_cannot_extend_are_refused_in_outpainting_mode(capsys, tmp_path, eval_set):
    images, _ = eval_set
    code = main(
        [
            "eval",
            "--images",
            str(images),
            "--extend-fraction",
            "0.2",
            "--models",
            "telea",
            "--out",
            str(tmp_path / "r.csv"),
        ]
    )
    assert code == 1 and "cannot extend" in capsys.readouterr().err


def test_sketch_for_is_inside_the_hole_and_thin(photo, make_hole):
    hole = make_hole(*photo.shape[:2], seed=3)
    sketch = benchmark.sketch_for(photo, hole, working_size=128)
    assert sketch.any() and not (sketch & ~hole).any()
    assert sketch.mean() < 0.5 * hole.mean()


def test_a_learned_model_can_be_scored_at_another_working_size(capsys, tmp_path, eval_set):
    """``--working-size`` changes what the model sees (so the scores change), is named in the report,
    and leaves nothing behind in the process (the size travels in each FillRequest); a classical model has no working size to change."""
    from inpaintstudio.engine import registry

    if not registry.get("deepfillv2").status().ready:
        pytest.skip("deepfillv2 has no shipped weights")
    images, masks = eval_set
    own = registry.capabilities("deepfillv2").working_size
    scores = {}
    for size in ("64", "192"):
        out = tmp_path / f"r{size}.csv"
        args = ["eval", "--images", str(images), "--masks", str(masks), "--models", "deepfillv2", "--device", "cpu"]
        assert main([*args, "--working-size", f"deepfillv2={size}", "--out", str(out)]) == 0
        assert f"deepfillv2 {size} px" in (tmp_path / f"r{size}.md").read_text()
        scores[size] = [float(r["l1_hole"]) for r in csv.DictReader(out.open())]
        assert registry.capabilities("deepfillv2").working_size == own  # the weights' own, unchanged
    assert scores["64"] != scores["192"]
    capsys.readouterr()
    args = [
        "eval",
        "--images",
        str(images),
        "--masks",
        str(masks),
        "--models",
        "telea",
        "--out",
        str(tmp_path / "t.csv"),
    ]
    assert main([*args, "--working-size", "telea=256"]) == 1
    assert "not a learned model" in capsys.readouterr().err
