"""`inpaintstudio batch` and `inpaintstudio models`."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from inpaintstudio.cli import main


def test_batch_processes_good_files_and_reports_bad_ones(capsys, tmp_path, photo, make_hole):
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    hole = make_hole(*photo.shape[:2])
    for name in ("a", "b", "c"):
        Image.fromarray(photo).save(images / f"{name}.png")
        Image.fromarray(hole.astype(np.uint8) * 255).save(masks / f"{name}.png")
    (images / "broken.jpg").write_bytes(b"not a jpeg")
    Image.new("L", (5, 5)).save(masks / "broken.png")
    Image.fromarray(photo).save(images / "nomask.jpg")
    Image.new("L", (7, 7)).save(masks / "c.png")  # wrong size for c
    code = main(["batch", "--images", str(images), "--masks", str(masks), "--model", "telea", "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    for name in ("broken.jpg", "nomask.jpg", "c.png"):
        assert f"{name}: skipped:" in stderr
    assert "filled 2 of 5" in stdout
    result = np.asarray(Image.open(out / "a.png"))
    assert (result[~hole] == photo[~hole]).all()


def test_models_lists_capabilities_and_weights(capsys):
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    assert "telea" in table and "patchmatch" in table and "WEIGHTS" in table and "EXCLUDE" in table
    assert main(["models", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["patchmatch"]["outpaint"] is True
    assert rows["telea"]["ready"] is True
    # which models honour a sampling exclusion
    assert rows["patchmatch"]["exclude"] is True and rows["telea"]["exclude"] is False


def test_help_without_a_gui(capsys, monkeypatch):
    monkeypatch.setattr("inpaintstudio.cli._gui_available", lambda: False)
    assert main([]) == 0
    assert "fill" in capsys.readouterr().out


def test_no_display_gives_a_clear_message(capsys, monkeypatch):
    monkeypatch.setattr("inpaintstudio.cli._gui_available", lambda: True)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == 1
    assert "no display" in capsys.readouterr().err


def test_a_command_left_out_of_a_build_says_so(capsys, monkeypatch):
    import inpaintstudio.cli as cli

    real = cli._command_modules
    monkeypatch.setattr(cli, "_command_modules", lambda: {k: v for k, v in real().items() if k != "train"})
    assert main(["train", "deepfillv2", "--run", "x"]) == 1
    assert "not available in this build" in capsys.readouterr().err
