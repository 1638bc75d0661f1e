"""``inpaintstudio train``: train a model family on a folder of photos, resumably; export it.

inpaintstudio train deepfillv2 --data PHOTOS --run runs/deepfill --steps 20000 [--minutes 60]
inpaintstudio train deepfillv2 --run runs/deepfill --export models/ [--name deepfillv2]
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
    parser.add_argument("--run", type=Path, required=True, help="run folder (checkpoint, logs, samples)")
    parser.add_argument("--data", type=Path, action="append", default=[], help="folder of photos (repeatable)")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="LIST", help="file naming photos to leave out"
    )
    parser.add_argument("--steps", type=int, default=20000, help="total steps of the run")
    parser.add_argument("--minutes", type=float, help="stop after this long (with a checkpoint); run again to continue")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=128, help="training crop side in pixels")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--net", action="append", default=[], metavar="KEY=VALUE", help="network config override")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="loss/recipe option")
    parser.add_argument("--vgg", type=Path, help="a torchvision VGG-16/19 state dict for perceptual features")
    parser.add_argument("--sample-every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--export", type=Path, metavar="MODELS_DIR", help="write the run's generator as shipped weights"
    )
    parser.add_argument("--name", help="model name for --export (default: the family)")
    parser.add_argument("--working-size", type=int, help="with --export: the side the app scales crops to")
    parser.add_argument("--notes", type=Path, help="with --export: Markdown added to the model card")


def run(args: argparse.Namespace) -> int:
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

    settings = TrainSettings(
        family=args.family,
        data=[str(d) for d in args.data],
        run=str(args.run),
        steps=args.steps,
        batch_size=args.batch,
        crop=args.crop,
        lr=args.lr,
        device=args.device,
        exclude_lists=[str(e) for e in args.exclude],
        minutes=args.minutes,
        sample_every=args.sample_every,
        seed=args.seed,
        threads=args.threads,
        network=_key_values(args.net),
        options=_key_values(args.set),
        vgg=str(args.vgg) if args.vgg else None,
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
