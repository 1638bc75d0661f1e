"""DeepFillv2: gated convolutions, a coarse network and a refinement network with contextual attention.

Config (the manifest's ``config``; every key optional, missing ones take ``DEFAULT_CONFIG``'s value: the
original's, except the 6-channel sketch input; unknown keys are ignored). ``DEFAULT_CONFIG`` completes
the config of weights made elsewhere; new weights start from the inpainter's ``default_config``
(engine/inpainters/deepfill.py: cnum 24, as shipped), which training uses:

``cnum``           width; 48 in the original (conv1 has cnum/2 = 24 channels after gating). Multiple of 4.
``in_channels``    5 = unguided ``cat[x * (1 - m), ones, m]``; 6 = sketch-guided
                   ``cat[x * (1 - m), sketch * m, ones, m]``.
``channel_order``  "rgb" or "bgr": what the weights expect. Callers always pass and get RGB; the
                   generator flips internally (the official TF-trained weights are BGR).
``padding``        "same" (TensorFlow 'SAME', parity with the official and TF-converted weights) or
                   "symmetric" (the deepfillv2-pytorch ``stage1/stage2`` checkpoints).
``fuse``           contextual attention's fuse step (True in the original).

Tensors: image B x 3 x H x W in [-1, 1] RGB, mask B x 1 x H x W (1 = hole), sketch B x 1 x H x W in
{0, 1} or None (= no strokes); H and W multiples of 8. ``forward`` returns ``(coarse, refined)``, both
B x 3 x H x W in [-1, 1] (tanh), not composited: training uses both; the app composites ``refined``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from inpaintstudio.networks.attention import ContextualAttention
from inpaintstudio.networks.layers import GatedConv, check_channel_order, flip_channels, init_for_training, sn_conv

DEFAULT_CONFIG: dict[str, Any] = {
    "cnum": 48,
    "in_channels": 6,
    "channel_order": "rgb",
    "padding": "same",
    "fuse": True,
}


def _spec(cnum: int) -> dict[str, list[tuple]]:
    """Layer tables: (name, in, out after gating, kernel, stride, dilation, activation, upsample)."""
    c2, c4 = cnum // 2, cnum // 4
    c, cc = cnum, 2 * cnum
    dil = [(f"{{p}}{i}", cc, cc, 3, 1, d, "elu", False) for i, d in zip(range(7, 11), (2, 4, 8, 16), strict=True)]
    coarse = [
        ("conv1", None, c2, 5, 1, 1, "elu", False),
        ("conv2", c2, c, 3, 2, 1, "elu", False),
        ("conv3", c, c, 3, 1, 1, "elu", False),
        ("conv4", c, cc, 3, 2, 1, "elu", False),
        ("conv5", cc, cc, 3, 1, 1, "elu", False),
        ("conv6", cc, cc, 3, 1, 1, "elu", False),
        *[(n.format(p="conv"), *rest) for n, *rest in dil],
        ("conv11", cc, cc, 3, 1, 1, "elu", False),
        ("conv12", cc, cc, 3, 1, 1, "elu", False),
        ("conv13", cc, c, 3, 1, 1, "elu", True),
        ("conv14", c, c, 3, 1, 1, "elu", False),
        ("conv15", c, c2, 3, 1, 1, "elu", True),
        ("conv16", c2, c4, 3, 1, 1, "elu", False),
        ("conv17", c4, 3, 3, 1, 1, None, False),
    ]
    hallucination = [
        ("xconv1", 3, c2, 5, 1, 1, "elu", False),
        ("xconv2", c2, c2, 3, 2, 1, "elu", False),
        ("xconv3", c2, c, 3, 1, 1, "elu", False),
        ("xconv4", c, c, 3, 2, 1, "elu", False),
        ("xconv5", c, cc, 3, 1, 1, "elu", False),
        ("xconv6", cc, cc, 3, 1, 1, "elu", False),
        *[(n.format(p="xconv"), *rest) for n, *rest in dil],
    ]
    attention_in = [
        ("pmconv1", 3, c2, 5, 1, 1, "elu", False),
        ("pmconv2", c2, c2, 3, 2, 1, "elu", False),
        ("pmconv3", c2, c, 3, 1, 1, "elu", False),
        ("pmconv4", c, cc, 3, 2, 1, "elu", False),
        ("pmconv5", cc, cc, 3, 1, 1, "elu", False),
        ("pmconv6", cc, cc, 3, 1, 1, "relu", False),
    ]
    attention_out = [
        ("pmconv9", cc, cc, 3, 1, 1, "elu", False),
        ("pmconv10", cc, cc, 3, 1, 1, "elu", False),
    ]
    merge = [
        ("allconv11", 2 * cc, cc, 3, 1, 1, "elu", False),
        ("allconv12", cc, cc, 3, 1, 1, "elu", False),
        ("allconv13", cc, c, 3, 1, 1, "elu", True),
        ("allconv14", c, c, 3, 1, 1, "elu", False),
        ("allconv15", c, c2, 3, 1, 1, "elu", True),
        ("allconv16", c2, c4, 3, 1, 1, "elu", False),
        ("allconv17", c4, 3, 3, 1, 1, None, False),
    ]
    return {
        "coarse": coarse,
        "hallucination": hallucination,
        "attention_in": attention_in,
        "attention_out": attention_out,
        "merge": merge,
    }


def _stack(table: list[tuple], in_channels: int, padding: str) -> nn.Sequential:
    layers = OrderedDict()
    for name, cin, cout, k, s, d, act, up in table:
        layers[name] = GatedConv(in_channels if cin is None else cin, cout, k, s, d, act, padding, up)
    return nn.Sequential(layers)


class RefineNet(nn.Module):
    """Two branches on ``x1 * m + x * (1 - m)``: dilated convs, and convs around contextual attention."""

    def __init__(self, cnum: int, padding: str, fuse: bool) -> None:
        super().__init__()
        spec = _spec(cnum)
        self.hallucination = _stack(spec["hallucination"], 3, padding)
        self.attention_in = _stack(spec["attention_in"], 3, padding)
        self.contextual_attention = ContextualAttention(
            ksize=3, stride=1, rate=2, fuse_k=3, softmax_scale=10.0, fuse=fuse
        )
        self.attention_out = _stack(spec["attention_out"], 0, padding)
        self.merge = _stack(spec["merge"], 0, padding)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        hallucinated = self.hallucination(x)
        attended = self.attention_in(x)
        attended = self.contextual_attention(attended, attended, mask, exclude)
        attended = self.attention_out(attended)
        return torch.tanh(self.merge(torch.cat([hallucinated, attended], dim=1)))


class DeepFillGenerator(nn.Module):
    """Coarse + refinement generator.

    Parameter names: ``coarse.conv1.conv.weight`` ... ``coarse.conv17.conv.bias`` and
    ``refine.{hallucination,attention_in,attention_out,merge}.<layer>.conv.{weight,bias}`` with the
    layer names of the spec's tables (``xconv1``, ``pmconv6``, ``allconv17`` ...).
    """

    def __init__(
        self, cnum: int = 48, in_channels: int = 6, channel_order: str = "rgb", padding: str = "same", fuse: bool = True
    ) -> None:
        super().__init__()
        if cnum < 4 or cnum % 4:
            raise ValueError(f"cnum must be a positive multiple of 4, not {cnum}")
        if in_channels not in (5, 6):
            raise ValueError(f"in_channels must be 5 (unguided) or 6 (sketch), not {in_channels}")
        self.cnum, self.in_channels, self.padding, self.fuse = cnum, in_channels, padding, fuse
        self.channel_order = check_channel_order(channel_order)
        self.coarse = _stack(_spec(cnum)["coarse"], in_channels, padding)
        self.refine = RefineNet(cnum, padding, fuse)
        with torch.no_grad():
            init_for_training(self)

    def config(self) -> dict[str, Any]:
        return {
            "cnum": self.cnum,
            "in_channels": self.in_channels,
            "channel_order": self.channel_order,
            "padding": self.padding,
            "fuse": self.fuse,
        }

    def network_input(self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None) -> torch.Tensor:
        """The first layer's input, in the weights' channel order."""
        x = flip_channels(image, self.channel_order) * (1.0 - mask)
        ones = torch.ones_like(mask)
        if self.in_channels == 5:
            return torch.cat([x, ones, mask], dim=1)
        sketch = torch.zeros_like(mask) if sketch is None else sketch.to(mask.dtype)
        return torch.cat([x, sketch * mask, ones, mask], dim=1)

    def stage1(self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None = None) -> torch.Tensor:
        """The coarse result (RGB, [-1, 1])."""
        h, w = image.shape[-2:]
        if h % 8 or w % 8:
            raise ValueError(f"DeepFillv2 needs height and width that are multiples of 8, got {h}x{w}")
        coarse = torch.tanh(self.coarse(self.network_input(image, mask, sketch)))
        return flip_channels(coarse, self.channel_order)

    def stage2(
        self, coarse: torch.Tensor, image: torch.Tensor, mask: torch.Tensor, exclude: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The refined result (RGB, [-1, 1]) from the coarse one; ``exclude`` (B x 1 x H x W, 1 = never
        copy from here) keeps the contextual attention off those pixels."""
        order = self.channel_order
        x = flip_channels(coarse, order) * mask + flip_channels(image, order) * (1.0 - mask)
        return flip_channels(self.refine(x, mask, exclude), order)

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        coarse = self.stage1(image, mask, sketch)
        return coarse, self.stage2(coarse, image, mask)


def build_deepfill(config: dict[str, Any] | None = None) -> DeepFillGenerator:
    """The generator from a manifest config (see the module docstring); random weights."""
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    return DeepFillGenerator(
        cnum=int(cfg["cnum"]),
        in_channels=int(cfg["in_channels"]),
        channel_order=str(cfg["channel_order"]),
        padding=str(cfg["padding"]),
        fuse=bool(cfg["fuse"]),
    )


class SNPatchGANDiscriminator(nn.Module):
    """SN-PatchGAN: 6 x [spectral-norm conv 5x5 stride 2, LeakyReLU 0.2], channels w, 2w, 4w, 4w, 4w, 4w.

    Input: image + mask (+ sketch when guided), i.e. ``in_channels`` 4 or 5. Output flattened (B x N).
    """

    def __init__(self, in_channels: int = 5, width: int = 64) -> None:
        super().__init__()
        chans = [in_channels, width, 2 * width, 4 * width, 4 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            layers += [sn_conv(cin, cout, 5, 2), nn.LeakyReLU(0.2)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).flatten(1)
