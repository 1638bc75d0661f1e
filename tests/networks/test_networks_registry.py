"""Every registered learned family, built with random weights at a small width: runs, keeps shapes,
gives finite values, leaves known pixels alone after compositing, and trains (gradients reach the
first layer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaintstudio.engine import registry
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.learned import LearnedInpainter

WIDTH = 8


def _families() -> list[type[LearnedInpainter]]:
    learned = [c for c in registry.all_inpainters() if issubclass(c, LearnedInpainter)]
    # Imported variants subclass their family: keep the roots only.
    return [c for c in learned if not any(o is not c and issubclass(c, o) for o in learned)]


FAMILIES = {cls.name: cls for cls in _families()}


def test_the_three_families_are_registered():
    assert {"deepfillv2", "csa", "srn"} <= set(FAMILIES)


def _small(cls: type[LearnedInpainter]) -> tuple[torch.nn.Module, LearnedInpainter]:
    config = dict(cls.default_config)
    config[cls.width_key] = WIDTH
    torch.manual_seed(0)
    net = cls.build_network(config)
    instance = cls(device="cpu")
    instance.net = net
    return net, instance


def _inputs(cls: type[LearnedInpainter]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    caps = cls.caps
    side = max(64, caps.min_size, caps.pad_multiple)
    side += (-side) % caps.pad_multiple
    # Not square (catches height / width mix-ups) unless the multiple makes that expensive.
    h, w = side, side if caps.pad_multiple >= 64 else side + 2 * max(8, caps.pad_multiple)
    gen = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, h, w, generator=gen) * 2 - 1
    mask = torch.zeros(1, 1, h, w)
    if caps.outpaint:
        mask[..., :, w - w // 4 :] = 1  # a new strip on the right and one on top
        mask[..., : h // 8, :] = 1
    else:
        mask[..., h // 4 : h // 2, w // 3 : w // 2 + 5] = 1
    sketch = None
    if caps.sketch:
        sketch = torch.zeros(1, 1, h, w)
        sketch[..., h // 3, :] = 1
    return image, mask, sketch


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_forward_shape_finite_and_known_pixels_kept(name):
    cls = FAMILIES[name]
    net, instance = _small(cls)
    net.eval()
    image, mask, sketch = _inputs(cls)
    ctx = JobContext()
    with torch.inference_mode():
        out = instance.forward(image, mask, sketch, ctx)
    assert out.shape == image.shape
    assert torch.isfinite(out).all()
    composite = out * mask + image * (1 - mask)
    known = (mask == 0).expand_as(image)
    assert torch.equal(composite[known], image[known])


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_uint8_fill_through_inpaint(name):
    cls = FAMILIES[name]
    _, instance = _small(cls)
    instance.net.eval()
    image, mask, sketch = _inputs(cls)
    pixels = ((image[0].permute(1, 2, 0) + 1) * 127.5).round().to(torch.uint8).numpy()
    hole = mask[0, 0].numpy() > 0.5
    strokes = None if sketch is None else sketch[0, 0].numpy() > 0.5
    progress: list[float] = []
    out = instance.inpaint(pixels, hole, strokes, JobContext(progress=lambda f, _m: progress.append(f)))
    assert out.shape == pixels.shape and out.dtype == np.uint8
    assert progress and progress[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_gradients_reach_the_first_layer(name):
    cls = FAMILIES[name]
    net, instance = _small(cls)
    net.train()
    image, mask, sketch = _inputs(cls)
    out = instance.forward(image, mask, sketch, JobContext())
    (out * mask).square().mean().backward()
    first = next(net.parameters())
    assert first.grad is not None
    assert torch.isfinite(first.grad).all()
    assert first.grad.abs().sum() > 0
