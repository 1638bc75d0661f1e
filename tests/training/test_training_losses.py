"""Tests for the GAN, reconstruction, RSV, ID-MRF and feature-consistency losses."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from inpaintstudio.training.losses import (
    feature_consistency_loss,
    hinge_d_loss,
    hinge_g_loss,
    id_mrf_loss,
    l1_loss,
    ra_lsgan_d_loss,
    ra_lsgan_g_loss,
    rsv_confidence,
    wgan_gp_penalty,
)


def test_hinge_losses_hand_computed() -> None:
    d_real = torch.tensor([2.0, 0.5])
    d_fake = torch.tensor([-2.0, 0.0])
    # relu(1 - real) = [0, 0.5] -> 0.25 ; relu(1 + fake) = [0, 1] -> 0.5
    assert hinge_d_loss(d_real, d_fake).item() == pytest.approx(0.75)
    assert hinge_g_loss(d_fake).item() == pytest.approx(1.0)


def test_l1_loss_with_and_without_weight() -> None:
    pred, target = torch.tensor([1.0, 2.0, 3.0]), torch.zeros(3)
    assert l1_loss(pred, target).item() == pytest.approx(2.0)
    assert l1_loss(pred, target, torch.tensor([1.0, 0.0, 0.0])).item() == pytest.approx(1.0 / 3.0)


def test_ra_lsgan_hand_computed() -> None:
    d_real, d_fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])
    # D: ((1-0-1)^2 + (3-0-1)^2)/2 = 2 ; ((0-2+1)^2)*2/2 = 1 ; halved -> 1.5
    assert ra_lsgan_d_loss(d_real, d_fake).item() == pytest.approx(1.5)
    # G: (0-2-1)^2 = 9 ; ((1-0+1)^2 + (3-0+1)^2)/2 = 10 ; halved -> 9.5
    assert ra_lsgan_g_loss(d_real, d_fake).item() == pytest.approx(9.5)


def test_wgan_gp_penalty_of_linear_critic() -> None:
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    # critic(x) = 2 * sum(x): gradient 2 at each of 4 elements -> norm 4 -> (4 - 1)^2 = 9
    penalty = wgan_gp_penalty(lambda x: 2.0 * x.flatten(1).sum(1), real, fake)
    assert penalty.item() == pytest.approx(9.0)


def test_wgan_gp_penalty_trains_the_critic() -> None:
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1))
    penalty = wgan_gp_penalty(critic, torch.randn(4, 3, 2, 2), torch.randn(4, 3, 2, 2))
    penalty.backward()
    assert penalty.item() > 0
    # Every weight matrix gets a gradient (the last bias cannot: it does not change d critic / d x).
    weights = [p for p in critic.parameters() if p.dim() == 2]
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in weights)


def _reference_rsv(mask: torch.Tensor, kernel: int, iterations: int) -> torch.Tensor:
    """Direct (non-separable) implementation with TF 'SAME' padding, for comparison."""
    before = (kernel - 1) // 2
    weight = torch.full((1, 1, kernel, kernel), 1.0 / kernel**2)
    conf, hole = 1.0 - mask, []
    for _ in range(iterations):
        h = F.conv2d(F.pad(conf, (before, kernel - 1 - before) * 2), weight) * mask
        hole.append(h)
        conf = h + (1.0 - mask)
    return hole[-2] / (hole[-1] + 1e-5)


@pytest.mark.parametrize("kernel", [4, 5, 64])
def test_rsv_matches_direct_convolution(kernel: int) -> None:
    mask = torch.zeros(2, 1, 40, 48)
    mask[0, :, 10:30, 12:40] = 1.0
    mask[1, :, :, 30:] = 1.0
    got = rsv_confidence(mask, kernel=kernel, iterations=9)
    assert got.shape == mask.shape
    assert torch.allclose(got, _reference_rsv(mask, kernel, 9), atol=1e-5)


def test_rsv_is_zero_outside_hole_and_decays_inside() -> None:
    mask = torch.zeros(1, 1, 32, 512)
    mask[..., 256:] = 1.0  # outpaint the right half
    mask.requires_grad_(True)
    weight = rsv_confidence(mask)
    assert not weight.requires_grad
    assert (weight[..., :256] == 0).all()
    row = weight[0, 0, 16, 256:]
    assert 0.9 < row[0] <= 1.0
    assert (row[1:] <= row[:-1] + 1e-6).all()  # farther from the known region -> lower weight
    assert row[-1] < 0.5 * row[0]


def test_id_mrf_identical_is_minimal_and_position_invariant() -> None:
    torch.manual_seed(0)
    target = torch.randn(2, 64, 16, 16)
    assert abs(id_mrf_loss([target], [target]).item()) < 1e-3
    shuffled = target.flatten(2)[:, :, torch.randperm(256)].reshape(2, 64, 16, 16)
    assert abs(id_mrf_loss([shuffled], [target]).item()) < 1e-3
    other = torch.randn(2, 64, 16, 16)
    assert id_mrf_loss([other], [target]).item() > 0.5
    losses = [id_mrf_loss([target + s * torch.randn_like(target)], [target]).item() for s in (1.0, 2.0)]
    assert 0.1 < losses[0] < losses[1] < id_mrf_loss([other], [target]).item()


def _unit_vectors(degrees: list[float]) -> torch.Tensor:
    """2-channel feature map (1 x 2 x 1 x K) of unit vectors at the given angles."""
    rad = torch.tensor(degrees) * math.pi / 180.0
    return torch.stack([rad.cos(), rad.sin()])[None, :, None, :]


def test_id_mrf_hand_computed() -> None:
    # Targets at 0/120/240 degrees (mean zero, so centring changes nothing); predictions at 0 and 60.
    # p(0) matches t(0) exactly -> its contextual weights are ~[1, 0, 0]. p(60) has distances
    # (1 - cos) / 2 = [0.25, 0.25, 1] -> relative [1, 1, 4] -> exp((1 - rel) / 0.5) = [1, 1, e^-6],
    # normalised over the targets: [r, r, r e^-6] with r = 1 / (2 + e^-6).
    # Max over predictions per target: [1, r, r e^-6]; loss = -log(mean).
    r = 1.0 / (2.0 + math.exp(-6.0))
    expected = -math.log((1.0 + r + r * math.exp(-6.0)) / 3.0)
    loss = id_mrf_loss([_unit_vectors([0.0, 60.0])], [_unit_vectors([0.0, 120.0, 240.0])])
    assert loss.item() == pytest.approx(expected, abs=1e-3)


def test_id_mrf_gradient_and_layer_average() -> None:
    torch.manual_seed(1)
    pred = [torch.randn(1, 32, 8, 8, requires_grad=True), torch.randn(1, 16, 4, 4, requires_grad=True)]
    target = [torch.randn(1, 32, 8, 8), torch.randn(1, 16, 4, 4)]
    loss = id_mrf_loss(pred, target)
    separate = [id_mrf_loss([p], [t]) for p, t in zip(pred, target, strict=True)]
    assert loss.item() == pytest.approx((separate[0].item() + separate[1].item()) / 2)
    loss.backward()
    for p in pred:
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_id_mrf_subsamples_large_maps() -> None:
    torch.manual_seed(2)
    target = torch.randn(1, 16, 48, 48)  # 2304 positions > 1024
    gen = torch.Generator().manual_seed(0)
    assert abs(id_mrf_loss([target], [target], generator=gen).item()) < 1e-3
    assert id_mrf_loss([torch.randn(1, 16, 40, 40)], [target], max_positions=256).item() > 0.1


def test_feature_consistency_with_and_without_mask() -> None:
    features = torch.zeros(1, 2, 4, 4, requires_grad=True)
    target = torch.zeros(1, 2, 4, 4)
    target[..., 2:, :] = 2.0  # error only in the bottom half
    target.requires_grad_(True)
    top, bottom = torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 16, 16)
    top[..., :8, :], bottom[..., 8:, :] = 1.0, 1.0
    assert feature_consistency_loss(features, target).item() == pytest.approx(2.0)
    assert feature_consistency_loss(features, target, top).item() == pytest.approx(0.0)
    loss = feature_consistency_loss(features, target, bottom)
    assert loss.item() == pytest.approx(4.0)
    loss.backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    assert target.grad is None
