"""Pre- and post-processing shared by every inpainter, written once.

- :func:`grow_canvas`: outpainting as an extent rectangle; the new area becomes hole.
- :func:`plan_regions`: where to work: one crop per group of nearby holes (with a context margin, widened
  where a sampling exclusion takes context away), or the whole canvas for small images and for the resize
  strategy.
- :func:`prepare` / :func:`restore`: scale a crop to the model's working size and pad it to the
  model's multiple, and undo both.
- :func:`paste_holes`: copy only hole pixels into the output, so every other pixel stays bit-identical.
- :func:`achromatic` / :func:`desaturate`: a fill around a black-and-white region stays black and white.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inpaintstudio.geometry import Rect, mask_bbox

# Above this many separate holes, merge them all into one region: per-region overhead would dominate.
MAX_REGIONS = 64
# When the crops would cover most of the canvas anyway, one pass over the whole canvas is cheaper.
WHOLE_CANVAS_FRACTION = 0.5


def grow_canvas(
    image: np.ndarray, mask: np.ndarray, sketch: np.ndarray | None, canvas: Rect
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[int, int]]:
    """Place the image inside ``canvas`` (image coordinates) and mark the new area as hole.

    The new area is seeded by replicating the border pixels: learned models never see it (it is hole),
    but diffusion and patch methods start from a sensible colour instead of black.
    """
    left, top, right, bottom = canvas.padding_around(Rect.of_array(image))
    if canvas == Rect.of_array(image):
        return image, mask, sketch, (0, 0)
    grown = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
    hole = np.pad(mask, ((top, bottom), (left, right)), constant_values=True)
    new_sketch = None if sketch is None else np.pad(sketch, ((top, bottom), (left, right)))
    return grown, hole, new_sketch, (left, top)


def pad_map(layer: np.ndarray, canvas: Rect) -> np.ndarray:
    """An image-sized bool map placed inside ``canvas`` (image coordinates), False in the new area."""
    left, top, right, bottom = canvas.padding_around(Rect.of_array(layer))
    if not (left or top or right or bottom):
        return layer
    return np.pad(layer, ((top, bottom), (left, right)))


def auto_margin(hole_box: Rect, factor: float = 0.5) -> int:
    """Context to keep around a hole: ``factor`` times its size, at least 32 px."""
    return max(32, int(factor * max(hole_box.w, hole_box.h)))


def _merge_overlapping(rects: list[Rect]) -> list[Rect]:
    merged = list(rects)
    changed = True
    while changed:
        changed = False
        out: list[Rect] = []
        for rect in merged:
            for i, other in enumerate(out):
                if not rect.intersect(other).is_empty():
                    out[i] = other.union(rect)
                    changed = True
                    break
            else:
                out.append(rect)
        merged = out
    return merged


def _grow_to_min_side(rect: Rect, min_side: int, bounds: Rect) -> Rect:
    w = min(bounds.w, max(rect.w, min_side))
    h = min(bounds.h, max(rect.h, min_side))
    x = min(max(bounds.x, rect.x - (w - rect.w) // 2), bounds.right - w)
    y = min(max(bounds.y, rect.y - (h - rect.h) // 2), bounds.bottom - h)
    return Rect(x, y, w, h)


def _usable(hole: np.ndarray, exclude: np.ndarray, rect: Rect) -> int:
    """How many pixels of ``rect`` a fill may copy from: known and not excluded."""
    rows, cols = rect.slices()
    return rect.area - int(np.count_nonzero(hole[rows, cols] | exclude[rows, cols]))


def _context(component: Rect, margin: int, hole: np.ndarray, exclude: np.ndarray | None, bounds: Rect) -> Rect:
    """The crop around one hole: ``margin`` on every side, widened (the margin doubled, as often as it
    takes) until the pixels a fill may copy from are as many as the crop would hold without the exclusion,
    so an exclusion beside the hole never leaves the model with nothing, or only a sliver, to copy from."""
    rect = component.expanded(margin).intersect(bounds)
    if exclude is None:
        return rect
    rows, cols = rect.slices()
    wanted = rect.area - int(np.count_nonzero(hole[rows, cols]))
    while rect != bounds and _usable(hole, exclude, rect) < wanted:
        margin *= 2
        rect = component.expanded(margin).intersect(bounds)
    return rect


def plan_regions(
    hole: np.ndarray,
    *,
    native_size: int | None,
    strategy: str = "crop",
    margin: int | None = None,
    min_side: int = 1,
    exclude: np.ndarray | None = None,
    context: float = 0.5,
) -> list[Rect]:
    """The rectangles to fill, pairwise disjoint, together containing every hole pixel.

    Only the bounding box of the holes is examined (and, with a sampling exclusion ``exclude``, the
    crops around them), so the cost follows the holes, not the photo. ``context`` is the margin kept
    around each hole as a multiple of its size (when ``margin`` does not fix it in pixels).
    """
    height, width = hole.shape
    bounds = Rect(0, 0, width, height)
    box = mask_bbox(hole)
    if box.is_empty():
        return []
    if strategy == "resize":
        return [bounds]
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(hole[box.slices()], dtype=np.uint8), connectivity=8
    )
    if count - 1 > MAX_REGIONS:
        components = [box]
    else:
        components = [Rect(int(s[0]) + box.x, int(s[1]) + box.y, int(s[2]), int(s[3])) for s in stats[1:]]
    rects = [
        _grow_to_min_side(
            _context(c, margin if margin is not None else auto_margin(c, context), hole, exclude, bounds),
            min_side,
            bounds,
        )
        for c in components
    ]
    regions = _merge_overlapping(rects)
    covered = sum(r.area for r in regions)
    if covered >= WHOLE_CANVAS_FRACTION * bounds.area:
        return [bounds]
    return regions


@dataclass(frozen=True)
class Prepared:
    image: np.ndarray
    mask: np.ndarray
    sketch: np.ndarray | None
    scaled_size: tuple[int, int]  # (width, height) after scaling, before padding
    original_size: tuple[int, int]  # (width, height) of the crop
    exclude: np.ndarray | None = None  # the sampling exclusion, scaled and padded like the mask


def _scale_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a binary map so that every pixel touched by the original is still set (conservative)."""
    scaled = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return scaled > 1e-3


