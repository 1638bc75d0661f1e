"""`batch --ray` and `eval --ray` (issue 18): the same files, messages and exit codes as the local run.

The tests that start Ray need the optional extra (pip install -e ".[cluster]") and are skipped without
it; the message for a missing Ray is tested everywhere. Each Ray test starts a small local instance
(2 CPUs) and the command shuts it down.
"""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest
from PIL import Image

from inpaintstudio import cluster
from inpaintstudio.cli import main


@pytest.fixture
def folders(tmp_path, photo, make_hole):
    """Four photos (PNG and JPEG) with masks, one photo whose mask has the wrong size, one without a mask."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    small = np.ascontiguousarray(photo[:160, :224])
    for i in range(4):
        suffix = "png" if i % 2 == 0 else "jpg"
        Image.fromarray(np.roll(small, 30 * i, axis=1)).save(images / f"p{i}.{suffix}")
        Image.fromarray(make_hole(*small.shape[:2], seed=i).astype(np.uint8) * 255).save(masks / f"p{i}.png")
    Image.fromarray(small).save(images / "wrong.png")
    Image.new("L", (7, 7)).save(masks / "wrong.png")
    Image.fromarray(small).save(images / "nomask.png")
    return images, masks


def _batch(images, masks, out, model, *extra):
    return main(["batch", "--images", str(images), "--masks", str(masks), "--model", model, "--out", str(out), *extra])


@pytest.mark.parametrize("command", ["batch", "eval"])
def test_without_ray_the_option_says_how_to_install_it(capsys, tmp_path, folders, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if the extra were not installed
    images, masks = folders
    if command == "batch":
        code = _batch(images, masks, tmp_path / "out", "telea", "--ray")
    else:
        code = main(["eval", "--images", str(images), "--masks", str(masks), "--out", str(tmp_path / "r.csv"), "--ray"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err == f"inpaintstudio: error: {cluster.INSTALL_HINT}\n"
    assert "pip install" in err and "[cluster]" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.csv").exists()


def test_the_ray_code_is_imported_only_for_ray(folders, tmp_path):
    """The command line starts without Ray (start-up time); the Ray module is loaded by --ray alone."""
    import subprocess

    code = (
        "import sys; from inpaintstudio.cli import main; "
        f"main(['batch', '--images', {str(folders[0])!r}, '--masks', {str(folders[1])!r}, '--model', 'telea', "
        f"'--out', {str(tmp_path / 'out')!r}]); "
        "print('ray' in sys.modules, 'inpaintstudio.cluster.ray_jobs' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split()[-2:] == ["False", "False"]


# -- with Ray --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["telea", "patchmatch"])
def test_batch_on_ray_writes_the_local_runs_files_and_messages(capsys, tmp_path, folders, model):
    pytest.importorskip("ray")
    images, masks = folders
    assert _batch(images, masks, tmp_path / "local", model) == 1
    local_out, local_err = capsys.readouterr()
    assert _batch(images, masks, tmp_path / "ray", model, "--ray", "--ray-workers", "2") == 1
    ray_out, ray_err = capsys.readouterr()
    assert ray_out == local_out.replace(str(tmp_path / "local"), str(tmp_path / "ray"))
    assert "filled 4 of 6 images" in ray_out and "2 skipped" in ray_out
    assert "ray: 2 worker(s) on a Ray instance on this machine" in ray_err
    # the same skips and notes, in the same order, naming the user's files (not the workers' copies)
    assert [line for line in ray_err.splitlines() if not line.startswith("ray:")] == local_err.splitlines()
    assert "wrong.png: skipped: the mask" in ray_err and str(masks / "wrong.png") in ray_err
    local = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert local == ["p0.png", "p1.jpg", "p2.png", "p3.jpg"]
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == local  # nothing else: no temporary files
    for name in local:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_eval_on_ray_gives_the_local_scores(capsys, tmp_path, folders):
    pytest.importorskip("ray")
    images, masks = folders
    for name in ("wrong.png", "nomask.png"):
        (images / name).unlink()
    args = ["eval", "--images", str(images), "--masks", str(masks), "--models", "telea,navier-stokes"]
    assert main([*args, "--out", str(tmp_path / "local.csv")]) == 0
    assert main([*args, "--out", str(tmp_path / "ray.csv"), "--ray"]) == 0
    capsys.readouterr()
    local, remote = (list(csv.DictReader((tmp_path / f"{n}.csv").open())) for n in ("local", "ray"))
    assert [(r["image"], r["model"]) for r in remote] == [(r["image"], r["model"]) for r in local]
    assert len(local) == 8
    for a, b in zip(local, remote, strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    assert (tmp_path / "ray.md").read_text().splitlines()[2:] != []


def test_interrupting_a_ray_batch_keeps_the_finished_files_and_no_partial_one(capsys, tmp_path, folders, monkeypatch):
    """Ctrl-C (here: while the second result is written) cancels the job; written files are whole."""
    pytest.importorskip("ray")
    from inpaintstudio import atomic

    images, masks = folders
    real = atomic.atomic_write_bytes
    calls = []

    def interrupted_second(path, data):
        calls.append(path)
        if len(calls) == 2:
            with atomic.atomic_write(path) as fh:
                fh.write(data[: len(data) // 2])
                raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(atomic, "atomic_write_bytes", interrupted_second)
    out = tmp_path / "out"
    assert _batch(images, masks, out, "telea", "--ray") == 130
    err = capsys.readouterr().err
    assert "interrupted after it filled 1 of 6 images" in err and "no file was left half-written" in err
    written = list(out.iterdir())
    assert [p.name for p in written] == [calls[0].name]  # the first whole, the second never appeared
    assert Image.open(written[0]).size == (224, 160)


def test_in_a_build_without_the_ray_code_the_option_says_so(capsys, tmp_path, folders, monkeypatch):
    real = cluster.importlib.util.find_spec
    monkeypatch.setattr(cluster.importlib.util, "find_spec", lambda name: None if name == cluster.JOBS else real(name))
    assert _batch(*folders, tmp_path / "out", "telea", "--ray") == 1
    assert "not available in this build" in capsys.readouterr().err
