"""Question 7: beyond one machine (issue 18): `batch --ray` and `train --nproc`.

(a) `batch` images per second, run as a user runs it (a fresh `inpaintstudio` process, start-up included),
locally and with `--ray` (a Ray instance started on this machine, 2 workers), for a cheap fill (telea)
and an expensive one (patchmatch). Each way runs once on 2 photos and once on N photos: the difference
gives the cost per photo, the rest is the fixed cost (process start, Ray start, one model load per
worker).
(b) Training steps per second with `train --nproc 1` and `--nproc 2` (deepfillv2 at its shipped width,
128 px crops, batch 8 divided among the processes, critic on), from the seconds the run records (the
training loop alone, without process start-up), and the gradient bytes averaged per step.

Needs the optional extra for (a)'s Ray rows (pip install -e ".[cluster]"); without it they are skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Table, free_form_hole, synthetic_photo

PHOTOS = 12  # the larger batch; the smaller is 2
PHOTO_SIZE = (480, 640)  # height, width
TRAIN_STEPS = 10


def _inpaintstudio(*args: str) -> float:
    """Wall seconds of one `inpaintstudio ...` command in a fresh process (it must succeed)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "inpaintstudio", *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"inpaintstudio {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def _photo_folders(root: Path, count: int) -> tuple[Path, Path]:
    from PIL import Image

    images, masks = root / f"images{count}", root / f"masks{count}"
    images.mkdir()
    masks.mkdir()
    h, w = PHOTO_SIZE
    for i in range(count):
        Image.fromarray(synthetic_photo(h, w, seed=i)).save(images / f"p{i:02d}.jpg", quality=92)
        Image.fromarray(free_form_hole(h, w, 0.15, seed=i).astype("uint8") * 255).save(masks / f"p{i:02d}.png")
    return images, masks


def batch_rates(device: str) -> Table:
    h, w = PHOTO_SIZE
    table = Table(
        f"Q7a. `batch` on {w} x {h} photos (15 % holes): locally and as a Ray job on this machine (2 workers)",
        [
            "model",
            "run",
            "fixed s",
            "s / photo",
            f"photos / s ({PHOTOS} photos, start-up included)",
            "photos / s (steady)",
        ],
    )
    with_ray = importlib.util.find_spec("ray") is not None
    with tempfile.TemporaryDirectory(prefix="inpaintstudio-bench-cluster-") as tmp:
        root = Path(tmp)
        sets = {n: _photo_folders(root, n) for n in (2, PHOTOS)}
        sent = sum(p.stat().st_size for p in [*sets[PHOTOS][0].iterdir(), *sets[PHOTOS][1].iterdir()]) / PHOTOS
        for model in ("telea", "patchmatch"):
            ways = {"local": []} | ({"--ray, 2 workers": ["--ray", "--ray-workers", "2"]} if with_ray else {})
            for way, extra in ways.items():
                seconds = {}
                for n, (images, masks) in sets.items():
                    out = root / f"out-{model}-{n}-{len(extra)}"
                    args = ["batch", "--images", str(images), "--masks", str(masks), "--model", model]
                    seconds[n] = _inpaintstudio(*args, "--out", str(out), "--device", device, *extra)
                per_photo = (seconds[PHOTOS] - seconds[2]) / (PHOTOS - 2)
                fixed = seconds[2] - 2 * per_photo
                table.add(model, way, fixed, per_photo, PHOTOS / seconds[PHOTOS], 1 / per_photo)
    table.notes.append(
        f"each photo travels to its worker as its files ({sent / 1024:.0f} KB of JPEG and mask here) and its "
        "result comes back as the output file; on one machine that is a local copy"
    )
    if not with_ray:
        table.notes.append("Ray is not installed (pip install -e '.[cluster]'): the --ray rows are left out")
    return table


def _train(photos: Path, run: Path, device: str, nproc: int, threads: int, precision: str = "auto") -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = ["train", "deepfillv2", "--data", str(photos), "--run", str(run), "--steps", str(TRAIN_STEPS)]
    args += ["--crop", "128", "--batch", "8", "--device", device, "--nproc", str(nproc), "--threads", str(threads)]
    args += ["--precision", precision]
    return subprocess.Popen([sys.executable, "-m", "inpaintstudio", *args], env=env, stderr=subprocess.PIPE, text=True)


