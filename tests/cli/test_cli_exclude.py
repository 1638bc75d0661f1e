"""`fill --exclude` and `batch --excludes`: white in the exclusion image = never copy from there."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.exclusion_case import red_fraction, stripes_and_grass


@pytest.fixture
def stripes(tmp_path):
    image, hole, exclude = stripes_and_grass()
    paths = {}
    for name, array in (
        ("image", image),
        ("mask", hole.astype(np.uint8) * 255),
        ("excl", exclude.astype(np.uint8) * 255),
    ):
        paths[name] = tmp_path / f"{name}.png"
        Image.fromarray(array).save(paths[name])
    return image, hole, paths


def test_fill_with_exclude_copies_nothing_from_the_excluded_side(run_cli, tmp_path, stripes):
    image, hole, paths = stripes
    plain, excluded = tmp_path / "plain.png", tmp_path / "excluded.png"
    args = ("fill", paths["image"], "--mask", paths["mask"], "--model", "patchmatch")
    assert run_cli(*args, "-o", plain)[0] == 0
    code, _, err = run_cli(*args, "--exclude", paths["excl"], "-o", excluded)
    assert code == 0, err
    before, after = np.asarray(Image.open(plain)), np.asarray(Image.open(excluded))
    assert red_fraction(before, hole) > 0.1 and red_fraction(after, hole) < 0.01
    assert np.array_equal(after[~hole], image[~hole])


def test_fill_notes_a_model_that_ignores_the_exclusion(run_cli, tmp_path, stripes):
    _, _, paths = stripes
    out = tmp_path / "out.png"
    code, _, err = run_cli(
        "fill",
        paths["image"],
        "--mask",
        paths["mask"],
        "--exclude",
        paths["excl"],
        "--model",
        "telea",
        "-o",
        out,
    )
    assert code == 0 and "exclusion was ignored" in err


def test_fill_refuses_an_exclusion_of_another_size_or_one_over_everything(run_cli, tmp_path, stripes):
    _, _, paths = stripes
    out = tmp_path / "out.png"
    small = tmp_path / "small.png"
    Image.new("L", (10, 10), 255).save(small)
    everything = tmp_path / "all.png"
    Image.new("L", (384, 256), 255).save(everything)
    base = ("fill", paths["image"], "--mask", paths["mask"], "--model", "patchmatch", "-o", out)
    code, _, err = run_cli(*base, "--exclude", small)
    assert code == 1 and "exclusion" in err and "10x10" in err and not out.exists()
    code, _, err = run_cli(*base, "--exclude", everything)
    assert code == 1 and "nothing left to copy from" in err and not out.exists()
    code, _, err = run_cli(
        "fill", paths["image"], "--mask", paths["mask"], "--exclude", paths["excl"], "-o", paths["excl"]
    )
    assert code == 1 and "input file" in err


def test_batch_matches_exclusions_by_name_and_fills_images_without_one(run_cli, tmp_path):
    folders = {name: tmp_path / name for name in ("images", "masks", "excludes", "out")}
    for folder in folders.values():
        folder.mkdir()
    image, hole, exclude = stripes_and_grass()
    for stem in ("a", "b"):
        Image.fromarray(image).save(folders["images"] / f"{stem}.png")
        Image.fromarray(hole.astype(np.uint8) * 255).save(folders["masks"] / f"{stem}.png")
    Image.fromarray(exclude.astype(np.uint8) * 255).save(folders["excludes"] / "a.png")  # b has none
    code, out, err = run_cli(
        "batch", "--images", folders["images"], "--masks", folders["masks"], "--excludes",
        folders["excludes"], "--model", "patchmatch", "--out", folders["out"],
    )  # fmt: skip
    assert code == 0 and "filled 2 of 2" in out, err
    a, b = (np.asarray(Image.open(folders["out"] / f"{stem}.png")) for stem in ("a", "b"))
    assert red_fraction(a, hole) < 0.01 < 0.1 < red_fraction(b, hole)
    # an --out folder that is the exclusions folder would replace them: refused before any work
    code, _, err = run_cli(
        "batch", "--images", folders["images"], "--masks", folders["masks"], "--excludes",
        folders["excludes"], "--model", "patchmatch", "--out", folders["excludes"],
    )  # fmt: skip
    assert code == 1 and "replace" in err
