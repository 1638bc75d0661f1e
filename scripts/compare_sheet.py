"""Render a side-by-side sheet of fills on the validation photos: look at it after every change of weights or
post-processing.

    python scripts/compare_sheet.py --photos ../shared/data/photos --out sheet.png
    python scripts/compare_sheet.py --photos ../shared/data/photos --models telea,patchmatch,deepfillv2,deepfillv2:plain
    python scripts/compare_sheet.py --photos ../shared/data/photos --borders --models patchmatch,srn:plain,srn

One row per validation photo (models/validation.txt, with the validation masks of
inpaintstudio/evaluation/validation.py): the input with the hole tinted, then each model's fill, then the
original. ``--borders`` shows the border cases instead (the centre two thirds of each photo kept, both side
bands restored by extending it), for the models that extend. ``MODEL:plain`` runs a learned model without its post-processing (detail transfer, seamless join). Each tile is
labelled with the model and its hole PSNR / detail ratio on that photo. ``--zoom`` shows a full-resolution
crop around the largest hole instead of the whole photo (where blur and seams show).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.evaluation import metrics, validation
from inpaintstudio.evaluation.benchmark import split_variant
from inpaintstudio.geometry import Rect


def _tile(image: np.ndarray, height: int, label: str) -> np.ndarray:
    scale = height / image.shape[0]
    tile = cv2.resize(image, (max(1, round(image.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)
    canvas = Image.fromarray(np.ascontiguousarray(tile))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 8 + 6 * len(label), 14), fill=(0, 0, 0))
    draw.text((4, 2), label, fill=(255, 255, 255))
    return np.asarray(canvas)


def _zoom_box(hole: np.ndarray, side: int) -> tuple[slice, slice]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if count > 1 else 0
    x, y, w, h = (int(v) for v in stats[biggest, :4])
    cx, cy = x + w // 2, y + h // 2
    side = min(side, hole.shape[0], hole.shape[1])
    top = int(np.clip(cy - side // 2, 0, hole.shape[0] - side))
    left = int(np.clip(cx - side // 2, 0, hole.shape[1] - side))
    return slice(top, top + side), slice(left, left + side)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--models", default="telea,patchmatch,deepfillv2:plain,deepfillv2,csa")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--height", type=int, default=220, help="tile height in pixels")
    parser.add_argument("--zoom", type=int, default=0, metavar="PX", help="show a PX-sized full-resolution crop")
    parser.add_argument("--limit", type=int, help="only the first N photos")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--borders", action="store_true", help="the border cases: side bands restored")
    args = parser.parse_args()

    cases = (validation.border_cases if args.borders else validation.hole_cases)(args.photos)[: args.limit]
    cache = ModelCache()
    rows = []
    for case in cases:
        view = _zoom_box(case.hole, args.zoom) if args.zoom else (slice(None), slice(None))
        shown = case.image.copy()
        shown[case.hole] = (0.5 * shown[case.hole] + 0.5 * np.array([255, 0, 255])).astype(np.uint8)
        tiles = [_tile(shown[view], args.height, f"{case.name}")]
        for entry in args.models.split(","):
            model, plain = split_variant(entry)
            if args.borders:
                known = case.image[case.known.slices()]
                request = FillRequest(
                    np.ascontiguousarray(known), np.zeros(known.shape[:2], bool), model, device=args.device,
                    extent=Rect(-case.known.x, -case.known.y, *case.hole.shape[::-1]), detail=not plain,
                    blend=not plain,
                )  # fmt: skip
            else:
                request = FillRequest(
                    case.image, case.hole, model, device=args.device, detail=not plain, blend=not plain
                )
            result = run_fill(request, JobContext(), cache).image
            score = f"{metrics.psnr(case.image, result, case.hole):.1f}dB d{metrics.detail_ratio(result, case.image, case.hole):.2f}"
            tiles.append(_tile(result[view], args.height, f"{entry} {score}"))
        tiles.append(_tile(case.image[view], args.height, "original"))
        rows.append(np.concatenate(tiles, axis=1))
        print(case.name, flush=True)
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(args.out)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
