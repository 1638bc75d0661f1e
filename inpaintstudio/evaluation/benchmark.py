"""Measuring models on the same photos and masks: the engine behind ``inpaintstudio eval``.

Every model runs through the same pipeline a user's fill takes (crop / scale / pad / composite), so the
numbers describe what the app delivers, not a network in isolation. Scores are computed on 8-bit RGB,
inside the hole and over the whole image; the time is the pipeline's time per image after the model
was loaded once (loading is reported separately, not averaged in).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from inpaintstudio.document.io import imageio
from inpaintstudio.engine import registry
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.device import resolve_device
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.evaluation import metrics
from inpaintstudio.geometry import Rect

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class Case:
    """One photo and what is asked of the model: a hole, or borders to restore."""

    name: str
    image: np.ndarray  # H x W x 3 uint8, the ground truth
    hole: np.ndarray  # H x W bool: the pixels the model must produce (scored "inside the hole")
    known: Rect  # the part of the image the model is given (the whole image when inpainting)


@dataclass(frozen=True)
class Row:
    image: str
    model: str
    sketch: str
    hole_fraction: float
    l1_hole: float
    psnr_hole: float
    ssim_hole: float
    detail_hole: float
    l1_all: float
    psnr_all: float
    ssim_all: float
    seconds: float


def load_cases(
    images: Path, masks: Path | None, *, extend_fraction: float = 0.0, limit: int | None = None
) -> list[Case]:
    """Photos NAME.* with masks NAME.png (white = hole); or, with ``extend_fraction``, centre crops."""
    files = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    cases = []
    for path in files:
        image = imageio.to_uint8(imageio.load_image(path).pixels)
        h, w = image.shape[:2]
        if extend_fraction > 0:
            dx, dy = round(w * extend_fraction / 2), round(h * extend_fraction / 2)
            known = Rect(dx, dy, w - 2 * dx, h - 2 * dy)
            hole = np.ones((h, w), bool)
            hole[known.slices()] = False
        else:
            if masks is None:
                raise ValueError("a masks folder is needed unless --extend-fraction is given")
            mask_path = masks / f"{path.stem}.png"
            hole = imageio.load_binary_map(mask_path, (w, h), "the mask")
            known = Rect(0, 0, w, h)
        if hole.any():
            cases.append(Case(path.stem, image, hole, known))
    return cases


def sketch_for(image: np.ndarray, hole: np.ndarray, working_size: int | None) -> np.ndarray:
    """The ground truth's edges inside the hole, detected at the model's working scale.

    Edges found at full resolution and then scaled down would be denser and thicker than the strokes a
    model sees in training or from a user, so they are found at the scale the model will work at and
    scaled up to the photo (nearest), which the pipeline scales back down.
    """
    from inpaintstudio.training.sketch import sketch_from_ground_truth

    h, w = hole.shape
    scale = min(1.0, (working_size or max(h, w)) / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_hole = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        edges = sketch_from_ground_truth(small, small_hole)
        return cv2.resize(edges.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool) & hole
    return sketch_from_ground_truth(image, hole)


def score(truth: np.ndarray, output: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    return {
        "l1_hole": metrics.l1(truth, output, hole),
        "psnr_hole": metrics.psnr(truth, output, hole),
        "ssim_hole": metrics.ssim(truth, output, hole),
        "detail_hole": metrics.detail_ratio(output, truth, hole),
        "l1_all": metrics.l1(truth, output),
        "psnr_all": metrics.psnr(truth, output),
        "ssim_all": metrics.ssim(truth, output),
    }


PLAIN = "plain"


def split_variant(entry: str) -> tuple[str, bool]:
    """``"deepfillv2:plain"`` -> ("deepfillv2", True): a learned model without its post-processing
    (full-resolution detail, seamless join), to measure what the post-processing adds."""
    model, _, variant = entry.partition(":")
    if variant not in ("", PLAIN):
        raise ValueError(f"unknown variant '{variant}' of '{model}' (only ':{PLAIN}')")
    return model, variant == PLAIN


def evaluate(
    cases: list[Case],
    models: Iterable[str],
    *,
    sketch: str = "none",
    device: str = "auto",
    on_row: Callable[[Row], None] | None = None,
    cache: ModelCache | None = None,
    sizes: Mapping[str, int] | None = None,
) -> list[Row]:
    """Every model on every case, model by model; ``cache`` keeps models loaded across calls (a Ray
    worker of ``eval --ray`` scores one photo per call). ``sizes``: {model: working size} for models to
    run at another working size than their own (``eval --working-size``; FillRequest.working_size)."""
    rows: list[Row] = []
    cache = cache or ModelCache()
    for entry in models:
        model, plain = split_variant(entry)
        cls = registry.get(model)
        caps = cls.capabilities()
        working_size = (sizes or {}).get(model)
        use_sketch = sketch == "auto" and caps.sketch
        sketch_scale = working_size or caps.working_size
        # Load once before timing, so the per-image time is the fill alone.
        cache.get(cls, resolve_device(device) if cls.learned else "cpu", JobContext())
        for case in cases:
            h, w = case.hole.shape
            given = case.image[case.known.slices()]
            if case.known == Rect(0, 0, w, h):
                request = FillRequest(
                    case.image,
                    case.hole,
                    model,
                    sketch=sketch_for(case.image, case.hole, sketch_scale) if use_sketch else None,
                    device=device,
                    detail=not plain,
                    blend=not plain,
                    working_size=working_size,
                )
            else:
                request = FillRequest(
                    np.ascontiguousarray(given),
                    np.zeros(given.shape[:2], bool),
                    model,
                    extent=Rect(-case.known.x, -case.known.y, w, h),
                    device=device,
                    detail=not plain,
                    blend=not plain,
                    working_size=working_size,
                )
            started = time.perf_counter()
            result = run_fill(request, JobContext(), cache)
            seconds = time.perf_counter() - started
            row = Row(
                case.name,
                entry,
                "auto" if use_sketch else "none",
                float(case.hole.mean()),
                seconds=seconds,
                **score(case.image, result.image, case.hole),
            )
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


METRIC_COLUMNS = ("l1_hole", "psnr_hole", "ssim_hole", "detail_hole", "l1_all", "psnr_all", "ssim_all", "seconds")


def summarise(rows: list[Row]) -> list[dict[str, object]]:
    """Mean per (model, sketch) in first-seen order."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.model, row.sketch), []).append(row)
    summary = []
    for (model, sketch), group in groups.items():
        entry: dict[str, object] = {"model": model, "sketch": sketch, "images": len(group)}
        for column in METRIC_COLUMNS:
            entry[column] = float(np.mean([getattr(r, column) for r in group]))
        summary.append(entry)
    return summary


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    from inpaintstudio.atomic import atomic_write

    if not rows:
        return
    with atomic_write(path, "w") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def rows_as_dicts(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]


def markdown_table(summary: list[dict[str, object]]) -> str:
    header = (
        "| model | sketch | images | L1 hole | PSNR hole | SSIM hole | detail hole | L1 all | PSNR all | SSIM all "
        "| s / image |"
    )
    lines = [header, "|" + "---|" * 11]
    for e in summary:
        lines.append(
            f"| {e['model']} | {e['sketch']} | {e['images']} | {e['l1_hole']:.4f} | {e['psnr_hole']:.2f} | "
            f"{e['ssim_hole']:.4f} | {e['detail_hole']:.2f} | {e['l1_all']:.4f} | {e['psnr_all']:.2f} | {e['ssim_all']:.4f} | "
            f"{e['seconds']:.3f} |"
        )
    return "\n".join(lines)
