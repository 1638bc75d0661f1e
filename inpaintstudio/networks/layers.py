"""Layers shared by the network families (attention layers live in :mod:`.attention`).

Tensor conventions: NCHW, images in [-1, 1], masks with 1 = hole (unknown) and 0 = known.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PADDING_MODES = ("same", "symmetric")


def same_padding(size: tuple[int, int], kernel: int, stride: int, dilation: int) -> tuple[int, int, int, int]:
    """TensorFlow 'SAME' padding as (left, right, top, bottom) for an input of ``size`` (H, W).

    The output has ceil(size / stride) positions; the total padding is split with the smaller half
    before, so a 3x3 stride-2 conv on an even size pads 0 before and 1 after (parity with TF).
    """
    pads = []
    effective = (kernel - 1) * dilation + 1
    for n in size:
        out = -(-n // stride)
        total = max((out - 1) * stride + effective - n, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return left, right, top, bottom


class GatedConv(nn.Module):
    """Gated convolution: one conv gives 2C channels A | B and the output is ``act(A) * sigmoid(B)``.

    ``activation`` is "elu", "relu" or None; None makes it a plain conv with ``out_channels`` outputs and
    no gate (the final RGB layers). ``upsample=True`` first doubles the size (nearest), which is the
    "gated upsample" of DeepFillv2. ``padding``: "same" follows TensorFlow (asymmetric for stride 2, so
    the official weights line up); "symmetric" is PyTorch's ``dilation * (k - 1) // 2`` on both sides.
    The parameters are ``conv.weight`` (2C x in x k x k, gate second) and ``conv.bias``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        activation: str | None = "elu",
        padding: str = "same",
        upsample: bool = False,
    ) -> None:
        super().__init__()
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, not {padding!r}")
        if activation not in ("elu", "relu", None):
            raise ValueError(f"unknown activation {activation!r}")
        self.gated = activation is not None
        self.activation = activation
        self.upsample = upsample
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        # For stride 1 and an odd kernel TF 'SAME' is symmetric, so the conv pads by itself (no copy);
        # only strided convs in 'same' mode need the explicit, possibly asymmetric, F.pad.
        self.explicit_pad = padding == "same" and stride > 1
        builtin = 0 if self.explicit_pad else dilation * (kernel_size - 1) // 2
        conv_out = 2 * out_channels if self.gated else out_channels
        self.conv = nn.Conv2d(in_channels, conv_out, kernel_size, stride, builtin, dilation)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.explicit_pad:
            x = F.pad(x, same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation))
        x = self.conv(x)
        if not self.gated:
            return x
        feat, gate = x.chunk(2, dim=1)
        feat = F.elu(feat) if self.activation == "elu" else F.relu(feat)
        return feat * torch.sigmoid(gate)


