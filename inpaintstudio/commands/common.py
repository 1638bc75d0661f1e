"""What the commands share: fill options, choosing a model, filling one file, the progress bar."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaintstudio.document.document import Document
from inpaintstudio.document.io import imageio
from inpaintstudio.engine import registry
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.device import DEVICE_CHOICES, resolve_device
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import STRATEGIES
from inpaintstudio.errors import InputError, ModelUnavailableError
from inpaintstudio.geometry import Rect

if TYPE_CHECKING:
    from tqdm import tqdm

AUTO = "auto"  # the best model by recorded validation scores (engine/selection.py)
LOSSY_FORMATS = ("JPEG", "WEBP")
# A bar whose total is 1.0: a percentage and the stage, without "0.4/1.0" counts.
FRACTION_BAR = "{percentage:3.0f}%|{bar}| {elapsed}{postfix}"


def positive_pixels(text: str) -> int:
    """argparse type of --max-pixels: a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of pixels, got '{text}'")
    return value


def add_fill_options(parser: argparse.ArgumentParser, *, model_required: bool = False) -> None:
    parser.add_argument(
        "--model",
        default=None if model_required else AUTO,
        required=model_required,
        help="model name (see 'inpaintstudio models'); 'auto' picks the best ready model for the job",
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where learned models run")
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="crop",
        help="large photos: work in a crop around each hole (default) or on the whole photo scaled down",
    )
    parser.add_argument("--quality", type=int, default=95, metavar="Q", help="JPEG / WebP quality 1-100 (default 95)")
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument(
        "--max-pixels",
        type=positive_pixels,
        default=imageio.DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"refuse images larger than N pixels (default {imageio.DEFAULT_MAX_PIXELS:,})",
    )
    limit.add_argument("--no-pixel-limit", action="store_true", help="accept images of any size")
    parser.add_argument(
        "--overwrite", action="store_true", help="let an output replace an input file (refused otherwise)"
    )


def pixel_limit(args: argparse.Namespace) -> int | None:
    return None if args.no_pixel_limit else args.max_pixels


def check_quality(quality: int) -> None:
    if not 1 <= quality <= 100:
        raise InputError(f"--quality must be between 1 and 100, got {quality}")


