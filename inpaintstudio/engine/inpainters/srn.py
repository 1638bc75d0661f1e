"""``srn``: semantic regeneration network (Wang et al., 2019) for extending borders.

The pipeline hands over a canvas whose new area is marked as hole. The known rectangle is the bounding
box of the non-hole pixels; the network was built for one expansion ratio (config ``expand`` =
[r1, r2]: canvas = r1 x known height, r2 x known width, known rectangle anywhere on it). An arbitrary
extent is reached in steps, see :func:`plan_outpaint`:

- each step grows the current known rectangle by the network's factor on every axis that still needs
  it, splitting the growth between the two sides in proportion to what each side still needs (and
  centring it when one step suffices); the part of the network's canvas outside the target is dropped
  and the result of a step becomes known for the next one;
- an axis the network cannot grow (factor 1, e.g. the [1, 2] scenes layout and a taller extent) is
  grown by a step on the transposed picture;
- a known rectangle longer than the job's working size (``ctx.working_size``: the request's, else the
  weights', else 256) is scaled down for the network and the result scaled back; otherwise the network runs at the picture's own scale (the rectangle trimmed to multiples of 4).

Holes inside the known rectangle are not what SRN was trained for: they are zeroed and handed to the
context network as unknown in the first step, which fills them from context only (a notice says so);
an inpainting model does better there. torch is imported only inside methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from inpaintstudio.engine.base import Capabilities
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.learned import LearnedInpainter
from inpaintstudio.engine.registry import register
from inpaintstudio.errors import InputError
from inpaintstudio.geometry import Rect

if TYPE_CHECKING:
    import torch

MAX_STEPS = 32
ALIGN = 4  # the known crop's sides must be multiples of this (two halvings in each sub-network)


@dataclass(frozen=True)
class Step:
    transposed: bool  # run on the transposed picture (boxes below are in that orientation)
    known: Rect  # the known crop handed to the network
    canvas: Rect  # the network's canvas in picture coordinates (may reach outside the picture)


def _axis_origin(start: int, length: int, size: int, factor: int) -> int:
    """Where a 1-D canvas of ``factor * length`` starts so that it grows ``[start, start + length)``
    towards both ends of ``[0, size)`` as needed."""
    extra = (factor - 1) * length
    before, after = start, size - start - length
    if before + after <= extra:
        grow = min(max(extra // 2, before), extra - after)
    else:
        grow = round(extra * before / (before + after))
    return start - grow


def _needs(box: Rect, height: int, width: int) -> tuple[bool, bool]:
    return (box.y > 0 or box.y + box.h < height), (box.x > 0 or box.x + box.w < width)


def _trim(box: Rect, native: int | None) -> Rect:
    """Trim a crop to multiples of ALIGN (bottom / right) when it will run unscaled; the trimmed pixels
    stay known in the picture, so nothing is lost."""
    if (native is None or max(box.h, box.w) <= native) and box.h >= ALIGN and box.w >= ALIGN:
        return Rect(box.x, box.y, box.w - box.w % ALIGN, box.h - box.h % ALIGN)
    return box


def plan_outpaint(
    known: Rect, height: int, width: int, expand: tuple[int, int], interior: bool = False, native: int | None = None
) -> list[Step]:
    """The steps that grow ``known`` to the whole ``height`` x ``width`` picture (see the module doc).

    ``interior``: there are holes inside ``known``, so at least one step is planned even when the
    known rectangle already spans the picture. ``native``: crops longer than this will be scaled;
    shorter ones are trimmed to multiples of 4 so that they run unscaled.
    """
    r1, r2 = expand
    steps: list[Step] = []
    box = known
    while len(steps) < MAX_STEPS:
        need_v, need_h = _needs(box, height, width)
        if not (need_v or need_h or (interior and not steps)):
            break
        direct = (need_v and r1 > 1) or (need_h and r2 > 1) or not (need_v or need_h)
        cur, hh, ww = (box, height, width) if direct else (box.transposed(), width, height)
        cur = _trim(cur, native)
        canvas = Rect(_axis_origin(cur.x, cur.w, ww, r2), _axis_origin(cur.y, cur.h, hh, r1), cur.w * r2, cur.h * r1)
        steps.append(Step(not direct, cur, canvas))
        grown = canvas.intersect(Rect(0, 0, ww, hh))
        box = grown if direct else grown.transposed()
    return steps


@register
class SRNInpainter(LearnedInpainter):
    name = "srn"
    label = "SRN outpainting"
    summary = "Semantic regeneration network: extends the picture beyond its borders"
    # pad_multiple 1: any size, the known crop is trimmed or scaled to multiples of 4 inside
    caps = Capabilities(outpaint=True, working_size=256, pad_multiple=1, min_size=64, context=1.0)
    # Configuration of newly trained weights (training/recipes/srn.py starts from it). expand [1, 2] is the
    # paper's scenes layout: half the canvas width known, full height as context. The faces layout [2, 2]
    # (a quarter known) reached 13.2 dB on the validation borders at 876 CPU steps, [1, 2] 15.4 dB at
    # 482: borders are restored from a whole side's context, never from a corner. width_key sets the
    # width (the registry-driven tests).
    default_config: ClassVar[dict[str, Any]] = {"cnum": 32, "expand": [1, 2], "rho": 0.5, "channel_order": "rgb"}
    width_key: ClassVar[str] = "cnum"
    # SRN hands back the photo's own pixels around its band, so the membrane join sees no step there; its
    # join compares the photo's last pixels with the band's first ones instead (blend.edge_join).
    join_at_edge: ClassVar[bool] = True
    # ... and it has no attention of its own: the full-resolution detail draws from the known cells nearest
    # in colour layout to the joined fill (engine/postprocess.py, detail.matched_attention).
    matched_detail: ClassVar[bool] = True

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> torch.nn.Module:
        from inpaintstudio.networks.srn import build_srn

        return build_srn(config)

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None, ctx: JobContext
    ) -> torch.Tensor:
        hole = mask[0, 0] > 0.5
        known = ~hole
        if not bool(known.any()):
            raise InputError(f"'{self.name}' needs part of the picture to extend; the whole crop is a hole")
        if not bool(hole.any()):
            return image
        rows = known.any(dim=1).nonzero().flatten()
        cols = known.any(dim=0).nonzero().flatten()
        box = Rect.from_edges(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        interior = bool(hole[box.y : box.y + box.h, box.x : box.x + box.w].any())
        height, width = hole.shape
        size = self.scale_of(ctx)
        steps = plan_outpaint(box, height, width, self.net.expand, interior, size)
        if interior:
            ctx.notice(
                f"'{self.name}' extends borders: holes inside the picture were filled from context only; "
                "an inpainting model does better there"
            )
        current, known_px = image.clone(), known.clone()
        for index, step in enumerate(steps):
            ctx.check_cancelled()
            ctx.progress(index / len(steps), f"{self.name}: extending, step {index + 1} of {len(steps)}")
            current, known_px = self._step(current, known_px, step, size)
        ctx.progress(1.0, f"{self.name}: done")
        return current

    def scale_of(self, ctx: JobContext) -> int:
        """The side a known crop is scaled down to: the job's working size (FillRequest.working_size, else
        the weights' or the declared one, as the pipeline sets it); outside the pipeline, the model's own."""
        return int(ctx.working_size or self.capabilities().working_size or 256)

    def _step(
        self, image: torch.Tensor, known: torch.Tensor, step: Step, size: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch
        import torch.nn.functional as F

        if step.transposed:
            image, known = image.transpose(-1, -2), known.t()
        r1, r2 = self.net.expand
        k, c = step.known, step.canvas
        crop = image[..., k.y : k.y + k.h, k.x : k.x + k.w]
        inner = (~known[k.y : k.y + k.h, k.x : k.x + k.w])[None, None].to(image.dtype)
        scale = min(1.0, size / max(k.h, k.w))
        hn = max(ALIGN, round(k.h * scale / ALIGN) * ALIGN)
        wn = max(ALIGN, round(k.w * scale / ALIGN) * ALIGN)
        resized = (hn, wn) != (k.h, k.w)
        if resized:
            crop = F.interpolate(crop, size=(hn, wn), mode="bilinear", align_corners=False, antialias=True)
            inner = (F.interpolate(inner, size=(hn, wn), mode="area") > 0).to(image.dtype)
        top = min(max(round((k.y - c.y) * hn / k.h), 0), (r1 - 1) * hn)
        left = min(max(round((k.x - c.x) * wn / k.w), 0), (r2 - 1) * wn)
        out = self.net(crop, top, left, inner if bool(inner.any()) else None)
        if resized:
            out = F.interpolate(out, size=(c.h, c.w), mode="bilinear", align_corners=False, antialias=True)
        region = c.intersect(Rect(0, 0, image.shape[-1], image.shape[-2]))
        oy, ox = region.y - c.y, region.x - c.x
        generated = out[..., oy : oy + region.h, ox : ox + region.w]
        rows, cols = slice(region.y, region.y + region.h), slice(region.x, region.x + region.w)
        image = image.clone()
        keep = known[rows, cols][None, None]
        image[..., rows, cols] = torch.where(keep, image[..., rows, cols], generated.to(image.dtype))
        known = known.clone()
        known[rows, cols] = True
        if step.transposed:
            image, known = image.transpose(-1, -2), known.t()
        return image, known
