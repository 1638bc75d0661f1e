"""The GPU burst: what a session does with a lent device machine (one H200, ~15 minutes), prepared here.

Three modes, in the order a session uses them (README, "Training"):

    python scripts/device_train.py --prepare --photos ../shared/data/photos [--photos scratch/extra-photos]
        here, before the call: the training photos (minus the validation, hold-out and never-train lists),
        scaled to a 512 px short side, into .carry/photos (ignored by git, carried to the device).
    bash scripts/device_session.sh [--smoke]
        on the device (or here with --smoke, on the CPU in under three minutes): (1) the GPU benchmark,
        deepfillv2 at 512 x 512 in half precision with synchronised timing; (2) deepfillv2 training
        resumed from training-state/deepfillv2 at the batch that pays off (probed), then srn; (3) the
        states, ledgers, benchmark and log written to $OUT.
    python scripts/device_train.py --ingest FILES_AT
        here, after the call: the states that came back replace training-state/FAMILY (only when further
        along than the committed ones); then validate and, if better, ship (README).

Only torch, numpy, opencv, pillow and safetensors exist on the device: nothing here imports Qt or tqdm.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CARRY_PHOTOS = ROOT / ".carry" / "photos"
CARRY_SHORT_SIDE = 512
LISTS = ("models/validation.txt", "models/holdout.txt")
# What each family gets of the training time on the GPU, and how it trains there.
PLAN = {
    "deepfillv2": {"share": 0.62, "crop": 256, "batches": (16, 32, 64), "lr": 1e-4},
    "srn": {"share": 0.38, "crop": 256, "batches": (8, 16, 32), "lr": 1e-4},
}
# A new srn run (no committed state yet) starts with these (the recipe's defaults otherwise).
NEW_RUN = {
    "deepfillv2": {"options": {"hole_weight": 1, "gan_weight": 0.1, "gan_start": 0, "d_width": 32}},
    "srn": {"options": {}},
}
SMOKE = {"crop": 64, "batches": (2, 4), "lr": 1e-4, "network": {"deepfillv2": {"cnum": 8}, "srn": {"cnum": 4}}}


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- here, before the call ---------------------------------------------------------------------------
def prepare(photo_dirs: list[Path]) -> int:
    from PIL import Image, ImageOps

    from inpaintstudio.training.dataset import list_image_files, read_split

    excluded = {n.casefold() for lst in LISTS for n in read_split(ROOT / lst)}
    CARRY_PHOTOS.mkdir(parents=True, exist_ok=True)
    for old in CARRY_PHOTOS.iterdir():
        old.unlink()
    count = 0
    for path in list_image_files(photo_dirs):
        if path.name.casefold() in excluded:
            continue
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            factor = CARRY_SHORT_SIDE / min(im.size)
            if factor < 1:
                im = im.resize((round(im.width * factor), round(im.height * factor)), Image.Resampling.LANCZOS)
            im.save(CARRY_PHOTOS / f"{path.stem}.jpg", quality=92)
        count += 1
    size = sum(p.stat().st_size for p in CARRY_PHOTOS.iterdir())
    log(f"{count} training photos in {CARRY_PHOTOS} ({size / 2**20:.1f} MiB)")
    return count


# -- on the device ------------------------------------------------------------------------------------
def benchmark(device: str, smoke: bool) -> dict:
    """deepfillv2's network at 512 x 512 (256 in smoke mode), half precision on a GPU, synchronised."""
    import statistics

    import torch

    from inpaintstudio.engine import registry

    cls = registry.get("deepfillv2")
    spec = cls.weights_spec()
    config = {k: v for k, v in spec.config.items() if k != "working_size"}
    net = cls.build_network(config).eval().to(device)
    half = device == "cuda"
    dtype = torch.float16 if half else torch.float32
    net = net.to(dtype)
    size = 256 if smoke else 512
    image = (torch.rand(1, 3, size, size, device=device) * 2 - 1).to(dtype)
    mask = torch.zeros(1, 1, size, size, device=device, dtype=dtype)
    mask[..., size // 4 : 3 * size // 4, size // 3 : 2 * size // 3] = 1
    times = []
    with torch.inference_mode():
        for i in range(3 if smoke else 60):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            net(image, mask)
            if device == "cuda":
                torch.cuda.synchronize()
            if i >= (1 if smoke else 10):  # warm-up (cuDNN autotuning, allocator) not counted
                times.append(time.perf_counter() - start)
    result = {
        "network": f"deepfillv2 {json.dumps(config)}",
        "input": f"{size}x{size}",
        "precision": "float16" if half else "float32",
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "median_s": statistics.median(times),
        "min_s": min(times),
        "runs": len(times),
    }
    log(f"benchmark: {result}")
    return result


def _run_dir(family: str, smoke: bool) -> Path:
    return ROOT / "runs" / ("smoke" if smoke else "device") / family


def _settings(family: str, photos: Path, batch: int, crop: int, lr: float, minutes: float, smoke: bool, state: Path):
    from inpaintstudio.training import state as portable
    from inpaintstudio.training.trainer import TrainSettings

    info = portable.read_info(state)
    recorded = dict(info["settings"]) if info else {}
    options = dict(recorded.get("options") or NEW_RUN[family]["options"])
    network = dict(recorded.get("network") or {})
    if smoke:
        network = dict(SMOKE["network"][family])
        options = {**options, "d_width": 8}
    return TrainSettings(
        family=family,
        data=[str(photos)],
        run=str(_run_dir(family, smoke)),
        steps=10**7,
        batch_size=batch,
        crop=crop,
        lr=lr,
        device="cuda" if not smoke else "cpu",
        minutes=minutes,
        network=network,
        options=options,
        sample_every=10**9,
        checkpoint_every=500,
        workers=0 if smoke else None,
        threads=2 if smoke else None,
        state_dir=str(state),
        ema=float(recorded.get("ema") or 0.0),  # a run that keeps a moving average goes on keeping it
        prior=dict(recorded.get("prior") or {}),  # and the training its starting weights had
    )


def probe_batch(family: str, photos: Path, plan: dict, smoke: bool, state: Path) -> int:
    """The batch whose crops per second are within 10 % of the best (more steps for the same data)."""
    import torch

    from inpaintstudio.training.recipes import recipe_class
    from inpaintstudio.training.trainer import Trainer, training_files

    if len(plan["batches"]) == 1:
        return plan["batches"][0]

    def sync() -> None:
        if torch.cuda.is_available() and not smoke:
            torch.cuda.synchronize()

    rates: dict[int, float] = {}
    for batch in plan["batches"]:
        settings = _settings(family, photos, batch, plan["crop"], plan["lr"], None, smoke, state)
        settings.state_dir = None  # a probe never writes the state
        settings.run = str(ROOT / "runs" / f"probe-{family}-{batch}")
        try:
            trainer = Trainer(settings, recipe_class(family))
            batches = trainer._batches(training_files(settings))
            steps = 1 if smoke else 8
            for _ in range(1 if smoke else 3):  # warm-up: workers start, cuDNN picks its kernels
                trainer.recipe.step(next(batches), 10**6)
            sync()
            start = time.perf_counter()
            for _ in range(steps):
                trainer.recipe.step(next(batches), 10**6)
            sync()
            rates[batch] = steps * batch / (time.perf_counter() - start)
            log(f"probe {family} batch {batch} at {plan['crop']} px: {rates[batch]:.0f} crops/s")
        except torch.OutOfMemoryError:
            log(f"probe {family} batch {batch}: out of memory")
            break
        finally:
            shutil.rmtree(settings.run, ignore_errors=True)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    best = max(rates.values())
    return min(b for b, r in rates.items() if r >= 0.9 * best)


def train(family: str, photos: Path, seconds: float, smoke: bool) -> dict:
    from inpaintstudio.training import state as portable
    from inpaintstudio.training.recipes import recipe_class
    from inpaintstudio.training.trainer import Trainer, TrainingStopped

    plan = dict(PLAN[family])
    if smoke:
        plan.update(crop=SMOKE["crop"], batches=SMOKE["batches"], lr=SMOKE["lr"])
    state = ROOT / "training-state" / family
    if smoke:  # the smoke run starts afresh and never touches the committed state
        shutil.rmtree(_run_dir(family, smoke), ignore_errors=True)
        state = _run_dir(family, smoke) / "state"
    started = time.monotonic()
    batch = probe_batch(family, photos, plan, smoke, state)
    left = seconds - (time.monotonic() - started)
    settings = _settings(family, photos, batch, plan["crop"], plan["lr"], max(0.1, left / 60), smoke, state)
    if smoke:  # three steps whatever the machine's load: the smoke run checks the path, not the budget
        settings.steps, settings.minutes = 3, None
    trainer = Trainer(settings, recipe_class(family))
    first = trainer.step
    log(f"{family}: from step {first}, batch {batch}, crop {plan['crop']}, {left:.0f} s")
    try:
        trainer.train()
    except TrainingStopped:
        pass
    info = portable.read_info(state)
    log(f"{family}: step {first} -> {info['step']}, {info['samples_seen']} crops seen in all")
    return {"family": family, "state": str(state), "from": first, "to": info["step"], "batch": batch}


def burst(out: Path, photos: Path, smoke: bool, budget: float) -> int:
    import torch

    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() and not smoke else "cpu"
    if device == "cpu" and not smoke:
        log("no GPU here: use --smoke to try this path on the CPU")
        return 1
    if not photos.is_dir() or not any(photos.iterdir()):
        log(f"no training photos in {photos}: run --prepare before the call and carry .carry")
        return 1
    report = {"benchmark": benchmark(device, smoke), "training": []}
    (out / "bench.json").write_text(json.dumps(report["benchmark"], indent=2))
    families = list(PLAN)
    for index, family in enumerate(families):
        left = budget - (time.monotonic() - started)
        share = left * PLAN[family]["share"] / sum(PLAN[f]["share"] for f in families[index:])
        if share < 20 and not smoke:
            log(f"{family}: skipped, {left:.0f} s left")
            continue
        try:
            done = train(family, photos, share, smoke)
        except Exception as exc:  # noqa: BLE001 - one family's failure must not lose the other's state
            log(f"{family}: failed: {type(exc).__name__}: {exc}")
            continue
        report["training"].append(done)
        # one archive per family (state, optimiser, ledger): fewer than the 8 files that may come back
        shutil.make_archive(str(out / f"{family}-state"), "tar", done["state"])
    (out / "report.json").write_text(json.dumps(report, indent=2))
    log(f"done in {time.monotonic() - started:.0f} s; files in {out}")
    return 0


# -- here, after the call ---------------------------------------------------------------------------
def ingest(files_at: Path, root: Path = ROOT) -> int:
    import tarfile
    import tempfile

    from inpaintstudio.training import state as portable

    for archive in sorted(files_at.glob("*-state.tar")):
        family = archive.name.removesuffix("-state.tar")
        target = root / "training-state" / family
        with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
            new = portable.read_info(Path(tmp))
            old = portable.read_info(target)
            if new is None:
                log(f"{archive.name}: no state inside")
                continue
            if old is not None and int(old["step"]) >= int(new["step"]):
                log(f"{family}: the committed state (step {old['step']}) is not older; kept")
                continue
            target.mkdir(parents=True, exist_ok=True)
            for name in (portable.STATE_FILE, portable.OPTIM_FILE, portable.LEDGER_FILE):
                if (Path(tmp) / name).is_file():
                    shutil.copyfile(Path(tmp) / name, target / name)
            log(f"{family}: state step {new['step']} ({new['samples_seen']} crops) -> {target}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--ingest", type=Path, metavar="FILES_AT")
    parser.add_argument("--photos", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--smoke", action="store_true", help="the same path on the CPU, tiny, in about a minute")
    parser.add_argument("--budget", type=float, default=520, help="seconds for benchmark and training")
    args = parser.parse_args()
    if args.prepare:
        return 0 if prepare(args.photos or [ROOT.parent / "shared" / "data" / "photos"]) else 1
    if args.ingest:
        return ingest(args.ingest)
    if args.out is None:
        parser.error("--out is needed on the device")
    photos = args.photos[0] if args.photos else CARRY_PHOTOS
    return burst(args.out, photos, args.smoke, 60 if args.smoke else args.budget)


if __name__ == "__main__":
    raise SystemExit(main())
