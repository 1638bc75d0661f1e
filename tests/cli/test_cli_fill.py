"""`inpaintstudio fill`: results, and every bad input the issue lists, one by one.

Each bad input must give one clear line on stderr, a non-zero exit, no traceback and no output file.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def inputs(tmp_path, photo, make_hole):
    image = tmp_path / "photo.png"
    Image.fromarray(photo).save(image)
    hole = make_hole(*photo.shape[:2], seed=5)
    mask = tmp_path / "mask.png"
    Image.fromarray(hole.astype(np.uint8) * 255).save(mask)
    return image, mask, hole


def assert_clean_failure(code, err, out_path, *fragments):
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, f"one line expected, got: {err!r}"
    assert lines[0].startswith("inpaintstudio: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out_path.exists(), "no partial output file"
    assert not list(out_path.parent.glob(".*.part")), "no temporary file left behind"


@pytest.mark.parametrize("model", ["telea", "navier-stokes", "patchmatch"])
def test_fill_keeps_unmasked_pixels_exact(run_cli, tmp_path, inputs, photo, model):
    image, mask, hole = inputs
    out = tmp_path / "out.png"
    code, stdout, err = run_cli("fill", image, "--mask", mask, "--model", model, "-o", out)
    assert code == 0 and f"({model}," in stdout, err
    result = np.asarray(Image.open(out).convert("RGB"))
    assert (result[~hole] == photo[~hole]).all()
    assert (result[hole] != photo[hole]).any()


def test_extend_grows_the_output(run_cli, tmp_path, inputs, photo):
    image, _, _ = inputs
    out = tmp_path / "wide.png"
    code, _, _ = run_cli("fill", image, "--extend", "10,0,40,5", "--model", "patchmatch", "-o", out)
    assert code == 0
    result = np.asarray(Image.open(out).convert("RGB"))
    h, w = photo.shape[:2]
    assert result.shape == (h + 5, w + 50, 3)
    assert (result[:h, 10 : 10 + w] == photo).all()


def test_empty_mask_writes_the_input_with_a_notice(run_cli, tmp_path, inputs):
    image, _, _ = inputs
    empty = tmp_path / "empty.png"
    Image.new("L", Image.open(image).size, 0).save(empty)
    out = tmp_path / "same.png"
    code, _, err = run_cli("fill", image, "--mask", empty, "--model", "telea", "-o", out)
    assert code == 0 and "empty" in err
    assert out.read_bytes() == image.read_bytes()


def test_missing_image(run_cli, tmp_path, inputs):
    _, mask, _ = inputs
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", tmp_path / "nope.jpg", "--mask", mask, "--model", "telea", "-o", out)
    assert_clean_failure(code, err, out, "no such file")


def test_unreadable_image(run_cli, tmp_path, inputs, monkeypatch):
    image, mask, _ = inputs
    real_read = type(image).read_bytes

    def denied(path):
        if path == image:  # chmod 0 would not stop root, so the permission error is simulated
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(type(image), "read_bytes", denied)
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", image, "--mask", mask, "--model", "telea", "-o", out)
    assert_clean_failure(code, err, out, "cannot be read", "Permission denied")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong-extension"])
def test_corrupt_images(run_cli, tmp_path, inputs, photo_path, damage):
    _, mask, _ = inputs
    bad = tmp_path / "bad.jpg"
    if damage == "truncated":
        bad.write_bytes(photo_path.read_bytes()[:1500])
    elif damage == "garbage":
        bad.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    else:
        bad.write_text("just some text in a file called .jpg")
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", bad, "--mask", mask, "--model", "telea", "-o", out)
    assert_clean_failure(code, err, out, "bad.jpg")


def test_mask_of_another_size(run_cli, tmp_path, inputs):
    image, _, _ = inputs
    small = tmp_path / "small.png"
    Image.new("L", (10, 10), 255).save(small)
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", image, "--mask", small, "--model", "telea", "-o", out)
    assert_clean_failure(code, err, out, "same size")


def test_unknown_model(run_cli, tmp_path, inputs):
    image, mask, _ = inputs
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", image, "--mask", mask, "--model", "magic", "-o", out)
    assert_clean_failure(code, err, out, "unknown model 'magic'", "telea")


def test_extend_with_a_model_that_cannot(run_cli, tmp_path, inputs):
    image, mask, _ = inputs
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", image, "--mask", mask, "--extend", "0,0,20,0", "--model", "telea", "-o", out)
    assert_clean_failure(code, err, out, "cannot extend")


@pytest.mark.parametrize("value", ["1,2,3", "a,b,c,d", "-1,0,0,0"])
def test_bad_extend_values(run_cli, tmp_path, inputs, value):
    image, _, _ = inputs
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", image, f"--extend={value}", "--model", "patchmatch", "-o", out)
    assert_clean_failure(code, err, out, "--extend")


def test_pixel_limit_and_its_override(run_cli, tmp_path):
    image = tmp_path / "big.png"
    Image.new("RGB", (2000, 1500), (90, 120, 150)).save(image)
    mask = tmp_path / "m.png"
    m = Image.new("L", (2000, 1500), 0)
    m.paste(255, (100, 100, 140, 140))
    m.save(mask)
    out = tmp_path / "o.png"
    code, _, err = run_cli("fill", image, "--mask", mask, "--model", "telea", "-o", out, "--max-pixels", "1000000")
    assert_clean_failure(code, err, out, "megapixels", "--max-pixels")
    code, _, _ = run_cli("fill", image, "--mask", mask, "--model", "telea", "-o", out, "--no-pixel-limit")
    assert code == 0 and out.exists()


def test_unknown_output_format_fails_before_any_work(run_cli, tmp_path, inputs):
    image, mask, _ = inputs
    out = tmp_path / "o.xyz"
    code, _, err = run_cli("fill", image, "--mask", mask, "--model", "telea", "-o", out)
    assert_clean_failure(code, err, out, "cannot save as")


@pytest.mark.parametrize("mode", ["I;16", "L", "P", "CMYK", "RGBA"])
def test_special_modes_are_handled(run_cli, tmp_path, photo, make_hole, mode):
    src = Image.fromarray(photo)
    if mode == "I;16":
        src = Image.fromarray(np.asarray(src.convert("L"), np.uint16) * 257)
    elif mode == "RGBA":
        src = src.convert("RGBA")
        src.putalpha(200)
    else:
        src = src.convert(mode)
    image = tmp_path / ("in.tiff" if mode == "CMYK" else "in.png")
    src.save(image)
    hole = make_hole(*photo.shape[:2], seed=9)
    mask = tmp_path / "m.png"
    Image.fromarray(hole.astype(np.uint8) * 255).save(mask)
    out = tmp_path / "out.png"
    code, _, err = run_cli("fill", image, "--mask", mask, "--model", "telea", "-o", out)
    assert code == 0, err
    result = Image.open(out)
    if mode in ("I;16", "L", "RGBA"):
        assert result.mode == src.mode, "depth, grayscale and alpha are kept"
        before, after = np.asarray(src), np.asarray(result)
        assert (after[~hole] == before[~hole]).all()
    if mode == "RGBA":
        assert (np.asarray(result)[..., 3] == 200).all(), "alpha kept"


def test_no_traceback_from_a_real_process(tmp_path):
    """The installed entry point behaves the same as main(): one line, exit 1."""
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    out = tmp_path / "o.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "inpaintstudio",
            "fill",
            str(bad),
            "--mask",
            str(bad),
            "--model",
            "telea",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("inpaintstudio: error:")
    assert not out.exists()
