"""Attention layers without learned parameters: contextual attention and coherent semantic attention.

Contextual attention (DeepFillv2) follows the nine steps of the model spec and is vectorised per sample
as two matrix products (scores, paste) around the fuse step; samples of a batch are processed one after
the other, as the original does, so memory stays that of one sample.

Coherent semantic attention (CSA) is split into three parts:

1. search, vectorised: cosine matching of every hole position against every known position;
2. the coherence coefficients, sequential by nature: ``D_ad = <m_{i-1}, x_i / |x_i|>`` depends on the
   previous generated feature, so ``a_i = D_ad / (D_ad + D_max)`` cannot be found by a scan. This loop
   runs on detached CPU float64 arrays with preallocated buffers (a handful of numpy calls per hole
   position, no per-step allocation of feature vectors);
3. the generation itself, differentiable and vectorised: with the coefficients fixed the recurrence
   ``m_i = a_i * m_{i-1} + b_i * best_i`` is linear, and is evaluated in chunks of 64 positions with a
   lower-triangular weight matrix built by a cumulative product (no divisions) and one carry per chunk.
   The same (index, a, b) triple rebuilds the map on any other feature, which is how the CSA decoder
   reuses the encoder's attention. As in the original, gradients treat the coefficients as constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# -- contextual attention ------------------------------------------------------------------------------


def _diagonal_sum(y: torch.Tensor, k: int) -> torch.Tensor:
    """Convolution of a 2-D map with a k x k identity kernel ('SAME' zero padding): sum along diagonals."""
    out = y.clone()
    for d in range(1, k // 2 + 1):
        out[d:, d:] += y[:-d, :-d]
        out[:-d, :-d] += y[d:, d:]
    return out


class ContextualAttention(nn.Module):
    """Contextual attention of DeepFillv2 (self-attention of a feature map onto its known part).

    ``forward(f, b, mask, exclude)``: f (foreground) and b (background) are B x C x H x W with H and W
    multiples of ``rate``; mask is B x 1 x h x w at any resolution (1 = hole), resized (nearest) to H x W;
    exclude (optional, the sampling exclusion) is B x 1 x h x w (1 = never a candidate), resized so that
    any excluded pixel marks its feature position: a candidate whose window touches one is not valid,
    exactly like one that touches the hole. Returns B x C x H x W. Memory per sample: two (H/rate * W/rate)^2 score maps (about 64 MiB each for a
    512 x 512 DeepFill input, where the attention matches 64 x 64 positions against 64 x 64 candidates).
    """

    def __init__(
        self,
        ksize: int = 3,
        stride: int = 1,
        rate: int = 2,
        fuse_k: int = 3,
        softmax_scale: float = 10.0,
        fuse: bool = True,
    ) -> None:
        super().__init__()
        if stride != 1:
            raise ValueError("only stride 1 is supported (as in DeepFillv2)")
        if rate < 2 or rate % 2:
            raise ValueError("rate must be even (2 in DeepFillv2): pasted patches are 2 * rate wide")
        if ksize % 2 == 0 or fuse_k % 2 == 0:
            raise ValueError("ksize and fuse_k must be odd")
        self.ksize, self.rate, self.fuse_k = ksize, rate, fuse_k
        self.softmax_scale, self.fuse = softmax_scale, fuse
        # When set, each sample's attention (candidates x positions, on the CPU) and its grid (rows,
        # cols) are kept in ``kept`` for the app's residual aggregation; off in training.
        self.keep_attention = False
        self.kept: list[tuple[torch.Tensor, tuple[int, int]]] = []

    def forward(
        self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, exclude: torch.Tensor | None = None
    ) -> torch.Tensor:
        n, c, h, w = f.shape
        if b.shape != f.shape:
            raise ValueError("foreground and background must have the same shape")
        if h % self.rate or w % self.rate:
            raise ValueError(f"feature size {h}x{w} is not a multiple of the rate {self.rate}")
        if mask is None:
            mask = torch.zeros(n, 1, h, w, device=f.device)
        # Step 1: the mask at feature resolution (nearest).
        m = F.interpolate(mask.to(torch.float32), size=(h, w), mode="nearest")
        work = torch.float32 if f.dtype in (torch.float16, torch.bfloat16) else f.dtype  # softmax in >= fp32
        m = m.to(work)
        e = None
        if exclude is not None:
            # Max pooling, not nearest: a thin excluded stroke must not fall between sampled pixels.
            e = F.adaptive_max_pool2d(exclude.to(torch.float32), (h, w))
            e = F.max_pool2d(e, self.rate, self.rate).to(work)  # at the candidates' resolution (step 3)

        def of(t: torch.Tensor, i: int) -> torch.Tensor:  # a map given once serves every sample
            return t[min(i, t.shape[0] - 1)]

        outs = [self._attend(f[i].to(work), b[i].to(work), of(m, i), None if e is None else of(e, i)) for i in range(n)]
        return torch.stack(outs).to(f.dtype)

    def _attend(self, f: torch.Tensor, b: torch.Tensor, m: torch.Tensor, e: torch.Tensor | None) -> torch.Tensor:
        c, h, w = f.shape
        r, k = self.rate, self.ksize
        # Step 2: raw 2r x 2r background patches, stride r ('SAME': pad r/2 each side), for pasting.
        pad = r // 2
        raw = F.unfold(b[None], kernel_size=2 * r, stride=r, padding=pad)[0]  # (C*(2r)^2, L)
        # Step 3: foreground, background and mask downscaled by 1/rate (nearest).
        fs, bs, ms = f[:, ::r, ::r], b[:, ::r, ::r], m[:, ::r, ::r]
        hs, ws = fs.shape[-2:]
        # Step 4: k x k matching kernels, each divided by max(L2 norm, 1e-4).
        kern = F.unfold(bs[None], kernel_size=k, padding=k // 2)[0]  # (C*k*k, L)
        kern = kern / kern.norm(dim=0, keepdim=True).clamp_min(1e-4)
        # Step 5: a candidate is valid when its k x k mask window is entirely known (and, with a sampling
        # exclusion, touches no excluded position).
        blocked = ms if e is None else torch.maximum(ms, e)
        valid = (F.unfold(blocked[None], kernel_size=k, padding=k // 2)[0].mean(dim=0) == 0).to(f.dtype)  # (L,)
        # Step 6: cosine scores of every foreground position against every candidate: (L, P).
        cols = F.unfold(fs[None], kernel_size=k, padding=k // 2)[0]  # (C*k*k, P)
        scores = kern.t() @ cols
        # Step 7: fuse along the flattened positions, then along the transposed (W-major) ordering.
        if self.fuse:
            scores = _diagonal_sum(scores, self.fuse_k)
            scores = scores.view(hs, ws, hs, ws).permute(1, 0, 3, 2).reshape(hs * ws, hs * ws)
            scores = _diagonal_sum(scores, self.fuse_k)
            scores = scores.view(ws, hs, ws, hs).permute(1, 0, 3, 2).reshape(hs * ws, hs * ws)
        # Step 8: softmax over candidates; invalid ones are zeroed before and after (parity, not -inf).
        valid = valid[:, None]
        attn = torch.softmax(scores * valid * self.softmax_scale, dim=0) * valid
        if self.keep_attention:
            self.kept.append((attn.detach().float().cpu(), (hs, ws)))
        # Step 9: paste raw patches weighted by the attention (a transposed conv, stride r), / 4. Invalid
        # candidates have zero weight after step 8, so only valid ones enter the product: the same result
        # for about a third less work with a typical hole (the paste is the larger of the two products).
        keep = valid[:, 0].nonzero().flatten()
        pasted = raw[:, keep] @ attn[keep] if keep.numel() < valid.shape[0] else raw @ attn  # (C*(2r)^2, P)
        out = F.fold(pasted, output_size=(h, w), kernel_size=2 * r, stride=r, padding=pad)
        return out / 4.0


# -- coherent semantic attention -----------------------------------------------------------------------

CSA_CHUNK = 64
_EPS = 1e-8


@dataclass
class CSAMap:
    """The attention of one sample: hole positions (raster order), their best known position and the
    coefficients of ``m_i = a_i * m_{i-1} + b_i * best_i`` (a_0 = 0, b_0 = 1). Indices are into the
    flattened H x W positions."""

    holes: torch.Tensor  # (N_h,) long
    best: torch.Tensor  # (N_h,) long
    a: torch.Tensor  # (N_h,) float64, on the CPU
    b: torch.Tensor  # (N_h,) float64, on the CPU


def linear_recurrence(a: torch.Tensor, b: torch.Tensor, g: torch.Tensor, chunk: int = CSA_CHUNK) -> torch.Tensor:
    """``m_0 = b_0 g_0``, ``m_i = a_i m_{i-1} + b_i g_i`` for rows of g (N x C), differentiable in g.

    Within a chunk of K rows, ``m = T[:, 0] * carry + (tril(T[:, 1:]) * b) @ g`` where
    ``T[i, j + 1] = prod_{j < k <= i} a_k`` comes from one cumulative product of a K x (K + 1) matrix.
    """
    n = g.shape[0]
    out = []
    carry = torch.zeros_like(g[0])
    a64 = a.detach().to("cpu", torch.float64)
    b64 = b.detach().to("cpu", torch.float64)
    for start in range(0, n, chunk):
        ac, bc = a64[start : start + chunk], b64[start : start + chunk]
        kk = ac.shape[0]
        idx = torch.arange(kk)
        # z[k, 0] = a_k (the carry column); z[k, j + 1] = a_k when k > j, else 1.
        body = torch.where(idx[:, None] > idx[None, :], ac[:, None].expand(kk, kk), torch.ones(()).double())
        t = torch.cumprod(torch.cat([ac[:, None], body], dim=1), dim=0)
        weights = (torch.tril(t[:, 1:]) * bc[None, :]).to(g.device, g.dtype)
        block = weights @ g[start : start + chunk] + t[:, :1].to(g.device, g.dtype) * carry[None, :]
        out.append(block)
        carry = block[-1]
    return torch.cat(out) if out else g[:0]


def _coherence_coefficients(best: np.ndarray, xn: np.ndarray, dmax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sequential part of CSA on float64 arrays: best and xn are (N_h, C), dmax (N_h,)."""
    n = best.shape[0]
    a = np.zeros(n)
    b = np.ones(n)
    m_prev = best[0].copy()
    m_next = np.empty_like(m_prev)
    tmp = np.empty_like(m_prev)
    for i in range(1, n):
        d_ad = float(m_prev @ xn[i])
        den = d_ad + float(dmax[i])
        if abs(den) < _EPS:  # the original divides by zero here; keep the step finite
            den = _EPS if den >= 0 else -_EPS
        ai, bi = d_ad / den, float(dmax[i]) / den
        a[i], b[i] = ai, bi
        np.multiply(m_prev, ai, out=m_next)
        np.multiply(best[i], bi, out=tmp)
        np.add(m_next, tmp, out=m_next)
        m_prev, m_next = m_next, m_prev
    return a, b


