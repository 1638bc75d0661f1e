"""SRN's parts: the sub-pixel expansion's parity layout, context normalisation, outpainting steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.inpainters.srn import SRNInpainter, plan_outpaint
from inpaintstudio.errors import FillCancelled
from inpaintstudio.geometry import Rect
from inpaintstudio.networks.layers import context_normalize, nhwc_expand
from inpaintstudio.networks.srn import build_srn


def test_subpixel_r1_1_r2_2_is_j_major():
    c, h, w = 64, 2, 3
    x = torch.randn(1, 2 * c, h, w)
    out = nhwc_expand(x, 1, 2)
    assert out.shape == (1, c, h, 2 * w)
    for y in range(h):
        for xx in range(w):
            for j in range(2):
                # output(y, 2x + j, k) = input(y, x, j * 64 + k)
                assert torch.equal(out[0, :, y, 2 * xx + j], x[0, j * c : (j + 1) * c, y, xx])


def test_subpixel_is_the_raw_nhwc_reshape_not_pixel_shuffle():
    c, h, w = 3, 4, 4
    x = torch.randn(1, 4 * c, h, w)
    out = nhwc_expand(x, 2, 2)
    raw = x.numpy().transpose(0, 2, 3, 1).reshape(1, 2 * h, 2 * w, c).transpose(0, 3, 1, 2)
    assert np.array_equal(out.numpy(), raw)
    assert not torch.equal(out, F.pixel_shuffle(x, 2))
    assert nhwc_expand(torch.randn(1, 2 * c, h, w), 2, 1).shape == (1, c, 2 * h, w)


def test_context_normalisation_formula_and_known_positions():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 8, 8, generator=gen, dtype=torch.float64) * 2 + 1
    mask = torch.zeros(2, 1, 16, 16, dtype=torch.float64)  # at twice the feature size: resized inside
    mask[0, :, :, 8:] = 1
    mask[1, :, 2:12, 4:] = 1
    rho = 0.5
    out = context_normalize(x, mask, rho)
    small = F.interpolate(mask, size=(8, 8), mode="nearest")[:, 0] > 0.5
    for n in range(2):
        unknown = small[n]
        assert torch.equal(out[n][:, ~unknown], x[n][:, ~unknown])
        for ch in range(3):
            xk, xu = x[n, ch][~unknown], x[n, ch][unknown]
            mu_k, var_k = xk.mean(), xk.var(unbiased=False)
            mu_u, var_u = xu.mean(), xu.var(unbiased=False)
            expected = rho * ((xu - mu_u) / torch.sqrt(var_u + 1e-5) * torch.sqrt(var_k) + mu_k) + (1 - rho) * xu
            torch.testing.assert_close(out[n, ch][unknown], expected)


def test_context_normalisation_without_known_or_unknown_is_identity():
    x = torch.randn(1, 2, 4, 4)
    for fill in (0.0, 1.0):
        assert torch.equal(context_normalize(x, torch.full((1, 1, 4, 4), fill)), x)


def _covers(steps, known: Rect, height: int, width: int) -> Rect:
    box = known
    for step in steps:
        k, c = step.known, step.canvas
        hh, ww = (width, height) if step.transposed else (height, width)
        assert c.y <= k.y and c.x <= k.x and k.y + k.h <= c.y + c.h and k.x + k.w <= c.x + c.w
        grown = c.intersect(Rect(0, 0, ww, hh))
        box = grown.transposed() if step.transposed else grown
    return box


@pytest.mark.parametrize(
    ("known", "size", "expand", "count"),
    [
        (Rect(0, 0, 64, 64), (64, 128), (2, 2), 1),  # right side only, one step
        (Rect(64, 0, 128, 64), (64, 256), (1, 2), 1),  # both sides, half each: one centred step
        (Rect(64, 0, 64, 64), (64, 192), (1, 2), 2),  # both sides, 1x each: two steps
        (Rect(40, 32, 64, 64), (128, 192), (2, 2), 2),  # all four sides, 2x image width
        (Rect(0, 0, 64, 64), (192, 64), (1, 2), 2),  # taller with a [1, 2] network: transposed steps
        (Rect(10, 10, 20, 20), (200, 300), (2, 2), 4),
    ],
)
def test_plan_reaches_the_whole_canvas(known, size, expand, count):
    steps = plan_outpaint(known, *size, expand)
    assert len(steps) == count
    assert _covers(steps, known, *size) == Rect(0, 0, size[1], size[0])
    for step in steps:
        r1, r2 = expand
        assert (step.canvas.h, step.canvas.w) == (step.known.h * r1, step.known.w * r2)
    if expand == (1, 2) and size[0] > known.h:
        assert any(step.transposed for step in steps)


def test_plan_trims_to_multiples_of_four_and_keeps_interior_holes_in_mind():
    steps = plan_outpaint(Rect(0, 0, 30, 30), 30, 50, (2, 2), native=256)
    assert steps[0].known == Rect(0, 0, 28, 28)
    assert len(plan_outpaint(Rect(0, 0, 32, 32), 32, 32, (2, 2), interior=True)) == 1
    assert plan_outpaint(Rect(0, 0, 32, 32), 32, 32, (2, 2)) == []


def _srn(expand=(2, 2)) -> SRNInpainter:
    torch.manual_seed(0)
    inst = SRNInpainter(device="cpu")
    inst.net = build_srn({"cnum": 8, "expand": list(expand)}).eval()
    return inst


@pytest.mark.parametrize("expand", [(2, 2), (1, 2)])
def test_outpainting_fills_every_new_pixel_and_keeps_known_ones(expand):
    inst = _srn(expand)
    h, w = 60, 100
    image = torch.rand(1, 3, h, w) * 2 - 1
    mask = torch.ones(1, 1, h, w)
    mask[..., 20:44, 30:62] = 0  # known 24 x 32 in the middle: all four sides grow
    sentinel = 5.0  # outside [-1, 1]: any pixel left unfilled would keep it
    image = torch.where(mask > 0, torch.full_like(image, sentinel), image)
    progress = []
    with torch.inference_mode():
        out = inst.forward(image, mask, None, JobContext(progress=lambda f, _m: progress.append(f)))
    assert out.shape == image.shape
    known = mask[0, 0] == 0
    assert torch.equal(out[0][:, known], image[0][:, known])
    assert (out.abs() <= 1).all()
    assert len(progress) >= 3 and progress[-1] == 1.0


def test_interior_holes_are_filled_with_a_notice():
    inst = _srn()
    image = torch.full((1, 3, 32, 48), 5.0)
    mask = torch.zeros(1, 1, 32, 48)
    mask[..., 10:14, 10:20] = 1
    ctx = JobContext()
    with torch.inference_mode():
        out = inst.forward(image, mask, None, ctx)
    assert (out[..., 10:14, 10:20].abs() <= 1).all()
    assert ctx.notices


def test_cancelled_between_steps():
    inst = _srn()
    image = torch.zeros(1, 3, 64, 64)
    mask = torch.ones(1, 1, 64, 64)
    mask[..., 24:40, 24:40] = 0
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(FillCancelled), torch.inference_mode():
        inst.forward(image, mask, None, ctx)
