"""Running one fill: checks, canvas growth, regions, the model, compositing.

:func:`run_fill` is what the command line, the job runner and the tests call. It never modifies the
request's arrays and the result differs from the input only at hole pixels (and in the new area when
extending), which the tests check bit for bit. The result shares the request's image and carries the
filled regions as patches, so nothing here touches every pixel of a large photo.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import replace

import numpy as np

from inpaintstudio.engine import postprocess, processing, registry
from inpaintstudio.engine.base import Inpainter
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.device import resolve_device
from inpaintstudio.engine.request import FillRequest, FillResult, Patch
from inpaintstudio.errors import CapabilityError, InputError, ModelUnavailableError
from inpaintstudio.geometry import Rect

# Extending by more than this many times the image on a side is refused: the result would be invented
# almost entirely, and the canvas could exhaust memory.
MAX_EXTEND_FACTOR = 2.0
# A larger extension proceeds in steps that each add at most this fraction of the current canvas on a
# side: every model sees a band it can fill from nearby context (SRN is trained to double a crop at
# most), and the user sees progress and can cancel between steps.
EXTEND_STEP_FRACTION = 0.5


class ModelCache:
    """Keeps the most recently used inpainter loaded; switching model or device releases the old one."""

    def __init__(self) -> None:
        self._key: tuple[str, str] | None = None
        self._instance: Inpainter | None = None
        self._lock = threading.Lock()

    def get(self, cls: type[Inpainter], device: str, ctx: JobContext) -> Inpainter:
        with self._lock:
            key = (cls.name, device)
            if self._key != key or self._instance is None:
                self.release_locked()
                instance = cls(device=device if cls.learned else "cpu")
                instance.load(ctx)
                self._key, self._instance = key, instance
            return self._instance

    def holds(self, name: str) -> bool:
        """Whether ``name`` is loaded (on some device): its next fill there starts without loading."""
        with self._lock:
            return self._key is not None and self._key[0] == name and self._instance is not None

    def release(self) -> None:
        with self._lock:
            self.release_locked()

    def release_locked(self) -> None:
        if self._instance is not None:
            self._instance.unload()
            self._instance = None
            self._key = None
            gc.collect()


default_cache = ModelCache()


def check_request(request: FillRequest, cls: type[Inpainter]) -> None:
    """Refuse what cannot work, before any time is spent."""
    status = cls.status()
    if not status.ready:
        message = status.message or f"model '{cls.name}' cannot run here ({status.state})"
        raise ModelUnavailableError(message, remedy=status.remedy)
    canvas, image = request.canvas, request.image_rect
    caps = cls.capabilities()
    if request.extends:
        if not canvas.contains(image):
            raise InputError("the extent must contain the whole image (cropping is not part of a fill)")
        if not caps.outpaint:
            raise CapabilityError(f"model '{cls.name}' cannot extend borders; choose a model that supports outpainting")
        left, top, right, bottom = canvas.padding_around(image)
        if max(left, right) > MAX_EXTEND_FACTOR * image.w or max(top, bottom) > MAX_EXTEND_FACTOR * image.h:
            raise InputError(
                f"extending by more than {MAX_EXTEND_FACTOR:g} times the image size on a side is not supported"
            )
    if request.exclude is not None and caps.exclude:
        check_exclusion(request.mask, request.exclude)


def check_exclusion(mask: np.ndarray, exclude: np.ndarray) -> None:
    """Refuse an exclusion that leaves nothing to copy from: the model would have to invent the whole
    fill (or, PatchMatch, could not fill at all), which is not what the user asked for. A hole over the
    whole image is not refused here: there was nothing to copy from before the exclusion either."""
    known = ~np.asarray(mask, bool)
    exclude = np.asarray(exclude, bool)
    if (known & exclude).any() and not (known & ~exclude).any():
        raise InputError(
            "the sampling exclusion covers every pixel outside the hole, so there is nothing left to copy "
            "from; erase part of the exclusion"
        )


def extension_steps(request: FillRequest) -> list[tuple[int, int, int, int]]:
    """The padding (left, top, right, bottom) each step adds, in order; one step for a small extension."""
    if not request.extends:
        return [(0, 0, 0, 0)]
    pads = request.canvas.padding_around(request.image_rect)
    w, h = request.image_rect.w, request.image_rect.h
    steps, done = [], [0, 0, 0, 0]
    while done != list(pads):
        cw, ch = w + done[0] + done[2], h + done[1] + done[3]
        limit = [cw, ch, cw, ch]
        step = [
            min(p - d, max(1, int(EXTEND_STEP_FRACTION * lim))) for p, d, lim in zip(pads, done, limit, strict=True)
        ]
        steps.append(tuple(step))
        done = [d + s for d, s in zip(done, step, strict=True)]
    return steps


def run_fill(request: FillRequest, ctx: JobContext | None = None, cache: ModelCache | None = None) -> FillResult:
    ctx = ctx or JobContext()
    cache = cache or default_cache
    cls = registry.get(request.model)
    check_request(request, cls)
    steps = extension_steps(request)
    if len(steps) == 1:
        return _fill_once(request, cls, ctx, cache)
    return _fill_in_steps(request, cls, steps, ctx, cache)


def _fill_in_steps(
    request: FillRequest,
    cls: type[Inpainter],
    steps: list[tuple[int, int, int, int]],
    ctx: JobContext,
    cache: ModelCache,
) -> FillResult:
    """A large extension as a series of fills, each growing the last one's result by a band."""
    started = time.perf_counter()
    image, mask, sketch, exclude = request.image, request.mask, request.sketch, request.exclude
    filled = np.asarray(request.mask, bool)
    result = None
    for index, (left, top, right, bottom) in enumerate(steps):
        ctx.check_cancelled()
        stage = ctx.stage(index / len(steps), (index + 1) / len(steps))
        stage.progress(0.0, f"extending borders, step {index + 1} of {len(steps)}")
        h, w = image.shape[:2]
        canvas = Rect(-left, -top, w + left + right, h + top + bottom)
        step = replace(request, image=image, mask=mask, sketch=sketch, exclude=exclude, extent=canvas)
        result = _fill_once(step, cls, stage, cache)
        filled = np.pad(filled, ((top, bottom), (left, right)), constant_values=True)
        image, mask, sketch = result.image, np.zeros(result.image.shape[:2], bool), None
        # The band just filled was copied from allowed pixels: the next step may copy from it too.
        exclude = None if exclude is None else processing.pad_map(exclude, canvas)
    assert result is not None
    left, top, right, bottom = request.canvas.padding_around(request.image_rect)
    base = processing.grow_canvas(np.asarray(request.image), np.asarray(request.mask), None, request.canvas)[0]
    whole = Patch(Rect.of_array(base), np.asarray(result.image), filled)
    return FillResult(
        base,
        (whole,),
        (left, top),
        (request.image_rect.w, request.image_rect.h),
        cls.name,
        result.device,
        time.perf_counter() - started,
        tuple(dict.fromkeys(ctx.notices)),  # each step may note the same thing
    )


