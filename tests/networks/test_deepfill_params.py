"""DeepFillv2 at the original width: parameter counts, TF 'SAME' padding, channel order, sketches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.inpainters.deepfill import DeepFillV2Inpainter
from inpaintstudio.networks.deepfill import SNPatchGANDiscriminator, build_deepfill
from inpaintstudio.networks.layers import GatedConv, same_padding


@pytest.mark.parametrize("in_channels", [5, 6])
def test_original_width_has_about_4_05_million_parameters(in_channels):
    net = build_deepfill({"cnum": 48, "in_channels": in_channels})
    count = sum(p.numel() for p in net.parameters())
    assert count == pytest.approx(4.05e6, rel=0.01)
    assert len(net.state_dict()) == 84  # 42 convolutions, weight and bias each
    assert net.coarse.conv1.conv.weight.shape == (48, in_channels, 5, 5)  # 24 channels after gating


def test_tf_same_padding_is_asymmetric_for_stride_two():
    assert same_padding((8, 8), 3, 2, 1) == (0, 1, 0, 1)
    assert same_padding((7, 7), 3, 2, 1) == (1, 1, 1, 1)
    assert same_padding((8, 8), 3, 1, 4) == (4, 4, 4, 4)
    conv = GatedConv(2, 3, 3, stride=2, padding="same")
    x = torch.randn(1, 2, 8, 10)
    manual = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.conv.weight, conv.conv.bias, stride=2)
    a, b = manual.chunk(2, dim=1)
    torch.testing.assert_close(conv(x), F.elu(a) * torch.sigmoid(b))
    symmetric = GatedConv(2, 3, 3, stride=2, padding="symmetric")
    symmetric.load_state_dict(conv.state_dict())
    assert not torch.allclose(symmetric(x), conv(x))


def test_bgr_weights_see_bgr_and_callers_see_rgb():
    torch.manual_seed(0)
    rgb = build_deepfill({"cnum": 8, "in_channels": 5}).eval()
    bgr = build_deepfill({"cnum": 8, "in_channels": 5, "channel_order": "bgr"}).eval()
    bgr.load_state_dict(rgb.state_dict())
    image = torch.rand(1, 3, 32, 40) * 2 - 1
    mask = torch.zeros(1, 1, 32, 40)
    mask[..., 8:20, 10:30] = 1
    with torch.no_grad():
        coarse_b, refined_b = bgr(image, mask)
        coarse_r, refined_r = rgb(image.flip(1), mask)
    torch.testing.assert_close(coarse_b, coarse_r.flip(1))
    torch.testing.assert_close(refined_b, refined_r.flip(1))


def test_sketch_guided_input_and_empty_sketch():
    net = build_deepfill({"cnum": 8, "in_channels": 6})
    image = torch.rand(1, 3, 16, 16)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:8, 4:8] = 1
    sketch = torch.ones(1, 1, 16, 16)
    x = net.network_input(image, mask, sketch)
    assert x.shape == (1, 6, 16, 16)
    assert torch.equal(x[:, 3:4], mask)  # strokes only inside the hole
    assert torch.equal(net.network_input(image, mask, None)[:, 3:4], torch.zeros_like(mask))


def test_unguided_variant_ignores_sketches_with_a_notice():
    inst = DeepFillV2Inpainter(device="cpu")
    inst.net = build_deepfill({"cnum": 8, "in_channels": 5}).eval()
    image = torch.zeros(1, 3, 32, 32)
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:16, 8:16] = 1
    ctx = JobContext()
    with torch.inference_mode():
        inst.forward(image, mask, torch.ones_like(mask), ctx)
    assert any("ignores sketch" in n for n in ctx.notices)


def test_cancelled_between_coarse_and_refinement():
    from inpaintstudio.errors import FillCancelled

    inst = DeepFillV2Inpainter(device="cpu")
    inst.net = build_deepfill({"cnum": 8}).eval()
    seen = []
    ctx = JobContext(progress=lambda f, _m: seen.append(f))
    ctx.cancel()
    with pytest.raises(FillCancelled), torch.inference_mode():
        inst.forward(torch.zeros(1, 3, 32, 32), torch.ones(1, 1, 32, 32), None, ctx)
    # the first pass (0 to 0.5 of the work; the mirrored pass is the second half) ran its coarse stage,
    # its refinement did not
    assert seen and seen[-1] == 0.25


def test_discriminator_is_spectral_normalised():
    disc = SNPatchGANDiscriminator(in_channels=5, width=8)
    assert any("parametrizations.weight.original" in k for k in disc.state_dict())
    assert disc(torch.randn(2, 5, 64, 64)).shape == (2, 4 * 8 * 1 * 1)
