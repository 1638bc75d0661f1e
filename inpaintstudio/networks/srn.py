"""SRN (semantic regeneration network) for outpainting: feature expansion, sub-pixel expansion with
r1 != r2, context prediction with context normalisation.

Config (every key optional, missing ones take ``DEFAULT_CONFIG``'s value, unknown keys are ignored):

``cnum``           width (64 in the original: about 11.2 M parameters for expand [1, 2]).
``expand``         [r1, r2]: canvas height / known height and canvas width / known width the network
                   is built for (the sub-pixel layer has cnum * r1 * r2 outputs). [1, 2] is the
                   original scenes layout (256 x 256 -> 256 x 512), [2, 2] the faces one (128 -> 256).
``rho``            context normalisation blend (0.5).
``channel_order``  "rgb" or "bgr" (what the weights expect; callers always use RGB).

``forward(known, top, left, hole=None)``: known is B x 3 x h x w in [-1, 1] (h, w multiples of 4),
placed at (top, left) on a canvas of (h * r1) x (w * r2), 0 <= top <= h * (r1 - 1) and
0 <= left <= w * (r2 - 1); hole (B x 1 x h x w, 1 = hole) optionally marks unknown pixels inside the
known crop (SRN was not trained for those; they are zeroed and handed to the context network as
unknown). Returns the canvas B x 3 x (h * r1) x (w * r2), clipped to [-1, 1], not composited.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaintstudio.networks.layers import (
    ContextNorm,
    ConvELU,
    SubPixelExpansion,
    check_channel_order,
    flip_channels,
)

DEFAULT_CONFIG: dict[str, Any] = {"cnum": 64, "expand": [2, 2], "rho": 0.5, "channel_order": "rgb"}


def _dilated(prefix: str, c: int) -> list[tuple[str, ConvELU]]:
    return [(f"{prefix}{i}", ConvELU(c, c, 3, 1, d)) for i, d in zip(range(7, 11), (2, 4, 8, 16), strict=True)]


class FeatureExpansionNet(nn.Module):
    """conv1 5x5 c; conv2 s2 2c; conv3 2c; conv4 s2 4c; conv5, conv6 4c; conv7..10 dilated 4c;
    conv11, conv12 4c; conv13 up 2c; conv14 2c; conv15 up c (back at the input resolution)."""

    def __init__(self, in_channels: int = 3, cnum: int = 64) -> None:
        super().__init__()
        c = cnum
        self.layers = nn.Sequential(
            OrderedDict(
                [
                    ("conv1", ConvELU(in_channels, c, 5)),
                    ("conv2", ConvELU(c, 2 * c, 3, 2)),
                    ("conv3", ConvELU(2 * c, 2 * c)),
                    ("conv4", ConvELU(2 * c, 4 * c, 3, 2)),
                    ("conv5", ConvELU(4 * c, 4 * c)),
                    ("conv6", ConvELU(4 * c, 4 * c)),
                    *_dilated("conv", 4 * c),
                    ("conv11", ConvELU(4 * c, 4 * c)),
                    ("conv12", ConvELU(4 * c, 4 * c)),
                    ("conv13", ConvELU(4 * c, 2 * c, upsample=True)),
                    ("conv14", ConvELU(2 * c, 2 * c)),
                    ("conv15", ConvELU(2 * c, c, upsample=True)),
                ]
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ContextPredictionNet(nn.Module):
    """Input ``cat[expanded features c, zero-padded known image 3, mask 1]``; context normalisation
    after allconv11; linear allconv17, clipped to [-1, 1]."""

    def __init__(self, cnum: int = 64, rho: float = 0.5) -> None:
        super().__init__()
        c = cnum
        self.encoder = nn.Sequential(
            OrderedDict(
                [
                    ("xconv1", ConvELU(c + 4, c, 5)),
                    ("xconv2", ConvELU(c, c, 3, 2)),
                    ("xconv3", ConvELU(c, 2 * c)),
                    ("xconv4", ConvELU(2 * c, 2 * c, 3, 2)),
                    ("xconv5", ConvELU(2 * c, 4 * c)),
                    ("xconv6", ConvELU(4 * c, 4 * c)),
                    *_dilated("xconv", 4 * c),
                    ("allconv11", ConvELU(4 * c, 4 * c)),
                ]
            )
        )
        self.context_norm = ContextNorm(rho)
        self.decoder = nn.Sequential(
            OrderedDict(
                [
                    ("allconv12", ConvELU(4 * c, 4 * c)),
                    ("allconv13", ConvELU(4 * c, 2 * c, upsample=True)),
                    ("allconv14", ConvELU(2 * c, 2 * c)),
                    ("allconv15", ConvELU(2 * c, c, upsample=True)),
                    ("allconv16", ConvELU(c, c // 2)),
                    ("allconv17", ConvELU(c // 2, 3, activation=False)),
                ]
            )
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.context_norm(self.encoder(x), mask)
        return self.decoder(x).clamp(-1.0, 1.0)


class SRNGenerator(nn.Module):
    def __init__(
        self, cnum: int = 64, expand: tuple[int, int] = (2, 2), rho: float = 0.5, channel_order: str = "rgb"
    ) -> None:
        super().__init__()
        r1, r2 = (int(v) for v in expand)
        if r1 < 1 or r2 < 1 or r1 * r2 < 2:
            raise ValueError(f"expand must be two positive integers, at least one above 1, not {expand}")
        if cnum < 2 or cnum % 2:
            raise ValueError(f"cnum must be a positive even number, not {cnum}")
        self.cnum, self.expand, self.rho = cnum, (r1, r2), rho
        self.channel_order = check_channel_order(channel_order)
        self.fen = FeatureExpansionNet(3, cnum)
        self.expansion = SubPixelExpansion(cnum, r1, r2)
        self.cpn = ContextPredictionNet(cnum, rho)

    def config(self) -> dict[str, Any]:
        return {"cnum": self.cnum, "expand": list(self.expand), "rho": self.rho, "channel_order": self.channel_order}

    def forward(
        self, known: torch.Tensor, top: int = 0, left: int = 0, hole: torch.Tensor | None = None
    ) -> torch.Tensor:
        b, _, h, w = known.shape
        r1, r2 = self.expand
        if h % 4 or w % 4:
            raise ValueError(f"SRN needs a known crop whose sides are multiples of 4, got {h}x{w}")
        if not (0 <= top <= h * (r1 - 1) and 0 <= left <= w * (r2 - 1)):
            raise ValueError(f"the known crop at ({top}, {left}) does not fit a {h * r1}x{w * r2} canvas")
        x = flip_channels(known, self.channel_order)
        inner = torch.zeros_like(known[:, :1]) if hole is None else hole.to(known.dtype)
        x = x * (1.0 - inner)
        features = self.expansion(self.fen(x))
        pad = (left, w * (r2 - 1) - left, top, h * (r1 - 1) - top)
        canvas_image = F.pad(x, pad)
        canvas_mask = F.pad(inner, pad, value=1.0)
        out = self.cpn(torch.cat([features, canvas_image, canvas_mask], dim=1), canvas_mask)
        return flip_channels(out, self.channel_order)


def build_srn(config: dict[str, Any] | None = None) -> SRNGenerator:
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    r1, r2 = cfg["expand"]
    return SRNGenerator(int(cfg["cnum"]), (int(r1), int(r2)), float(cfg["rho"]), str(cfg["channel_order"]))


# -- critics for fine-tuning (WGAN-GP) ------------------------------------------------------------------


def _critic_unit(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout, 5, 2, 2), nn.LeakyReLU(0.2))


class SRNGlobalCritic(nn.Module):
    """4 x [conv 5x5 s2, LeakyReLU] (w, 2w, 4w, 2w), flatten, linear -> 1 score per image.

    ``input_size`` (H, W) fixes the linear layer (256 x 512 for the scenes layout).
    """

    def __init__(self, in_channels: int = 3, width: int = 64, input_size: tuple[int, int] = (256, 256)) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _critic_unit(in_channels, w), _critic_unit(w, 2 * w), _critic_unit(2 * w, 4 * w), _critic_unit(4 * w, 2 * w)
        )
        h_out, w_out = (-(-s // 16) for s in input_size)
        self.fc = nn.Linear(2 * w * h_out * w_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1)).squeeze(1)


class SRNContextCritic(nn.Module):
    """Contextual (local) critic: 3 x [conv 5x5 s2, LeakyReLU] (w, 2w, 4w), conv 3x3 -> 1, averaged over
    the generated region (the mask max-pooled by 8). ``forward(x, mask) -> (score per image, mask_local)``
    where mask_local is the pooled mask brought back to the input size (for the gradient penalty)."""

    def __init__(self, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _critic_unit(in_channels, w),
            _critic_unit(w, 2 * w),
            _critic_unit(2 * w, 4 * w),
            nn.Conv2d(4 * w, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        score = self.features(x)
        pooled = F.adaptive_max_pool2d(mask.float(), score.shape[-2:]).to(score.dtype)
        value = (score * pooled).sum(dim=(1, 2, 3)) / pooled.sum(dim=(1, 2, 3)).clamp_min(1e-6)
        local = F.interpolate(pooled, size=x.shape[-2:], mode="nearest")
        return value, local
