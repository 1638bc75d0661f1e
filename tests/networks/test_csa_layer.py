"""The vectorised CSA layer against a straightforward loop over hole positions in raster order."""

from __future__ import annotations

import pytest
import torch

from inpaintstudio.networks.attention import CoherentSemanticAttention, csa_search, linear_recurrence
from inpaintstudio.networks.layers import feature_mask


def _reference(x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """The spec, written out: search by convolution with L2-normalised known patches, then
    m_1 = best_1 and m_i = D_ad / (D_ad + D_max) * m_{i-1} + D_max / (D_ad + D_max) * best_i."""
    c, h, w = x.shape
    out = x.clone()
    known = [(yy, xx) for yy in range(h) for xx in range(w) if not hole[yy, xx]]
    previous = None
    for yy in range(h):
        for xx in range(w):
            if not hole[yy, xx]:
                continue
            xi = x[:, yy, xx]
            d_max, best = None, None
            for ky, kx in known:
                k = x[:, ky, kx]
                score = float(xi @ (k / k.norm()))
                if d_max is None or score > d_max:
                    d_max, best = score, k
            if previous is None:
                generated = best
            else:
                d_ad = float(previous @ (xi / xi.norm()))
                generated = d_ad / (d_ad + d_max) * previous + d_max / (d_ad + d_max) * best
            out[:, yy, xx] = generated
            previous = generated
    return out


def _case(c=6, h=7, w=9, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(c, h, w, generator=gen, dtype=torch.float64) + 0.05).to(dtype)  # like post-ReLU features
    hole = torch.zeros(h, w, dtype=torch.bool)
    hole[2:5, 3:8] = True
    hole[6, 0] = True
    return x, hole


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_matches_the_reference_loop(dtype):
    x, hole = _case(dtype=dtype)
    out, maps = CoherentSemanticAttention()(x[None], hole[None, None].to(dtype))
    ref = _reference(x.double(), hole)
    torch.testing.assert_close(out[0].double(), ref, atol=1e-5, rtol=0)
    assert out.dtype == dtype
    assert len(maps) == 1 and maps[0].holes.numel() == int(hole.sum())
    known = ~hole
    assert torch.equal(out[0][:, known], x[:, known])  # known positions pass through exactly


def test_batch_and_reuse_on_another_feature():
    x0, hole = _case(seed=1)
    x1, _ = _case(seed=2)
    batch = torch.stack([x0, x1])
    mask = torch.stack([hole, hole.flip(1)])[:, None].double()
    out, maps = CoherentSemanticAttention()(batch, mask)
    torch.testing.assert_close(out[1], _reference(x1, hole.flip(1)), atol=1e-5, rtol=0)
    # The decoder's rebuild: the same best indices and coefficients on another feature.
    other = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    rebuilt = CoherentSemanticAttention.reuse(other, maps)
    amap = maps[0]
    flat = other[0].reshape(3, -1)
    previous = None
    for i, position in enumerate(amap.holes.tolist()):
        best = flat[:, amap.best[i]]
        previous = best if previous is None else amap.a[i] * previous + amap.b[i] * best
        yy, xx = divmod(position, 9)
        torch.testing.assert_close(rebuilt[0, :, yy, xx], previous, atol=1e-10, rtol=0)


def test_chunked_recurrence_equals_the_sequential_one():
    gen = torch.Generator().manual_seed(4)
    n = 23
    a = torch.rand(n, generator=gen, dtype=torch.float64) * 1.5 - 0.25
    a[0] = 0.0
    b = 1 - a
    g = torch.randn(n, 5, generator=gen, dtype=torch.float64)
    expected, m = [], torch.zeros(5, dtype=torch.float64)
    for i in range(n):
        m = a[i] * m + b[i] * g[i]
        expected.append(m)
    for chunk in (1, 5, 64):
        torch.testing.assert_close(linear_recurrence(a, b, g, chunk=chunk), torch.stack(expected))


def test_gradients_flow_through_the_generated_features():
    x, hole = _case(dtype=torch.float32)
    x = x[None].requires_grad_()
    out, _ = CoherentSemanticAttention()(x, hole[None, None].float())
    out[0][:, hole].sum().backward()
    assert x.grad is not None and x.grad[0][:, ~hole].abs().sum() > 0


def test_no_hole_or_no_known_position_is_the_identity():
    x, _ = _case()
    layer = CoherentSemanticAttention()
    for fill in (0.0, 1.0):
        out, maps = layer(x[None], torch.full((1, 1, 7, 9), fill, dtype=torch.float64))
        assert torch.equal(out[0], x) and maps[0].holes.numel() == 0


def test_search_keeps_raster_order():
    x, hole = _case()
    amap = csa_search(x, hole)
    assert amap.holes.tolist() == sorted(amap.holes.tolist())
    assert not hole.flatten()[amap.best].any()


def test_feature_mask_threshold():
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    fmask = feature_mask(mask)
    assert fmask.shape == (1, 1, 8, 8)
    assert fmask[0, 0, 2:6, 2:6].all() and fmask.sum() == 16