def _fill_once(request: FillRequest, cls: type[Inpainter], ctx: JobContext, cache: ModelCache) -> FillResult:
    started = time.perf_counter()
    device = resolve_device(request.device) if cls.learned else "cpu"

    canvas, hole, sketch, offset = processing.grow_canvas(
        np.asarray(request.image), np.asarray(request.mask), request.sketch, request.canvas
    )
    source = (request.image_rect.w, request.image_rect.h)
    caps = cls.capabilities()
    working_size = request.working_size or caps.working_size
    exclude = None
    if request.exclude is not None and request.exclude.any():
        exclude = processing.pad_map(request.exclude, request.canvas)
    # Only the holes' bounding box is scanned (and the crops around them); an empty plan means an empty mask.
    regions = processing.plan_regions(
        hole,
        native_size=working_size,
        strategy=request.strategy,
        margin=request.margin,
        context=caps.context,
        min_side=caps.min_size,
        exclude=exclude if caps.exclude else None,
    )
    if sketch is not None and not caps.sketch:
        # strokes the user keeps elsewhere in the photo are not this fill's business
        if any(sketch[region.slices()].any() for region in regions):
            ctx.notice(f"model '{cls.name}' does not use sketch strokes; they were ignored")
        sketch = None
    if exclude is not None and not caps.exclude:
        if any(exclude[region.slices()].any() for region in regions):
            ctx.notice(
                f"model '{cls.name}' spreads the colours at the hole's edge inward and cannot leave out a sampling "
                "area; the exclusion was ignored (PatchMatch, DeepFill v2 and CSA honour it)"
            )
        exclude = None
    if not regions:
        ctx.notice("the mask is empty: nothing to fill, the image is unchanged")
        return FillResult(
            canvas, (), offset, source, cls.name, device, time.perf_counter() - started, tuple(ctx.notices)
        )

    ctx.progress(0.0, f"loading {cls.name}")
    ctx.check_cancelled()
    inpainter = cache.get(cls, device, ctx)
    patches: list[Patch] = []
    for index, region in enumerate(regions):
        ctx.check_cancelled()
        stage = ctx.stage(
            0.05 + 0.95 * index / len(regions), 0.05 + 0.95 * (index + 1) / len(regions), working_size=working_size
        )
        stage.progress(0.0, f"filling region {index + 1} of {len(regions)}")
        rows, cols = region.slices()
        region_hole = hole[rows, cols]
        # Excluded hole pixels are filled like the rest; only known pixels can be excluded from copying.
        region_exclude = None if exclude is None else exclude[rows, cols] & ~region_hole
        if region_exclude is not None and not region_exclude.any():
            region_exclude = None
        prepared = processing.prepare(
            canvas[rows, cols],
            region_hole,
            None if sketch is None else sketch[rows, cols],
            native_size=working_size,
            pad_multiple=caps.pad_multiple,
            min_size=caps.min_size,
            exclude=region_exclude,
        )
        # Only inpainters that honour an exclusion are given one (the keyword is theirs alone).
        extra = {} if prepared.exclude is None else {"exclude": prepared.exclude}
        if request.detail:
            filled, attention = inpainter.inpaint_with_attention(
                prepared.image, prepared.mask, prepared.sketch, stage, **extra
            )
        else:
            filled, attention = inpainter.inpaint(prepared.image, prepared.mask, prepared.sketch, stage, **extra), None
        if filled.shape != prepared.image.shape or filled.dtype != np.uint8:
            raise RuntimeError(f"{cls.name} returned {filled.shape} {filled.dtype}, expected {prepared.image.shape}")
        # The patch starts as a copy of the region, so pixels outside the hole stay bit-identical.
        pixels = np.array(canvas[rows, cols], copy=True)
        restored = processing.restore(filled, prepared)
        restored = postprocess.finish(
            cls,
            canvas[rows, cols],
            region_hole,
            restored,
            prepared,
            attention,
            join=request.blend,
            add_detail=request.detail,
            exclude=region_exclude,
        )
        if processing.achromatic(pixels, ~region_hole):
            # Learned models trained on colour photos tint a black-and-white picture's holes.
            restored = processing.desaturate(restored)
        processing.paste_holes(pixels, restored, region_hole)
        patches.append(Patch(region, pixels, region_hole))
        stage.progress(1.0)
    device_used = getattr(inpainter, "device", device)
    ctx.progress(1.0, "done")
    return FillResult(
        canvas, tuple(patches), offset, source, cls.name, device_used, time.perf_counter() - started, tuple(ctx.notices)
    )
