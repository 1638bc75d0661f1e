"""``inpaintstudio train``: train a model family on a folder of photos, resumably; export it.

inpaintstudio train deepfillv2 --data PHOTOS --run runs/deepfill --steps 20000 [--minutes 60]
inpaintstudio train deepfillv2 --resume --data PHOTOS [--minutes 60]   # continue the committed run
inpaintstudio train deepfillv2 --run runs/deepfill --export models/ [--name deepfillv2]

With ``--resume`` the run continues from the portable state committed in ``training-state/FAMILY``
(training/state.py) with the settings recorded there; any option given on the command line overrides
the recorded one. The state and the ledger there are kept up to date at every checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inpaintstudio.engine.device import DEVICE_CHOICES
from inpaintstudio.errors import InputError

FAMILIES = ("deepfillv2", "csa", "srn")


def _key_values(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got '{item}'")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model on a folder of photos (resumable), or export a run as shipped weights",
        description="Train FAMILY on the photos in --data. Running the same command again resumes the run in --run.",
    )
    parser.add_argument("family", choices=FAMILIES)
    parser.add_argument("--run", type=Path, help="run folder (checkpoint, logs, samples); default runs/FAMILY")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the committed run in training-state/FAMILY with its recorded settings",
    )
    parser.add_argument(
        "--state", type=Path, metavar="DIR", help="portable state folder to resume from and keep up to date"
    )
    parser.add_argument(
        "--init-from", type=Path, metavar="WEIGHTS", help="a new run's generator starts from these weights"
    )
    parser.add_argument("--data", type=Path, action="append", default=[], help="folder of photos (repeatable)")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="LIST", help="file naming photos to leave out"
    )
    parser.add_argument("--steps", type=int, help="total steps of the run")
    parser.add_argument("--minutes", type=float, help="stop after this long (with a checkpoint); run again to continue")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--crop", type=int, help="training crop side in pixels")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--net", action="append", default=[], metavar="KEY=VALUE", help="network config override")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="loss/recipe option")
    parser.add_argument("--vgg", type=Path, help="a torchvision VGG-16/19 state dict for perceptual features")
    parser.add_argument("--sample-every", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--export", type=Path, metavar="MODELS_DIR", help="write the run's generator as shipped weights"
    )
    parser.add_argument("--name", help="model name for --export (default: the family)")
    parser.add_argument("--working-size", type=int, help="with --export: the side the app scales crops to")
    parser.add_argument("--notes", type=Path, help="with --export or --ship: Markdown added to the model card")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="with --resume: score the committed state on the validation photos (in --data) and note it in the ledger",
    )
    parser.add_argument(
        "--ship",
        action="store_true",
        help="with --validate: replace the shipped weights if the state scores better (PSNR, L1, detail)",
    )


# what a run uses when neither the command line nor a resumed state says otherwise
DEFAULTS = {"steps": 20000, "batch_size": 8, "crop": 128, "lr": 1e-4}


def _settings_from(args: argparse.Namespace) -> dict[str, object]:
    """The run's settings: the command line over the resumed state's recorded settings over DEFAULTS."""
    from inpaintstudio.training import state as portable

    recorded: dict[str, object] = {}
    state_dir = args.state
    if args.resume:
        state_dir = state_dir or Path(portable.STATE_ROOT) / args.family
        info = portable.read_info(state_dir)
        if info is None:
            raise InputError(f"--resume: {state_dir} holds no training state (start a run with --state {state_dir})")
        recorded = dict(info.get("settings") or {})
    given = {
        "steps": args.steps,
        "batch_size": args.batch,
        "crop": args.crop,
        "lr": args.lr,
        "exclude_lists": [str(e) for e in args.exclude] or None,
        "network": _key_values(args.net) or None,
        "options": _key_values(args.set) or None,
    }
    out: dict[str, object] = {**DEFAULTS}
    for key in ("steps", "batch_size", "crop", "lr", "exclude_lists", "network", "options", "sample_every"):
        if key in recorded:
            out[key] = recorded[key]
    if args.resume and given["options"]:  # --set on a resumed run changes single options, keeps the rest
        given["options"] = {**dict(recorded.get("options") or {}), **given["options"]}
    out.update({k: v for k, v in given.items() if v is not None})
    if args.sample_every is not None:
        out["sample_every"] = args.sample_every
    out["state_dir"] = str(state_dir) if state_dir else None
    return out


def run(args: argparse.Namespace) -> int:
    if args.run is None:
        args.run = Path("runs") / args.family
    if args.validate or args.ship:
        return _validate(args)
    if args.export:
        from inpaintstudio.training.export import export_run

        if not (args.run / "checkpoint.pt").is_file():
            raise InputError(f"{args.run} holds no checkpoint to export")
        notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
        spec = export_run(args.run, args.export, args.name or args.family, working_size=args.working_size, notes=notes)
        print(f"exported {spec.model}: {spec.file}, {spec.parameters:,} parameters, {spec.size / 2**20:.1f} MiB")
        return 0
    if not args.data:
        raise InputError("give at least one --data folder of photos")
    from inpaintstudio.commands.common import advance, progress_bar
    from inpaintstudio.training.recipes import recipe_class
    from inpaintstudio.training.trainer import Trainer, TrainSettings, training_files

    chosen = _settings_from(args)
    settings = TrainSettings(
        family=args.family,
        data=[str(d) for d in args.data],
        run=str(args.run),
        device=args.device,
        minutes=args.minutes,
        seed=args.seed,
        threads=args.threads,
        vgg=str(args.vgg) if args.vgg else None,
        init_from=str(args.init_from) if args.init_from else None,
        **chosen,
    )
    for folder in args.data:  # checked before the run folder is made and the networks are built
        if not folder.exists():
            raise InputError(f"--data {folder}: no such folder")
    if not training_files(settings):
        raise InputError(f"no photos to train on in {', '.join(map(str, args.data))} (after --exclude)")
    try:
        trainer = Trainer(settings, recipe_class(args.family))
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    start = trainer.step
    bar = progress_bar(settings.steps, "step", initial=start)

    def show(step: int, losses: dict[str, float]) -> None:
        advance(bar, step, " ".join(f"{k} {v:.4f}" for k, v in losses.items()))

    from inpaintstudio.training.trainer import TrainingStopped

    try:
        reached = trainer.train(show)
    except TrainingStopped:
        reached = trainer.step
    finally:
        bar.close()
    print(
        f"{args.family}: steps {start} -> {reached} of {settings.steps}, {trainer.seconds / 3600:.2f} h trained in total",
        file=sys.stderr,
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Score the committed state; with --ship, replace the shipped weights when it is better."""
    from inpaintstudio.evaluation import ship
    from inpaintstudio.training import state as portable

    if not args.resume or not args.validate:
        raise InputError("--validate needs --resume, and --ship needs --validate")
    state_dir = args.state or Path(portable.STATE_ROOT) / args.family
    if portable.read_info(state_dir) is None:
        raise InputError(f"{state_dir} holds no training state")
    photos = next((d for d in args.data if d.is_dir()), None)
    if photos is None:
        raise InputError("give the folder holding the validation photos with --data")
    try:
        scores = ship.score_state(args.family, state_dir, photos, device=args.device)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from exc
    job, candidate = next(iter(scores.items()))
    shipped = ship.shipped_scores(args.family, job)
    verdict = ship.compare(candidate, shipped)
    print(
        f"{args.family} state, {job}: PSNR {candidate['psnr']:.2f} dB, L1 {candidate['l1']:.4f}, detail "
        f"{candidate['detail']:.2f} on {candidate['images']} validation photos; {verdict.reason}"
    )
    shipped_now = False
    if args.ship and verdict.better:
        notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
        spec = ship.ship(args.family, state_dir, scores, notes)
        shipped_now = True
        print(f"shipped: models/{spec.file} ({spec.size / 2**20:.1f} MiB), card models/{spec.card}")
    note = "shipped" if shipped_now else ("better, not shipped" if verdict.better else "not better than shipped")
    portable.update_last_ledger_row(
        state_dir,
        {
            "val_psnr": f"{candidate['psnr']:.2f}",
            "val_l1": f"{candidate['l1']:.4f}",
            "val_detail": f"{candidate['detail']:.2f}",
            "note": f"{job}: {note}",
        },
    )
    return 0
