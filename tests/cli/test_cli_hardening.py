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


def test_fill_refuses_to_overwrite_its_input_without_overwrite(run_cli, folders):
    images, masks = folders
    image = images / "a.png"
    original = image.read_bytes()
    for out in (image, masks / "a.png", images / "." / "a.png"):
        code, _, err = run_cli("fill", image, "--mask", masks / "a.png", "--model", "telea", "-o", out)
        assert code == 1 and "--overwrite" in err and "Traceback" not in err
    assert image.read_bytes() == original
    code, _, err = run_cli("fill", image, "--mask", masks / "a.png", "--model", "telea", "-o", image, "--overwrite")
    assert code == 0, err
    assert image.read_bytes() != original


def test_batch_refuses_an_output_folder_that_would_replace_inputs(run_cli, folders):
    images, masks = folders
    before = {p.name: p.read_bytes() for p in images.iterdir()}
    for out in (images, masks):
        code, _, err = run_cli("batch", "--images", images, "--masks", masks, "--model", "telea", "--out", out)
        assert code == 1 and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in images.iterdir()} == before
    # Other names in the same folder replace nothing: allowed.
    code, _, err = run_cli(
        "batch", "--images", images, "--masks", masks, "--model", "telea", "--out", images, "--format", "tiff"
    )
    assert code == 0, err
    code, _, err = run_cli(
        "batch", "--images", images, "--masks", masks, "--model", "telea", "--out", images, "--overwrite"
    )
    assert code == 0, err
    assert images.joinpath("a.png").read_bytes() != before["a.png"]


@pytest.mark.parametrize("model", ["telea", "navier-stokes"])
def test_an_all_white_mask_cannot_be_filled_by_a_diffusion_fill(run_cli, tmp_path, folders, model):
    # Diffusion fills spread the pixels around a hole into it; with every pixel masked there are none, and
    # OpenCV gives the input back unchanged. That is an error, not a result.
    images, _ = folders
    white = tmp_path / "white.png"
    Image.new("L", Image.open(images / "a.png").size, 255).save(white)
    out = tmp_path / "out.png"
    code, _, err = run_cli("fill", images / "a.png", "--mask", white, "--model", model, "-o", out)
    assert code == 1 and "nothing could be filled" in err and "Traceback" not in err
    assert not out.exists()


# -- item 9: errors that escaped or misled ---------------------------------------------------------------


def test_batch_interrupted_says_what_it_had_written(run_cli, tmp_path, folders, monkeypatch):
    from inpaintstudio.commands import common

    images, masks = folders
    real = common.fill_file
    calls = []

    def interrupted_on_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "fill_file", interrupted_on_the_second)
    out = tmp_path / "out"
    code, _, err = run_cli("batch", "--images", images, "--masks", masks, "--model", "telea", "--out", out)
    assert code == 130
    assert "nothing was written" not in err
    assert "filled 1 of 2 images" in err and str(out) in err
    assert [p.name for p in out.iterdir()] == ["a.png"]