def csa_search(x: torch.Tensor, hole: torch.Tensor, exclude: torch.Tensor | None = None) -> CSAMap:
    """Build the attention of one sample: x is C x H x W, hole is H x W bool (raster order of holes);
    ``exclude`` (H x W bool, optional): known positions that are never chosen as a hole's best match.

    ``D_max`` is the convolution of x_i with the L2-normalised known features (as in the original:
    ``<x_i, k / |k|>``); ``D_ad = <m_{i-1}, x_i / |x_i|>``.
    """
    c = x.shape[0]
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    flat = x.detach().reshape(c, -1).t().to(work)  # (N, C)
    hole = hole.reshape(-1)
    holes = torch.nonzero(hole).flatten()
    source = ~hole if exclude is None else ~hole & ~exclude.reshape(-1)
    known = torch.nonzero(source).flatten()
    if holes.numel() == 0 or known.numel() == 0:
        empty = torch.zeros(0, dtype=torch.float64)
        return CSAMap(holes[:0], holes[:0], empty, empty)
    xh = flat[holes]
    xk = flat[known]
    kn = xk / xk.norm(dim=1, keepdim=True).clamp_min(_EPS)
    dmax, j = (xh @ kn.t()).max(dim=1)  # (N_h, N_k) similarities, reduced at once
    best = known[j]
    xn = xh / xh.norm(dim=1, keepdim=True).clamp_min(_EPS)

    def host(t: torch.Tensor) -> np.ndarray:
        return t.to("cpu", torch.float64).numpy()

    a, b = _coherence_coefficients(host(flat[best]), host(xn), host(dmax))
    return CSAMap(holes, best, torch.from_numpy(a), torch.from_numpy(b))


