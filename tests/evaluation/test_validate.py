"""``inpaintstudio validate``: the validation photos scored, and --record keeps the scores auto uses."""

from __future__ import annotations

import json

import pytest

from inpaintstudio.cli import main
from inpaintstudio.engine import registry, selection, weights
from inpaintstudio.paths import PACKAGE_DIR

FIXTURES = PACKAGE_DIR.parent / "tests" / "fixtures"


@pytest.fixture
def models(shipped_models):
    return shipped_models(
        "manifest.json", "deepfillv2.safetensors", "deepfillv2.md", validation=["giraffe.jpg", "chickens.jpg"]
    )


def test_validate_records_scores_where_auto_reads_them(models, capsys):
    code = main(["validate", "--photos", str(FIXTURES), "--models", "telea,deepfillv2", "--jobs", "holes", "--record"])
    assert code == 0
    out = capsys.readouterr().out
    assert "| deepfillv2 |" in out and "| telea |" in out
    table = json.loads((models / selection.SCORES_FILE).read_text())
    assert table["holes"]["telea"]["images"] == 6  # 2 photos x 3 masks
    assert "deepfillv2" not in table["holes"], "a learned model's scores live with its weights"
    spec = next(s for s in weights.read_manifest(models) if s.model == "deepfillv2")
    assert spec.scores["holes"]["images"] == 6
    assert 5 < spec.scores["holes"]["psnr"] < 40
    card = (models / "deepfillv2.md").read_text()
    assert card.count(validate_section()) == 1
    # recording again replaces the card's section instead of adding a second one
    assert main(["validate", "--photos", str(FIXTURES), "--models", "deepfillv2", "--jobs", "holes", "--record"]) == 0
    assert (models / "deepfillv2.md").read_text().count(validate_section()) == 1
    assert registry.capabilities("deepfillv2").scores["holes"] == spec.scores["holes"]


def validate_section() -> str:
    from inpaintstudio.evaluation.validate import CARD_SECTION

    return CARD_SECTION


def test_eval_compares_a_learned_model_with_and_without_its_post_processing(models, tmp_path):
    from inpaintstudio.evaluation import benchmark, validation

    cases = validation.hole_cases(FIXTURES, ["giraffe.jpg"])
    rows = benchmark.evaluate(cases, ["deepfillv2", "deepfillv2:plain"], device="cpu")
    full, plain = rows
    assert (full.model, plain.model) == ("deepfillv2", "deepfillv2:plain")
    assert full.detail_hole > plain.detail_hole
    assert full.psnr_hole != plain.psnr_hole


def test_missing_validation_photo_is_a_clear_error(models, tmp_path, capsys):
    assert main(["validate", "--photos", str(tmp_path), "--models", "telea", "--jobs", "holes"]) == 1
    assert "validation photo giraffe.jpg is not in" in capsys.readouterr().err