SLOW_SAVE = """
import os, sys, time
def slow_fsync(fd):  # the output's temporary file is written and about to be renamed
    print("saving", file=sys.stderr, flush=True)
    time.sleep(60)
os.fsync = slow_fsync
from inpaintstudio.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_a_save_leaves_no_temporary_file(tmp_path, folders):
    import signal
    import subprocess
    import sys

    images, masks = folders
    out = tmp_path / "o.png"
    args = ["fill", images / "a.png", "--mask", masks / "a.png", "--model", "telea", "-o", out]
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, *map(str, args)], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr.readline().strip() == "saving"
        assert list(tmp_path.glob(".o.png.*.part")), "the temporary file exists while saving"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated" in err and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".*.part"))


def test_batch_stops_once_when_the_device_is_missing(run_cli, tmp_path, folders, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    images, masks = folders
    out = tmp_path / "out"
    code, _, err = run_cli(
        "batch", "--images", images, "--masks", masks, "--model", "deepfillv2", "--device", "cuda", "--out", out
    )
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith("inpaintstudio: error:") and "cuda" in lines[0]


@pytest.mark.parametrize("data", ["missing", "empty"])
def test_train_with_a_missing_or_empty_data_folder_is_one_line(run_cli, tmp_path, data):
    (tmp_path / "empty").mkdir()
    run = tmp_path / "run"
    code, _, err = run_cli("train", "deepfillv2", "--data", tmp_path / data, "--run", run, "--steps", 1)
    assert code == 1 and err.startswith("inpaintstudio: error:") and "internal error" not in err, err
    assert str(tmp_path / data) in err
    assert not run.exists(), "nothing is created for a run that cannot start"


def test_eval_checks_its_output_folder_before_evaluating(run_cli, tmp_path, folders, monkeypatch):
    from inpaintstudio.evaluation import benchmark

    def no_evaluation(*args, **kwargs):
        raise AssertionError("evaluated before checking --out")

    monkeypatch.setattr(benchmark, "evaluate", no_evaluation)
    images, masks = folders
    out = tmp_path / "missing" / "report.csv"
    code, _, err = run_cli("eval", "--images", images, "--masks", masks, "--models", "telea", "--out", out)
    assert code == 1 and err.startswith("inpaintstudio: error:") and "does not exist" in err, err


def test_max_pixels_must_be_positive(capsys, folders):
    images, masks = folders
    for value in ("-1", "0"):
        with pytest.raises(SystemExit) as exit_info:
            main(["fill", str(images / "a.png"), "--mask", str(masks / "a.png"), "-o", "x.png", "--max-pixels", value])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "--max-pixels" in err and "positive" in err and "-0" not in err


def test_debug_is_accepted_after_the_subcommand(run_cli, tmp_path, folders):
    images, masks = folders
    out = tmp_path / "o.png"
    code, _, err = run_cli(
        "fill", images / "a.png", "--mask", masks / "a.png", "--model", "telea", "-o", out, "--debug"
    )
    assert code == 0, err
    assert out.exists()


def test_importing_an_image_as_a_checkpoint_says_what_it_is(run_cli, folders):
    images, _ = folders
    code, _, err = run_cli("models", "import", images / "a.png", "--as", "deepfillv2")
    assert code == 1 and "pickled" not in err, err
    assert "not a PyTorch checkpoint" in err and "PNG image" in err


# -- item 10: a progress bar in a terminal, none in logs and pipes ----------------------------------------


def _in_a_terminal(args: list[str]) -> str:
    """What a real process writes to stderr when stderr is a terminal (a pseudo-terminal here)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns, like a window
    proc = subprocess.Popen(
        [sys.executable, "-m", "inpaintstudio", *args],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks)
    return b"".join(chunks).decode("utf-8", "replace")


def test_batch_shows_a_progress_bar_in_a_terminal_and_none_in_a_pipe(run_cli, tmp_path, folders):
    images, masks = folders
    args = ["batch", "--images", str(images), "--masks", str(masks), "--model", "telea", "--out", str(tmp_path / "o")]
    shown = _in_a_terminal(args)
    assert "%|" in shown and "/2 [" in shown and "image/s" in shown, shown
    code, _, err = run_cli(*args, "--overwrite")
    assert code == 0 and "\r" not in err and "%|" not in err


class _Terminal:
    """A stderr that says it is a terminal, recording what is written to it."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_eval_and_train_show_progress_bars_in_a_terminal(tmp_path, folders, monkeypatch):
    images, masks = folders
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["eval", "--images", str(images), "--masks", str(masks), "--models", "telea,navier-stokes",
                 "--out", str(tmp_path / "r.csv")]) == 0  # fmt: skip
    assert "%|" in terminal.text and "/4 [" in terminal.text and "fill/s" in terminal.text, terminal.text
    terminal.text = ""
    train = ["train", "deepfillv2", "--data", str(images), "--run", str(tmp_path / "run"), "--steps", "2"]
    tiny = [
        "--batch",
        "1",
        "--crop",
        "64",
        "--threads",
        "1",
        "--net",
        "cnum=8",
        "--set",
        "d_width=8",
        "--device",
        "cpu",
    ]
    assert main(train + tiny) == 0
    assert "%|" in terminal.text and "/2 [" in terminal.text and "step/s" in terminal.text, terminal.text
