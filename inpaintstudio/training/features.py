"""Feature networks for perceptual losses: the user's VGG, or an honest substitute.

The papers compare images through a VGG network pretrained on ImageNet (CSA: VGG-16 relu3_3 / relu4_3;
SRN's ID-MRF: VGG-19 conv3_2 / conv4_2). Those weights cannot be downloaded here, so by default the
features come from the model's own discriminator (a network trained alongside, on the same photos, to
tell real from filled). A user who has a torchvision VGG state dict can pass it with ``--vgg FILE``;
it is loaded with ``weights_only=True`` and used instead. Either way the extractor returns two levels:
``mid`` (1/4 resolution) and ``deep`` (1/8 resolution).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from inpaintstudio.engine.weights import load_tensors
from inpaintstudio.errors import WeightsError

# torchvision's VGG "features" layouts: numbers are conv widths, "M" a max-pool.
VGG_LAYOUTS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
# Index (in the features Sequential) of the ReLU whose output is taken: mid = relu3_x, deep = relu4_x.
VGG_TAPS = {"vgg16": {"mid": 15, "deep": 22}, "vgg19": {"mid": 13, "deep": 22}}  # relu3_3/4_3; relu3_2/4_2
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _vgg_features(layout: list) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for item in layout:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=False)]
            channels = int(item)
    return nn.Sequential(*layers)


class VGGFeatures(nn.Module):
    """A frozen torchvision-layout VGG from a user's state dict (keys ``features.N.weight``)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        tensors = load_tensors(Path(path))
        tensors = {k[len("features.") :]: v for k, v in tensors.items() if k.startswith("features.")}
        convs = sum(1 for k in tensors if k.endswith(".weight"))
        kind = {13: "vgg16", 16: "vgg19"}.get(convs)
        if kind is None:
            raise WeightsError(f"{Path(path).name} is not a VGG-16 or VGG-19 state dict ({convs} convolutions)")
        self.kind = kind
        last = max(VGG_TAPS[kind].values())
        self.features = _vgg_features(VGG_LAYOUTS[kind])[: last + 1]
        try:
            self.features.load_state_dict({k: v for k, v in tensors.items() if int(k.split(".")[0]) <= last})
        except RuntimeError as exc:
            raise WeightsError(f"{Path(path).name} does not fit {kind}: {str(exc).splitlines()[0]}") from exc
        self.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = ((image + 1) / 2 - self.mean) / self.std
        taps = {v: k for k, v in VGG_TAPS[self.kind].items()}
        out = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in taps:
                out[taps[index]] = x
        return out

    def channels(self) -> dict[str, int]:
        return {"mid": 256, "deep": 512}


class SequentialTaps(nn.Module):
    """Features taken from a discriminator's own layers (the substitute for a pretrained VGG).

    ``layers`` is the discriminator's Sequential; ``taps`` maps "mid" / "deep" to layer indices. The
    discriminator keeps training on its own loss; this view only reads its layers.
    """

    def __init__(self, layers: nn.Sequential, taps: dict[str, int], channels: dict[str, int]) -> None:
        super().__init__()
        self.layers = layers
        self.taps = taps
        self._channels = channels

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        inverse = {v: k for k, v in self.taps.items()}
        out = {}
        x = image
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in inverse:
                out[inverse[index]] = x
            if len(out) == len(inverse):
                break
        return out

    def channels(self) -> dict[str, int]:
        return dict(self._channels)