def _steps_per_second(*runs: tuple[subprocess.Popen, Path]) -> list[float]:
    """Started runs, waited for; each one's steps per second of its training loop (run.json)."""
    rates = []
    for proc, run in runs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"training failed:\n{err[-2000:]}")
        info = json.loads((run / "run.json").read_text())
        rates.append(info["step"] / info["seconds"])
    return rates


def _allreduce_rank(floats: int, out: str) -> int:
    """A rank of the all_reduce timing: the mean of 5 all_reduces of ``floats`` float32 (after one)."""
    import torch
    import torch.distributed as dist

    from inpaintstudio.training import distributed

    world = distributed.from_environment()
    torch.set_num_threads(1)
    with distributed.joined(world, "cpu"):
        grads = torch.randn(floats)
        dist.all_reduce(grads)
        started = time.perf_counter()
        for _ in range(5):
            dist.all_reduce(grads)
        if world.main:
            Path(out).write_text(json.dumps({"seconds": (time.perf_counter() - started) / 5}))
    return 0


def _bf16(device: str) -> bool:
    import torch

    from inpaintstudio.engine.device import resolve_device
    from inpaintstudio.training.trainer import mixed_precision

    return mixed_precision("auto", torch.device(resolve_device(device)))


def training_rates(device: str) -> Table:
    import torch

    from inpaintstudio.training import distributed
    from inpaintstudio.training.recipes import recipe_class
    from inpaintstudio.training.trainer import TrainSettings

    table = Table(
        f"Q7b. `train deepfillv2 --nproc N` on this machine: 128 px crops, batch 8, critic on, {TRAIN_STEPS} steps",
        ["run", "threads each", "steps / s", "crops / s", "x 1 process of 1 thread"],
    )
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="inpaintstudio-bench-train-") as tmp:
        root = Path(tmp)
        photos = root / "photos"
        photos.mkdir()
        from PIL import Image

        for i in range(8):
            Image.fromarray(synthetic_photo(480, 640, seed=i)).save(photos / f"t{i}.jpg", quality=92)
        (one,) = _steps_per_second((_train(photos, root / "a", device, 1, 1), root / "a"))
        (all_cores,) = _steps_per_second((_train(photos, root / "b", device, 1, cores), root / "b"))
        (float32,) = _steps_per_second((_train(photos, root / "f", device, 1, cores, "float32"), root / "f"))
        (two,) = _steps_per_second((_train(photos, root / "c", device, 2, max(1, cores // 2)), root / "c"))
        apart = _steps_per_second(*[(_train(photos, root / f"d{i}", device, 1, 1), root / f"d{i}") for i in (0, 1)])
        table.add("--nproc 1", 1, one, one * 8, 1.0)
        table.add("--nproc 1", cores, all_cores, all_cores * 8, all_cores / one)
        table.add("--nproc 1 --precision float32", cores, float32, float32 * 8, float32 / one)
        table.add("--nproc 2", max(1, cores // 2), two, two * 8, two / one)
        table.add(
            "two separate --nproc 1 runs at once (what the machine can give)",
            1,
            sum(apart),
            sum(apart) * 8,
            sum(apart) / one,
        )
        settings = TrainSettings(family="deepfillv2", data=[], run=str(root / "x"), device="cpu")
        recipe = recipe_class("deepfillv2")(settings, torch.device("cpu"))
        floats = sum(p.numel() for m in recipe.modules().values() for p in m.parameters())
        distributed.launch(2, _allreduce_rank, floats, str(root / "allreduce.json"))
        allreduce = json.loads((root / "allreduce.json").read_text())["seconds"]
    table.notes.append(
        f"each step averages {floats * 4 / 2**20:.1f} MB of float32 gradients (generator and critic) over the "
        f"processes with all_reduce: {allreduce * 1000:.0f} ms between 2 processes here (gloo); a ring all_reduce "
        "sends and receives about twice that many bytes per process, so between machines 1 Gbit/s adds about "
        f"{2 * floats * 4 * 8 / 1e9:.1f} s per step, 10 Gbit/s a tenth of that"
    )
    table.notes.append(
        f"every row but the float32 one at --precision auto: bfloat16 here {'' if _bf16(device) else 'not '}"
        "(train --precision, README 'Augmentation and precision')"
    )
    table.notes.append(
        f"{cores} logical cores; --nproc gives each process cores / N threads unless --threads says otherwise"
    )
    return table


def run(device: str = "cpu", repeats: int = 5) -> list[Table]:
    """One run of each command (they take tens of seconds each); ``repeats`` is not used."""
    return [batch_rates(device), training_rates(device)]