def parse_extend(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or min(values) < 0:
        raise InputError(f"--extend takes four non-negative pixel counts LEFT,TOP,RIGHT,BOTTOM, got '{text}'")
    return values  # type: ignore[return-value]


def check_can_run(name: str, device: str) -> None:
    """Fail once, before a folder of work, when the model cannot run here at all (weights, device)."""
    cls = registry.get(name)
    status = cls.status()
    if not status.ready:
        message = status.message or f"model '{name}' cannot run here ({status.state})"
        raise ModelUnavailableError(message, remedy=status.remedy)
    if cls.learned:
        resolve_device(device)


def choose_model(name: str, *, sketch: bool, extend: bool) -> str:
    """The model to run: ``name``, or for ``auto`` the best by recorded validation scores
    (engine/selection.py), saying which and why on stderr, and which models were skipped."""
    if name != AUTO:
        registry.get(name)  # unknown names fail here, with the list of known ones
        return name
    choice = registry.select("borders" if extend else "holes", sketch=sketch)
    for note in choice.notes:
        say(f"note: {note}")
    if choice.model is None:
        raise InputError(f"no model is ready for this job ({choice.reason})")
    say(f"auto: {choice.model} ({choice.reason})")
    return choice.model


def file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file: equal for every path to it (links, '..'); None if it is not there."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def check_writable(out: Path) -> None:
    """Fail before any work is done when a file could not be written at ``out``."""
    if not out.parent.is_dir():
        raise InputError(f"cannot write {out}: the folder {out.parent} does not exist")
    if out.is_dir():
        raise InputError(f"cannot write {out}: it is a folder")


def check_output_path(out: Path, inputs: tuple[Path | None, ...] = (), *, overwrite: bool = False) -> None:
    """Fail before any work is done when the result could not be written, or would replace one of
    ``inputs`` without ``overwrite``."""
    imageio.format_for(out)
    check_writable(out)
    target = file_id(out)
    if target is not None and not overwrite:
        for source in inputs:
            if source is not None and file_id(source) == target:
                raise InputError(f"{out} is an input file; choose another output, or give --overwrite to replace it")


@dataclass(frozen=True)
class FileOutcome:
    model: str
    seconds: float
    notices: tuple[str, ...]


def fill_file(
    image: Path,
    out: Path,
    *,
    mask: Path | None,
    sketch: Path | None = None,
    exclude: Path | None = None,
    extend: tuple[int, int, int, int] | None = None,
    model: str = AUTO,
    device: str = "auto",
    strategy: str = "crop",
    max_pixels: int | None = imageio.DEFAULT_MAX_PIXELS,
    quality: int = 95,
    cache: ModelCache | None = None,
    ctx: JobContext | None = None,
    overwrite: bool = False,
) -> FileOutcome:
    """Fill one photo into ``out``; ``out`` is written completely or not at all, and replaces one of the
    inputs only with ``overwrite``."""
    check_quality(quality)
    check_output_path(out, (image, mask, sketch, exclude), overwrite=overwrite)
    if mask is None and not extend:
        raise InputError("nothing to do: give a --mask, an --extend, or both")
    doc = Document.open(image, max_pixels=max_pixels)
    size = (doc.width, doc.height)
    orientation = doc.meta.orientation
    if mask is not None:
        doc.set_binary_layer("mask", imageio.load_binary_map(mask, size, "the mask", orientation), "Load mask")
    if sketch is not None:
        doc.set_binary_layer("sketch", imageio.load_binary_map(sketch, size, "the sketch", orientation), "Load sketch")
    if exclude is not None:
        excluded = imageio.load_binary_map(exclude, size, "the exclusion", orientation)
        doc.set_binary_layer("exclude", excluded, "Load exclusion")
    if extend:
        left, top, right, bottom = extend
        doc.set_extent(Rect(-left, -top, doc.width + left + right, doc.height + top + bottom))
    name = choose_model(model, sketch=bool(doc.sketch.any()), extend=doc.extent != doc.rect)
    ctx = ctx or JobContext()
    if not doc.hole().any() and doc.extent == doc.rect:
        ctx.notice("the mask is empty: the output equals the input")
        if imageio.format_for(out) == doc.meta.format and out.resolve() != Path(image).resolve():
            _copy_atomically(Path(image), out)
        else:
            for note in doc.save(out, quality=quality):
                ctx.notice(note)
        return FileOutcome(name, 0.0, tuple(ctx.notices))
    result = run_fill(doc.fill_request(name, device=device, strategy=strategy), ctx, cache)
    doc.apply_fill(result)
    if imageio.format_for(out) in LOSSY_FORMATS:
        ctx.notice(f"{out.suffix} is a lossy format: unmasked pixels are re-compressed; use .png to keep them exact")
    for note in doc.save(out, quality=quality):
        ctx.notice(note)
    return FileOutcome(result.model, result.seconds, tuple(ctx.notices))


def _copy_atomically(src: Path, dst: Path) -> None:
    from inpaintstudio.atomic import atomic_write

    with open(src, "rb") as fh_in, atomic_write(dst) as fh_out:
        shutil.copyfileobj(fh_in, fh_out)


def progress_bar(total: float | None, unit: str, **options: Any) -> tqdm:
    """A progress bar on stderr (tqdm: sized to the terminal, with the rate and the time left) when stderr
    is a terminal; nothing at all in logs and pipes. Print other lines meanwhile with :func:`say`."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, disable=None, dynamic_ncols=True, leave=False, **options)


def advance(bar: tqdm, position: float, text: str = "") -> None:
    """Move ``bar`` to ``position`` (of its total) with ``text`` beside it."""
    bar.set_postfix_str(text, refresh=False)
    bar.update(position - bar.n)


def say(text: str) -> None:
    """A line on stderr that leaves a progress bar whole (tqdm clears it and draws it again below)."""
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr)
