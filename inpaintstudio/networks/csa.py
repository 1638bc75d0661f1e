"""CSA (coherent semantic attention): a rough U-Net, then a refinement U-Net with the CSA layer.

Config (every key optional, missing ones take ``DEFAULT_CONFIG``'s value, unknown keys are ignored):

``ngf``        base channels of the refinement U-Net (64 in the original, about 78 M parameters;
               32 gives about 19.5 M). Channels per level: ngf, 2, 4, 8, 8, 8, 8, 8 x ngf.
``rough_ngf``  base channels of the rough U-Net (default: ``ngf``; 64 in the original, about 54 M).

Tensors: image B x 3 x H x W in [-1, 1], mask B x 1 x H x W (1 = hole), H and W multiples of 256
(eight halvings). The rough net sees ``cat[x * (1 - m), m]`` (4 channels; the original filled the hole
with a mean colour instead of adding the mask channel), the refinement net
``cat[rough * m + x * (1 - m), x * (1 - m)]`` (6 channels, as the spec says). ``forward`` returns
``(rough, refined)``: rough in [-1, 1] (tanh), refined unbounded (no tanh, as in the original; the
app clamps). In training mode the generator also keeps ``csa_features``: the encoder's CSA output and
the decoder feature rebuilt with the same attention (for the consistency loss).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inpaintstudio.networks.attention import CoherentSemanticAttention
from inpaintstudio.networks.layers import feature_mask

DEFAULT_CONFIG: dict[str, Any] = {"ngf": 64}  # the original width
NUM_DOWNS = 8
CSA_LEVEL = 3  # index of the refinement block holding the CSA layer (its output is at H / 8)


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True)


def _level_channels(ngf: int) -> list[int]:
    return [ngf * min(2**i, 8) for i in range(NUM_DOWNS)]


class RoughUNet(nn.Module):
    """pix2pix U-Net with 8 downsamplings: 4x4 stride-2 convs, InstanceNorm, LeakyReLU 0.2 encoder,
    ReLU decoder, skip concatenation, tanh."""

    def __init__(self, in_channels: int = 4, out_channels: int = 3, ngf: int = 64) -> None:
        super().__init__()
        ch = _level_channels(ngf)
        down: list[nn.Module] = [nn.Conv2d(in_channels, ch[0], 4, 2, 1)]
        for i in range(1, NUM_DOWNS):
            layers: list[nn.Module] = [nn.LeakyReLU(0.2), nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1)]
            if i < NUM_DOWNS - 1:
                layers.append(_norm(ch[i]))
            down.append(nn.Sequential(*layers))
        up: list[nn.Module] = [
            nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * ch[0], out_channels, 4, 2, 1), nn.Tanh())
        ]
        for i in range(1, NUM_DOWNS):
            cin = ch[i] if i == NUM_DOWNS - 1 else 2 * ch[i]
            up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, ch[i - 1], 4, 2, 1), _norm(ch[i - 1])))
        self.down = nn.ModuleList(down)
        self.up = nn.ModuleList(up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for layer in self.down:
            x = layer(x)
            feats.append(x)
        y = self.up[-1](feats[-1])
        for i in range(NUM_DOWNS - 2, -1, -1):
            y = self.up[i](torch.cat([y, feats[i]], dim=1))
        return y


class _RefineDown(nn.Module):
    """[LReLU, conv 4x4 s2 dilation 2, IN, LReLU, conv 3x3, (CSA), IN]; the innermost has only the first two."""

    def __init__(self, outer: int, inner: int, innermost: bool, csa: bool) -> None:
        super().__init__()
        self.innermost = innermost
        self.act = nn.LeakyReLU(0.2)
        self.down = nn.Conv2d(outer, outer, 4, 2, padding=3, dilation=2)
        if not innermost:
            self.norm1 = _norm(outer)
            self.conv = nn.Conv2d(outer, inner, 3, 1, 1)
            self.norm2 = _norm(inner)
        self.csa = CoherentSemanticAttention() if csa else None

    def forward(
        self, x: torch.Tensor, fmask: torch.Tensor, fexclude: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Any, torch.Tensor | None]:
        """Returns (output, CSA maps or None, the CSA output before the norm or None)."""
        x = self.down(self.act(x))
        if self.innermost:
            return x, None, None
        x = self.conv(self.act(self.norm1(x)))
        if self.csa is None:
            return self.norm2(x), None, None
        x, maps = self.csa(x, fmask, fexclude)
        return self.norm2(x), maps, x


class _RefineUp(nn.Module):
    """[ReLU, convT 3x3, IN, ReLU, convT 4x4 s2, IN]; the innermost: [ReLU, convT 4x4 s2, IN]."""

    def __init__(self, outer: int, inner: int, innermost: bool) -> None:
        super().__init__()
        self.innermost = innermost
        if not innermost:
            self.conv3 = nn.ConvTranspose2d(2 * inner, outer, 3, 1, 1)
            self.norm3 = _norm(outer)
        self.up = nn.ConvTranspose2d(inner if innermost else outer, outer, 4, 2, 1)
        self.norm = _norm(outer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.innermost:
            x = self.norm3(self.conv3(torch.relu(x)))
        return self.norm(self.up(torch.relu(x)))


class RefineUNet(nn.Module):
    """The CSA refinement U-Net: an outermost 3x3 conv, then eight downsampling blocks; the CSA layer
    sits in the 4th level (block index 3, 8 * ngf channels at H / 8) after its 3x3 conv, before its
    norm, and the matching decoder feature (the output of the level below, at H / 8) is rebuilt with
    the same attention before the decoder uses it."""

    def __init__(self, in_channels: int = 6, out_channels: int = 3, ngf: int = 64) -> None:
        super().__init__()
        ch = [ngf * min(2**i, 8) for i in range(NUM_DOWNS + 1)]  # block i: outer ch[i], inner ch[i + 1]
        self.inconv = nn.Conv2d(in_channels, ngf, 3, 1, 1)
        blocks_down, blocks_up = [], []
        for i in range(NUM_DOWNS):
            outer, inner = ch[i], ch[i + 1]
            innermost = i == NUM_DOWNS - 1
            blocks_down.append(_RefineDown(outer, inner if not innermost else outer, innermost, i == CSA_LEVEL - 1))
            blocks_up.append(_RefineUp(outer, inner if not innermost else outer, innermost))
        self.down = nn.ModuleList(blocks_down)
        self.up = nn.ModuleList(blocks_up)
        self.outconv = nn.ConvTranspose2d(2 * ngf, out_channels, 3, 1, 1)
        self.csa_features: dict[str, torch.Tensor] = {}
        # When set, the CSA layer's maps and feature grid are kept for the app's residual aggregation.
        self.keep_attention = False
        self.kept: tuple[list, tuple[int, int]] | None = None

    def forward(self, x: torch.Tensor, fmask: torch.Tensor, fexclude: torch.Tensor | None = None) -> torch.Tensor:
        feats = [self.inconv(x)]
        maps, encoded = None, None
        for block in self.down:
            y, block_maps, block_encoded = block(feats[-1], fmask, fexclude)
            if block_maps is not None:
                maps, encoded = block_maps, block_encoded
                if self.keep_attention:
                    self.kept = (block_maps, (int(y.shape[-2]), int(y.shape[-1])))
            feats.append(y)
        y = self.up[-1](feats[-1])
        for i in range(NUM_DOWNS - 2, -1, -1):
            if i == CSA_LEVEL - 1 and maps is not None:
                # y is the decoder feature at the CSA level: rebuild its holes with the encoder's attention.
                y = CoherentSemanticAttention.reuse(y, maps)
                if self.training:
                    self.csa_features = {"encoder": encoded, "decoder": y}
            y = self.up[i](torch.cat([y, feats[i + 1]], dim=1))
        return self.outconv(torch.relu(torch.cat([y, feats[0]], dim=1)))


class CSAGenerator(nn.Module):
    def __init__(self, ngf: int = 64, rough_ngf: int | None = None) -> None:
        super().__init__()
        self.ngf, self.rough_ngf = ngf, rough_ngf or ngf
        self.rough = RoughUNet(4, 3, self.rough_ngf)
        self.refine = RefineUNet(6, 3, ngf)

    def config(self) -> dict[str, Any]:
        return {"ngf": self.ngf, "rough_ngf": self.rough_ngf}

    @property
    def csa_features(self) -> dict[str, torch.Tensor]:
        return self.refine.csa_features

    def stage1(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        if h % 256 or w % 256:
            raise ValueError(f"CSA needs height and width that are multiples of 256, got {h}x{w}")
        return self.rough(torch.cat([image * (1.0 - mask), mask], dim=1))

    def stage2(
        self, rough: torch.Tensor, image: torch.Tensor, mask: torch.Tensor, exclude: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The refined result; ``exclude`` (B x 1 x H x W, 1 = never copy from here) keeps CSA's search off
        every feature position that any excluded pixel reaches (threshold 0, unlike the hole's)."""
        known = image * (1.0 - mask)
        x = torch.cat([rough * mask + known, known], dim=1)
        fexclude = None if exclude is None else feature_mask(exclude, times=CSA_LEVEL, threshold=0.0)
        return self.refine(x, feature_mask(mask, times=CSA_LEVEL), fexclude)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rough = self.stage1(image, mask)
        return rough, self.stage2(rough, image, mask)


def build_csa(config: dict[str, Any] | None = None) -> CSAGenerator:
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    rough = cfg.get("rough_ngf")
    return CSAGenerator(int(cfg["ngf"]), int(rough) if rough else None)


class PatchDiscriminator(nn.Module):
    """70 x 70 PatchGAN with InstanceNorm: conv 4x4 s2 (w), s2 (2w), s2 (4w), s1 (8w), s1 (1)."""

    def __init__(self, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        w = width
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            _norm(2 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1),
            _norm(4 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 8 * w, 4, 1, 1),
            _norm(8 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8 * w, 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class FeatureDiscriminator(nn.Module):
    """Discriminator on feature maps (the original: VGG-16 relu3_3, 256 channels at H / 4)."""

    def __init__(self, in_channels: int = 256, width: int = 64) -> None:
        super().__init__()
        w = width
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 2 * w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1),
            _norm(4 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 8 * w, 3, 1, 1),
            _norm(8 * w),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8 * w, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
