"""Contextual attention against a direct transcription of the spec's nine steps with convolutions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaintstudio.networks.attention import ContextualAttention


def _reference(f, b, mask, ksize=3, rate=2, fuse_k=3, scale=10.0, fuse=True):
    """One sample at a time, as the original: conv2d for scores and fuse, conv_transpose2d for pasting."""
    n, c, h, w = f.shape
    m = F.interpolate(mask, size=(h, w), mode="nearest")
    outs = []
    for i in range(n):
        bi = b[i : i + 1]
        raw = F.unfold(bi, 2 * rate, padding=rate // 2, stride=rate)  # 1 x (C*16) x L
        raw = raw.view(c, 2 * rate, 2 * rate, -1).permute(3, 0, 1, 2)  # L x C x 4 x 4
        fs = F.interpolate(f[i : i + 1], scale_factor=1 / rate, mode="nearest")
        bs = F.interpolate(bi, scale_factor=1 / rate, mode="nearest")
        ms = F.interpolate(m[i : i + 1], scale_factor=1 / rate, mode="nearest")
        hs, ws = bs.shape[-2:]
        kern = F.unfold(bs, ksize, padding=ksize // 2).view(c, ksize, ksize, -1).permute(3, 0, 1, 2)
        norms = kern.flatten(1).norm(dim=1).clamp_min(1e-4).view(-1, 1, 1, 1)
        scores = F.conv2d(fs, kern / norms, padding=ksize // 2)  # 1 x L x hs x ws
        if fuse:
            eye = torch.eye(fuse_k, dtype=f.dtype).view(1, 1, fuse_k, fuse_k)
            y = scores.view(1, 1, hs * ws, hs * ws)
            y = F.conv2d(y, eye, padding=fuse_k // 2)
            y = y.view(1, hs, ws, hs, ws).permute(0, 2, 1, 4, 3).reshape(1, 1, hs * ws, hs * ws)
            y = F.conv2d(y, eye, padding=fuse_k // 2)
            y = y.view(1, ws, hs, ws, hs).permute(0, 2, 1, 4, 3)
            scores = y.reshape(1, hs * ws, hs, ws)
        mpatch = F.unfold(ms, ksize, padding=ksize // 2)  # 1 x k*k x L
        valid = (mpatch.mean(dim=1) == 0).to(f.dtype).view(1, -1, 1, 1)
        attn = F.softmax(scores * valid * scale, dim=1) * valid
        outs.append(F.conv_transpose2d(attn, raw, stride=rate, padding=rate // 2) / 4.0)
    return torch.cat(outs)


def _features(n=2, c=4, h=16, w=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    mask = torch.zeros(n, 1, 4 * h, 4 * w, dtype=torch.float64)
    mask[0, :, 16:40, 24:64] = 1
    mask[-1, :, 4:30, 50:90] = 1
    return x, mask


@pytest.mark.parametrize("fuse", [True, False])
def test_matches_the_convolution_reference(fuse):
    x, mask = _features()
    layer = ContextualAttention(fuse=fuse)
    out = layer(x, x, mask)
    ref = _reference(x, x, mask, fuse=fuse)
    assert out.shape == x.shape
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=1e-8)


def test_float32_and_separate_background():
    x, mask = _features(n=1, c=8, h=8, w=8, seed=3)
    fg, bg = x.float(), (x.flip(-1) * 0.5).float()
    out = ContextualAttention()(fg, bg, mask.float())
    ref = _reference(fg, bg, mask.float())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_batch_is_processed_sample_by_sample():
    x, mask = _features(n=3)
    layer = ContextualAttention()
    whole = layer(x, x, mask)
    for i in range(3):
        torch.testing.assert_close(whole[i : i + 1], layer(x[i : i + 1], x[i : i + 1], mask[i : i + 1]))


def test_no_valid_candidate_gives_zeros():
    x, _ = _features(n=1)
    mask = torch.ones(1, 1, 64, 96, dtype=torch.float64)
    assert torch.count_nonzero(ContextualAttention()(x, x, mask)) == 0


def test_sizes_must_be_multiples_of_the_rate():
    x = torch.zeros(1, 2, 7, 8)
    with pytest.raises(ValueError, match="multiple"):
        ContextualAttention()(x, x, torch.zeros(1, 1, 28, 32))
