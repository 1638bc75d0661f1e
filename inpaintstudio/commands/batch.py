"""``inpaintstudio batch``: fill every image of a folder with the mask (and, from ``--excludes``, the
sampling exclusion) of the same name.

One bad file (unreadable, wrong mask size, missing mask) is reported and skipped; the rest are still
processed, and the exit status is 1 when anything was skipped so scripts notice.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from inpaintstudio import cluster
from inpaintstudio.cli import cli_error, stopped_by
from inpaintstudio.commands import common
from inpaintstudio.document.io import imageio
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import ModelCache
from inpaintstudio.errors import InpaintStudioError, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from tqdm import tqdm

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="fill a folder of images with masks matched by file name",
        description="For each image NAME.* in --images, use the mask NAME.* in --masks and write --out/NAME.*",
    )
    parser.add_argument("--images", type=Path, required=True, metavar="DIR")
    parser.add_argument("--masks", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--excludes",
        type=Path,
        metavar="DIR",
        help="sampling exclusions matched by name like the masks (white = never copy from here); "
        "an image without one is filled without",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="created if missing")
    parser.add_argument(
        "--format",
        choices=("same", "png", "jpg", "webp", "tiff"),
        default="same",
        help="output format (default: the input's, PNG for formats that cannot be written)",
    )
    common.add_fill_options(parser, model_required=True)
    cluster.add_ray_options(parser)


def images_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def mask_for(image: Path, masks: dict[str, list[Path]]) -> Path:
    found = _by_stem(image, masks)
    if found is None:
        raise InputError(f"no mask named {image.stem}.* in the masks folder")
    return found


def _by_stem(image: Path, maps: dict[str, list[Path]]) -> Path | None:
    """The map named like ``image`` (a PNG first when there are several), or None."""
    candidates = maps.get(image.stem, [])
    return sorted(candidates, key=lambda p: (p.suffix.lower() != ".png", p.name))[0] if candidates else None


def maps_in(folder: Path) -> dict[str, list[Path]]:
    """The images of a folder of masks or exclusions, by stem."""
    maps: dict[str, list[Path]] = {}
    for path in images_in(folder):
        maps.setdefault(path.stem, []).append(path)
    return maps


def output_for(image: Path, out_dir: Path, fmt: str) -> Path:
    if fmt != "same":
        return out_dir / f"{image.stem}.{fmt}"
    suffix = image.suffix.lower()
    return out_dir / (image.name if suffix in imageio.SAVE_FORMATS else f"{image.stem}.png")


def _refuse_replacing_inputs(images: list[Path], maps: list[dict[str, list[Path]]], out_dir: Path, fmt: str) -> None:
    """Before any work: refuse an output folder where results would replace images, masks or exclusions."""
    if not out_dir.is_dir():
        return
    inputs = {common.file_id(p) for p in images + [path for by_stem in maps for g in by_stem.values() for path in g]}
    replaced = [image for image in images if common.file_id(output_for(image, out_dir, fmt)) in inputs - {None}]
    if replaced:
        raise InputError(
            f"the results would replace {len(replaced)} input file(s) in {out_dir} (e.g. {replaced[0].name}); "
            "choose another --out folder, or give --overwrite to replace them"
        )


def run(args: argparse.Namespace) -> int:
    common.check_quality(args.quality)
    images = images_in(args.images)
    if not images:
        raise InputError(f"no images found in {args.images}")
    masks = maps_in(args.masks)
    excludes = maps_in(args.excludes) if args.excludes is not None else {}
    if not args.overwrite:
        _refuse_replacing_inputs(images, [masks, excludes], args.out, args.format)
    model = common.choose_model(args.model, sketch=False, extend=False)
    with contextlib.ExitStack() as stack:
        fill_all = _fill_all
        if args.ray is not None:  # the same work as a Ray job (cluster/ray_jobs.py); its workers check the model
            fill_all = stack.enter_context(cluster.require_ray().fill_pool(args, model))
        else:
            common.check_can_run(model, args.device)  # what would fail for every image fails once
        return _fill_into(args, images, masks, excludes, model, fill_all)


def _fill_into(
    args: argparse.Namespace,
    images: list[Path],
    masks: dict[str, list[Path]],
    excludes: dict[str, list[Path]],
    model: str,
    fill_all: Callable[..., list[tuple[Path, str]]],
) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    done: list[Path] = []
    bar = common.progress_bar(len(images), "image")
    try:
        failures = fill_all(args, images, masks, excludes, model, bar, done)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the finished files stay, the one being written goes
        what, status = stopped_by(exc)
        common.say(
            f"inpaintstudio: {what} after it filled {len(done)} of {len(images)} images into {args.out}; "
            "no file was left half-written"
        )
        return status
    finally:
        bar.close()
    print(
        f"filled {len(done)} of {len(images)} images with {model} into {args.out}"
        + (f"; {len(failures)} skipped" if failures else "")
    )
    return 1 if failures else 0


def _fill_all(
    args: argparse.Namespace,
    images: list[Path],
    masks: dict[str, list[Path]],
    excludes: dict[str, list[Path]],
    model: str,
    bar: tqdm,
    done: list[Path],
) -> list[tuple[Path, str]]:
    """Fill every image, appending each one written to ``done``; returns the skipped ones with the reason."""
    cache = ModelCache()
    failures: list[tuple[Path, str]] = []
    said: set[str] = set()  # a note that holds for many images is said once, at the first
    for image in images:

        def report(fraction: float, text: str, image: Path = image) -> None:
            bar.set_postfix_str(f"{image.name} {fraction:.0%}")

        report(0.0, "")
        try:
            outcome = common.fill_file(
                image,
                output_for(image, args.out, args.format),
                mask=mask_for(image, masks),
                exclude=_by_stem(image, excludes),
                model=model,
                device=args.device,
                strategy=args.strategy,
                max_pixels=common.pixel_limit(args),
                quality=args.quality,
                cache=cache,
                ctx=JobContext(progress=report),
                overwrite=args.overwrite,
            )
            done.append(image)
            for notice in outcome.notices:
                if notice not in said:
                    said.add(notice)
                    common.say(f"{image.name}: note: {notice}")
        except InpaintStudioError as exc:
            common.say(f"{image.name}: skipped: {cli_error(exc)}")
            failures.append((image, str(exc)))
        bar.update(1)
    return failures
