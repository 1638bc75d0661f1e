"""The command line's answers to the inputs of issue 16: outputs over inputs, white masks, bad options,
interruptions, and the progress bar."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaintstudio.cli import main


@pytest.fixture
def folders(tmp_path, photo, make_hole):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    hole = make_hole(*photo.shape[:2])
    for name in ("a", "b"):
        Image.fromarray(photo).save(images / f"{name}.png")
        Image.fromarray(hole.astype(np.uint8) * 255).save(masks / f"{name}.png")
    return images, masks


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_fill_refuses_to_overwrite_its_input_without_overwrite(capsys, folders):
    images, masks = folders
    image = images / "a.png"
    original = image.read_bytes()
    for out in (image, masks / "a.png", images / "." / "a.png"):
        code, _, err = run_cli(capsys, "fill", image, "--mask", masks / "a.png", "--model", "telea", "-o", out)
        assert code == 1 and "--overwrite" in err and "Traceback" not in err
    assert image.read_bytes() == original
    code, _, err = run_cli(
        capsys, "fill", image, "--mask", masks / "a.png", "--model", "telea", "-o", image, "--overwrite"
    )
    assert code == 0, err
    assert image.read_bytes() != original


def test_batch_refuses_an_output_folder_that_would_replace_inputs(capsys, folders):
    images, masks = folders
    before = {p.name: p.read_bytes() for p in images.iterdir()}
    for out in (images, masks):
        code, _, err = run_cli(capsys, "batch", "--images", images, "--masks", masks, "--model", "telea", "--out", out)
        assert code == 1 and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in images.iterdir()} == before
    # Other names in the same folder replace nothing: allowed.
    code, _, err = run_cli(
        capsys, "batch", "--images", images, "--masks", masks, "--model", "telea", "--out", images, "--format", "tiff"
    )
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "batch", "--images", images, "--masks", masks, "--model", "telea", "--out", images, "--overwrite"
    )
    assert code == 0, err
    assert images.joinpath("a.png").read_bytes() != before["a.png"]


@pytest.mark.parametrize("model", ["telea", "navier-stokes"])
def test_an_all_white_mask_cannot_be_filled_by_a_diffusion_fill(capsys, tmp_path, folders, model):
    # Diffusion fills spread the pixels around a hole into it; with every pixel masked there are none, and
    # OpenCV gives the input back unchanged. That is an error, not a result.
    images, _ = folders
    white = tmp_path / "white.png"
    Image.new("L", Image.open(images / "a.png").size, 255).save(white)
    out = tmp_path / "out.png"
    code, _, err = run_cli(capsys, "fill", images / "a.png", "--mask", white, "--model", model, "-o", out)
    assert code == 1 and "nothing could be filled" in err and "Traceback" not in err
    assert not out.exists()
