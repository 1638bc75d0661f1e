"""A remedy travels structured from the engine (``errors.Remedy``) and the command line words it as a command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inpaintstudio.cli import cli_error, cli_message, main
from inpaintstudio.document.io import imageio
from inpaintstudio.engine import registry
from inpaintstudio.errors import DOWNLOAD, IMPORT, TRAIN, ModelUnavailableError, Remedy


def test_each_remedy_is_worded_as_a_command():
    assert cli_message("weights are damaged", Remedy(DOWNLOAD, "srn")) == (
        "weights are damaged; download them with: inpaintstudio models download srn"
    )
    assert cli_message("no weights; use a classical fill", Remedy(IMPORT, "deepfillv2")) == (
        "no weights; use a classical fill, or import a checkpoint (inpaintstudio models import FILE --as deepfillv2)"
    )
    assert cli_message("no weights; use a classical fill", Remedy(TRAIN, "csa")).endswith(
        ", or train weights (inpaintstudio train, see the README)"
    )
    assert cli_message("nothing to do", None) == "nothing to do"
    assert cli_error(ModelUnavailableError("gone", remedy=Remedy(DOWNLOAD, "x"))).endswith("models download x")


@pytest.fixture
def no_weights(shipped_models):  # noqa: ANN001, ANN201
    """A shipped models folder holding nothing: every learned model is missing its weights."""
    shipped_models()
    registry.refresh()
    yield
    registry.refresh()


def test_models_json_carries_the_remedy(no_weights, capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    deepfill = rows["deepfillv2"]
    assert not deepfill["ready"] and deepfill["remedy"] == {"kind": "import", "model": "deepfillv2"}
    assert "inpaintstudio models import FILE --as deepfillv2" in deepfill["message"]
    assert rows["telea"]["remedy"] is None


def test_a_fill_with_a_missing_model_names_the_command(no_weights, tmp_path, capsys):
    image, mask = tmp_path / "in.png", tmp_path / "mask.png"
    imageio.save_image(image, np.full((40, 40, 3), 120, np.uint8))
    hole = np.zeros((40, 40, 3), np.uint8)
    hole[10:20, 10:20] = 255
    imageio.save_image(mask, hole)
    status = main(["fill", str(image), "--mask", str(mask), "--model", "deepfillv2", "-o", str(tmp_path / "o.png")])
    assert status == 1
    err = capsys.readouterr().err
    assert "no weights are installed for 'deepfillv2'" in err
    assert "(inpaintstudio models import FILE --as deepfillv2)" in err
