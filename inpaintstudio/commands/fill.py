"""``inpaintstudio fill``: fill one photo's holes (and/or extend its borders) into an output file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaintstudio.commands import common
from inpaintstudio.engine.context import JobContext


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fill",
        help="fill the holes of one image",
        description="Fill the white (>= 50%%) area of MASK in IMAGE and write OUT. Unmasked pixels stay exact "
        "when OUT is lossless (PNG, TIFF).",
    )
    parser.add_argument("image", type=Path, metavar="IMAGE")
    parser.add_argument("--mask", type=Path, help="image of the same size; white = hole")
    parser.add_argument("--sketch", type=Path, help="image of the same size; white = edge strokes that guide the fill")
    parser.add_argument(
        "--exclude",
        type=Path,
        metavar="EXCL",
        help="image of the same size; white = never copy from here (patchmatch, deepfillv2, csa)",
    )
    parser.add_argument(
        "--extend",
        metavar="LEFT,TOP,RIGHT,BOTTOM",
        help="add this many pixels on each side and fill them (needs a model that can extend borders)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="where to write the result")
    common.add_fill_options(parser)


def run(args: argparse.Namespace) -> int:
    bar = common.progress_bar(1.0, "fill", bar_format=common.FRACTION_BAR)
    ctx = JobContext(progress=lambda fraction, text: common.advance(bar, fraction, text))
    try:
        outcome = common.fill_file(
            args.image,
            args.output,
            mask=args.mask,
            sketch=args.sketch,
            exclude=args.exclude,
            extend=common.parse_extend(args.extend),
            model=args.model,
            device=args.device,
            strategy=args.strategy,
            max_pixels=common.pixel_limit(args),
            quality=args.quality,
            ctx=ctx,
            overwrite=args.overwrite,
        )
    finally:
        bar.close()
    for notice in outcome.notices:
        print(f"inpaintstudio: note: {notice}", file=sys.stderr)
    print(f"wrote {args.output} ({outcome.model}, {outcome.seconds:.2f} s)")
    return 0