def prepare(
    image: np.ndarray,
    mask: np.ndarray,
    sketch: np.ndarray | None,
    *,
    native_size: int | None,
    pad_multiple: int,
    min_size: int = 1,
    exclude: np.ndarray | None = None,
) -> Prepared:
    """Scale the crop so its longer side fits ``native_size`` (never below ``min_size``), then pad.

    The sampling exclusion is scaled like the mask, conservatively: a working pixel that any excluded
    pixel reaches is excluded, so no source pixel of the model holds excluded colour.
    """
    h, w = mask.shape
    scale = 1.0
    if native_size is not None and max(h, w) > native_size:
        scale = native_size / max(h, w)
    if min(h, w) * scale < min_size:
        scale = min_size / min(h, w)
    if scale != 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, size, interpolation=interp)
        mask = _scale_mask(mask, size)
        if sketch is not None:
            # Area averaging keeps thin strokes alive as weak values; any touch counts as a stroke.
            sketch = (
                _scale_mask(sketch, size)
                if scale < 1
                else cv2.resize(sketch.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
            )
        if exclude is not None:
            exclude = _scale_mask(exclude, size)
    sh, sw = mask.shape
    ph = (-sh) % pad_multiple
    pw = (-sw) % pad_multiple
    if ph or pw:
        # Mirror the mask with the image, so a hole at the crop's edge is not mirrored into "known" pixels.
        image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="symmetric")
        mask = np.pad(mask, ((0, ph), (0, pw)), mode="symmetric")
        if sketch is not None:
            sketch = np.pad(sketch, ((0, ph), (0, pw)), mode="symmetric")
        if exclude is not None:
            exclude = np.pad(exclude, ((0, ph), (0, pw)), mode="symmetric")
    return Prepared(image, mask, sketch, (sw, sh), (w, h), exclude)


def restore(output: np.ndarray, prepared: Prepared) -> np.ndarray:
    """Remove the padding and scale the model's output back to the crop's size."""
    sw, sh = prepared.scaled_size
    out = output[:sh, :sw]
    if prepared.scaled_size != prepared.original_size:
        out = cv2.resize(out, prepared.original_size, interpolation=cv2.INTER_CUBIC)
    return out


# A region whose known pixels all have channels this close together is black and white (a grey photo
# stored as RGB, or a grey surface); JPEG leaves a level or two of chroma noise in such pictures.
ACHROMATIC_SPREAD = 3


def achromatic(image: np.ndarray, known: np.ndarray) -> bool:
    """Whether every known pixel of an RGB crop is grey (channels within ``ACHROMATIC_SPREAD``)."""
    if not known.any():
        return False
    r, g, b = cv2.split(np.ascontiguousarray(image))  # OpenCV: 15x faster than numpy's max over axis 2
    spread = cv2.max(cv2.max(cv2.absdiff(r, g), cv2.absdiff(g, b)), cv2.absdiff(r, b))
    return int(spread[known].max()) <= ACHROMATIC_SPREAD


def desaturate(image: np.ndarray) -> np.ndarray:
    """Luminance (ITU-R BT.601) in all three channels."""
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


def paste_holes(target: np.ndarray, source: np.ndarray, hole: np.ndarray) -> None:
    """Copy ``source`` into ``target`` where ``hole`` is set; nothing else in ``target`` changes."""
    np.copyto(target, source, where=hole[..., None] if target.ndim == 3 else hole)