def csa_apply(x: torch.Tensor, amap: CSAMap) -> torch.Tensor:
    """Rebuild the hole positions of one sample's feature x (C x H x W) with the attention ``amap``.

    Known positions pass through unchanged; differentiable in x (the coefficients are constants).
    """
    if amap.holes.numel() == 0:
        return x
    c, h, w = x.shape
    flat = x.reshape(c, h * w).t()  # (N, C)
    generated = linear_recurrence(amap.a, amap.b, flat[amap.best])
    return flat.index_copy(0, amap.holes, generated.to(flat.dtype)).t().reshape(c, h, w)


class CoherentSemanticAttention(nn.Module):
    """The CSA layer (1x1 patches): ``forward(x, mask) -> (y, maps)``.

    x is B x C x H x W, mask B x 1 x H x W at the same resolution (1 = hole), exclude (optional) the same
    (1 = a known position never copied from); ``maps`` is one :class:`CSAMap` per sample, to be passed
    to :meth:`reuse` for another feature of the same size.
    """

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, exclude: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[CSAMap]]:
        if mask.shape[-2:] != x.shape[-2:] or (exclude is not None and exclude.shape[-2:] != x.shape[-2:]):
            raise ValueError("the CSA mask and exclusion must have the feature's size")

        def excluded(i: int) -> torch.Tensor | None:
            return None if exclude is None else exclude[min(i, exclude.shape[0] - 1), 0] > 0.5

        maps = [csa_search(x[i], mask[min(i, mask.shape[0] - 1), 0] > 0.5, excluded(i)) for i in range(x.shape[0])]
        return self.reuse(x, maps), maps

    @staticmethod
    def reuse(x: torch.Tensor, maps: list[CSAMap]) -> torch.Tensor:
        return torch.stack([csa_apply(x[i], maps[i]) for i in range(x.shape[0])])
