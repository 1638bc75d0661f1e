"""``inpaintstudio eval``: run several models on the same photos and masks and score them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaintstudio import cluster
from inpaintstudio.commands.common import advance, check_writable, progress_bar
from inpaintstudio.engine import registry
from inpaintstudio.engine.device import DEVICE_CHOICES
from inpaintstudio.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score models on photos with masks (L1, PSNR, SSIM, time)",
        description="For each image NAME.* in --images and mask NAME.png in --masks (white = hole), run every "
        "model and score the result inside the hole and over the whole image. With --extend-fraction F, the "
        "centre of each photo is kept and models restore the cropped borders instead.",
    )
    parser.add_argument("--images", type=Path, required=True, metavar="DIR")
    parser.add_argument("--masks", type=Path, metavar="DIR", help="masks NAME.png (not needed with --extend-fraction)")
    parser.add_argument(
        "--models",
        help="comma-separated model names (default: every ready model); MODEL:plain runs a learned model "
        "without its post-processing (full-resolution detail, seamless join), for comparison",
    )
    parser.add_argument(
        "--sketch", choices=("auto", "none"), default="none", help="auto: give sketch models the true edges"
    )
    parser.add_argument(
        "--extend-fraction", type=float, default=0.0, metavar="F", help="outpainting mode: crop F of each axis"
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument(
        "--working-size",
        action="append",
        default=[],
        metavar="MODEL=PX",
        help="run a learned model at another working size than its weights ask for (to choose one before "
        "shipping it in the manifest's config); repeatable",
    )
    parser.add_argument("--limit", type=int, help="use only the first N images")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="REPORT.csv",
        help="per-image scores; the summary goes to REPORT.summary.csv and REPORT.md",
    )
    cluster.add_ray_options(parser)


def run(args: argparse.Namespace) -> int:
    check_writable(args.out)  # before the evaluation, which takes minutes, not after it
    if not 0.0 <= args.extend_fraction < 0.9:
        raise InputError("--extend-fraction must be between 0 and 0.9")
    extend = args.extend_fraction > 0
    if not args.images.is_dir():
        raise InputError(f"{args.images} is not a folder")
    if not extend and (args.masks is None or not args.masks.is_dir()):
        raise InputError("--masks must name a folder of masks (or use --extend-fraction)")
    if args.models:
        from inpaintstudio.evaluation import benchmark

        models = [m.strip() for m in args.models.split(",") if m.strip()]
        for entry in models:
            try:
                name, _ = benchmark.split_variant(entry)
            except ValueError as exc:
                raise InputError(str(exc)) from None
            cls = registry.get(name)
            status = cls.status()
            if not status.ready:
                raise InputError(f"model '{name}' is not ready: {status.message}", remedy=status.remedy)
            if extend and not cls.capabilities().outpaint:
                raise InputError(f"model '{name}' cannot extend borders, so it cannot take part with --extend-fraction")
    else:
        models = registry.list_models(ready=True, outpaint=True if extend else None)
    # Each fill request carries its model's working size (FillRequest.working_size); nothing global changes.
    return _evaluate(args, models, extend, _working_sizes(args.working_size))


def _evaluate(args: argparse.Namespace, models: list[str], extend: bool, sizes: dict[str, int]) -> int:
    from inpaintstudio.evaluation import benchmark

    skipped = 0
    if args.ray is not None:  # the same work as a Ray job (cluster/ray_jobs.py); a bad photo is skipped
        jobs = cluster.require_ray()
        with progress_bar(None, "fill") as bar:
            rows, skipped = jobs.evaluate(args, models, sizes, bar)
        if not rows:
            raise InputError("no images with non-empty masks found")
        images = len(rows) // len(models)
    else:
        try:
            cases = benchmark.load_cases(
                args.images, args.masks, extend_fraction=args.extend_fraction, limit=args.limit
            )
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        if not cases:
            raise InputError("no images with non-empty masks found")

        with progress_bar(len(cases) * len(models), "fill") as bar:

            def on_row(row: benchmark.Row) -> None:
                advance(bar, bar.n + 1, f"{row.model} {row.image}")

            rows = benchmark.evaluate(cases, models, sketch=args.sketch, device=args.device, on_row=on_row, sizes=sizes)
        images = len(cases)
    summary = benchmark.summarise(rows)
    benchmark.write_csv(args.out, benchmark.rows_as_dicts(rows))
    base = args.out.with_suffix("")
    benchmark.write_csv(base.with_name(base.name + ".summary.csv"), summary)
    table = benchmark.markdown_table(summary)
    if sizes:
        table += "\n\nWorking sizes: " + ", ".join(f"{name} {size} px" for name, size in sizes.items())
    (base.with_name(base.name + ".md")).write_text(table + "\n", encoding="utf-8")
    print(table)
    print(
        f"{images} images x {len(models)} models; per-image scores in {args.out}"
        + (f"; {skipped} skipped" if skipped else ""),
        file=sys.stderr,
    )
    return 1 if skipped else 0


def _working_sizes(values: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for value in values:
        name, _, px = value.partition("=")
        cls = registry.get(name.strip())
        if not getattr(cls, "learned", False):
            raise InputError(f"--working-size: '{cls.name}' is not a learned model; it has no working size")
        try:
            size = int(px)
        except ValueError:
            raise InputError(f"--working-size wants MODEL=PX, got '{value}'") from None
        if not 32 <= size <= 4096:
            raise InputError(f"--working-size: {size} px is outside 32 to 4096")
        sizes[cls.name] = size
    return sizes