class ConvELU(nn.Module):
    """Plain conv + ELU with symmetric ('SAME' for odd kernels) padding; ``upsample`` doubles first.

    Used by SRN. ``activation=False`` gives a linear conv. Parameters: ``conv.weight``, ``conv.bias``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        activation: bool = True,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.upsample, self.activation = upsample, activation
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.explicit_pad = stride > 1
        builtin = 0 if self.explicit_pad else dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, builtin, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.explicit_pad:
            x = F.pad(x, same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation))
        x = self.conv(x)
        return F.elu(x) if self.activation else x


GATE_BIAS = 1.0


def init_for_training(module: nn.Module) -> nn.Module:
    """Initialise a fresh network so its signal survives its depth; returns the module.

    PyTorch's default conv init (uniform, a = sqrt(5)) shrinks the signal through every layer, and a gated
    layer multiplies it by sigmoid(gate) ~ 0.5 on top: through DeepFillv2's gated stacks little is left,
    and training crawls (in a 150-step overfit test on 8 crops the hole L1 stayed at 0.26 with the default
    init and reached 0.11 with this one and lr 5e-4). SRN's ungated ELU stack trained as fast with the
    default init in the same test, so it keeps it. Here feature convs get He-normal weights
    (gain for ReLU-like activations), gates get half-scale linear weights with bias +1 (sigmoid ~ 0.73:
    mostly open at the start), linear output convs get linear He-normal, all other biases 0. Loading
    trained or imported weights replaces all of this, so it only affects new training runs.
    """
    for layer in module.modules():
        if isinstance(layer, GatedConv):
            weight, bias = layer.conv.weight, layer.conv.bias
            if layer.gated:
                half = weight.shape[0] // 2
                nn.init.kaiming_normal_(weight[:half], nonlinearity="relu")
                nn.init.kaiming_normal_(weight[half:], nonlinearity="linear")
                weight.data[half:] *= 0.5
                nn.init.zeros_(bias)
                bias.data[half:] = GATE_BIAS
            else:
                nn.init.kaiming_normal_(weight, nonlinearity="linear")
                nn.init.zeros_(bias)
        elif isinstance(layer, ConvELU):
            nn.init.kaiming_normal_(layer.conv.weight, nonlinearity="relu" if layer.activation else "linear")
            nn.init.zeros_(layer.conv.bias)
    return module


def sn_conv(in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2) -> nn.Module:
    """Spectral-normalised conv (torch.nn.utils.parametrizations.spectral_norm), 'SAME'-like padding."""
    from torch.nn.utils.parametrizations import spectral_norm

    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=(kernel_size - 1) // 2)
    return spectral_norm(conv)


# -- context normalisation (SRN) ----------------------------------------------------------------------


def context_normalize(x: torch.Tensor, mask: torch.Tensor, rho: float = 0.5, eps: float = 1e-5) -> torch.Tensor:
    """Move the statistics of the unknown positions towards those of the known ones.

    Per sample and channel: mean and variance over known positions (mu_k, var_k) and over unknown ones
    (mu_u, var_u); an unknown feature becomes
    ``rho * ((x - mu_u) / sqrt(var_u + eps) * sqrt(var_k) + mu_k) + (1 - rho) * x``; known ones are
    returned unchanged. ``mask`` (1 = unknown) is resized (nearest) to the feature size. Statistics
    are computed in float32. A sample without known or without unknown positions is left unchanged.
    """
    if mask.shape[-2:] != x.shape[-2:]:
        mask = F.interpolate(mask.float(), size=x.shape[-2:], mode="nearest")
    work = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    xf = x.to(work)
    unknown = (mask > 0.5).to(work)
    known = 1.0 - unknown
    n_k = known.sum(dim=(2, 3), keepdim=True)
    n_u = unknown.sum(dim=(2, 3), keepdim=True)
    mu_k = (xf * known).sum(dim=(2, 3), keepdim=True) / n_k.clamp_min(1.0)
    mu_u = (xf * unknown).sum(dim=(2, 3), keepdim=True) / n_u.clamp_min(1.0)
    var_k = ((xf - mu_k) ** 2 * known).sum(dim=(2, 3), keepdim=True) / n_k.clamp_min(1.0)
    var_u = ((xf - mu_u) ** 2 * unknown).sum(dim=(2, 3), keepdim=True) / n_u.clamp_min(1.0)
    moved = (xf - mu_u) / torch.sqrt(var_u + eps) * torch.sqrt(var_k) + mu_k
    blended = (rho * moved + (1.0 - rho) * xf).to(x.dtype)
    applies = (n_k > 0) & (n_u > 0) & (unknown > 0)  # a sample lacking either side is left as it is
    return torch.where(applies, blended, x)


class ContextNorm(nn.Module):
    def __init__(self, rho: float = 0.5) -> None:
        super().__init__()
        self.rho = rho

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return context_normalize(x, mask, self.rho)


# -- sub-pixel expansion with r1 != r2 (SRN) ---------------------------------------------------------


def nhwc_expand(x: torch.Tensor, r1: int, r2: int) -> torch.Tensor:
    """B x (C * r1 * r2) x h x w -> B x C x (h * r1) x (w * r2) as the original's raw NHWC reshape.

    Parity layout: for r1 = 1, r2 = 2, ``out[:, k, y, 2x + j] = in[:, j * C + k, y, x]`` (j-major over
    the channel groups); this is NOT ``pixel_shuffle``. For r1 > 1 the raw reshape also moves whole
    runs of columns to the next output row, exactly as the TensorFlow reshape did.
    """
    b, c, h, w = x.shape
    if c % (r1 * r2):
        raise ValueError(f"{c} channels cannot be expanded by {r1} x {r2}")
    out_c = c // (r1 * r2)
    return x.permute(0, 2, 3, 1).reshape(b, h * r1, w * r2, out_c).permute(0, 3, 1, 2)


class SubPixelExpansion(nn.Module):
    """3x3 conv C -> C * r1 * r2, ELU, then :func:`nhwc_expand` to (h * r1, w * r2)."""

    def __init__(self, channels: int, r1: int, r2: int) -> None:
        super().__init__()
        if r1 < 1 or r2 < 1:
            raise ValueError("expansion factors must be positive integers")
        self.r1, self.r2 = r1, r2
        self.conv = nn.Conv2d(channels, channels * r1 * r2, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nhwc_expand(F.elu(self.conv(x)), self.r1, self.r2)


# -- masks and channel order ---------------------------------------------------------------------------


def feature_mask(mask: torch.Tensor, times: int = 3, threshold: float = 5.0 / 16.0) -> torch.Tensor:
    """Image mask -> feature-level mask: ``times`` 4x4 stride-2 averaging convs, then ``> threshold``."""
    m = mask.float()
    kernel = torch.full((1, 1, 4, 4), 1.0 / 16.0, dtype=m.dtype, device=m.device)
    for _ in range(times):
        m = F.conv2d(m, kernel, stride=2, padding=1)
    return (m > threshold).to(mask.dtype)


def flip_channels(x: torch.Tensor, order: str) -> torch.Tensor:
    """RGB <-> BGR when the network's weights expect ``order == "bgr"`` (an involution)."""
    return x.flip(1) if order == "bgr" else x


def check_channel_order(order: str) -> str:
    if order not in ("rgb", "bgr"):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', not {order!r}")
    return order
