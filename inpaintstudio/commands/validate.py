"""``inpaintstudio validate``: score models on the validation photos; ``--record`` keeps the scores for ``auto``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaintstudio.engine import registry
from inpaintstudio.engine.device import DEVICE_CHOICES
from inpaintstudio.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="score models on the validation photos (holes and borders); --record keeps the scores for auto",
        description="Run models on the photos named in models/validation.txt, with painted masks (holes) and "
        "with the outer sixth of each side cropped away (borders), and print hole PSNR, L1 and detail ratio. "
        "--record writes them into the manifest (learned models) and models/scores.json (classical fills), "
        "which is what --model auto chooses by.",
    )
    parser.add_argument("--photos", type=Path, required=True, metavar="DIR", help="folder holding the photos")
    parser.add_argument("--models", help="comma-separated model names (default: every ready model)")
    parser.add_argument("--jobs", default="holes,borders", help="holes, borders or both (default)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--record", action="store_true", help="keep the scores (manifest, scores.json, cards)")


def run(args: argparse.Namespace) -> int:
    from inpaintstudio.evaluation import validate

    if not args.photos.is_dir():
        raise InputError(f"{args.photos} is not a folder")
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    if not jobs or any(j not in ("holes", "borders") for j in jobs):
        raise InputError("--jobs takes holes, borders or holes,borders")
    names = [m.strip() for m in args.models.split(",")] if args.models else registry.list_models(ready=True)
    for job in jobs:
        models = [n for n in names if job == "holes" or registry.capabilities(n).outpaint]
        if not models:
            continue
        try:
            scores = validate.score(job, args.photos, models, device=args.device)
        except FileNotFoundError as exc:
            raise InputError(str(exc)) from exc
        print(validate.markdown(job, scores))
        print()
        if args.record:
            done = validate.record(job, scores)
            print(f"recorded {job} scores of {', '.join(done)}", file=sys.stderr)
    return 0
