"""Loss functions shared by the DeepFillv2, CSA and SRN training loops (formulas from the model spec).

Conventions: tensors are NCHW; masks are N x 1 x H x W floats with 1 = hole; discriminator outputs may
have any shape (they are averaged). Every loss returns a scalar tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "feature_consistency_loss",
    "hinge_d_loss",
    "hinge_g_loss",
    "id_mrf_loss",
    "l1_loss",
    "ra_lsgan_d_loss",
    "ra_lsgan_g_loss",
    "rsv_confidence",
    "wgan_gp_penalty",
]


# --------------------------------------------------------------------------------------------- GAN losses
def hinge_d_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """SN-PatchGAN discriminator hinge loss: ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))``."""
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def hinge_g_loss(d_fake: Tensor) -> Tensor:
    """Generator hinge loss ``-mean(D(fake))``; the generator just pushes the critic score up."""
    return -d_fake.mean()


def ra_lsgan_d_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Relativistic average LSGAN discriminator loss (CSA).

    ``(mean((D(r) - mean D(f) - 1)^2) + mean((D(f) - mean D(r) + 1)^2)) / 2``: real samples should look
    more real than the average fake and vice versa. Halved like the CSA code so both terms weigh 1/2.
    """
    return 0.5 * (((d_real - d_fake.mean() - 1.0) ** 2).mean() + ((d_fake - d_real.mean() + 1.0) ** 2).mean())


def ra_lsgan_g_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Relativistic average LSGAN generator loss: the discriminator loss with the targets swapped.

    Unlike a plain GAN the generator also gets gradient through the real term; pass ``d_real`` detached
    (computed without grad) when the discriminator should not be updated by this loss.
    """
    return 0.5 * (((d_fake - d_real.mean() - 1.0) ** 2).mean() + ((d_real - d_fake.mean() + 1.0) ** 2).mean())


def wgan_gp_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP gradient penalty ``mean((||grad critic(x_hat)||_2 - 1)^2)`` at random interpolates.

    ``x_hat = a * real + (1 - a) * fake`` with one ``a ~ U(0, 1)`` per sample; ``fake`` is detached. The
    graph is kept (``create_graph``) so the penalty trains the critic. Unweighted: SRN multiplies by 10.
    Wrap extra critic inputs (e.g. the mask) in a lambda.
    """
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, generator=generator)
    alpha = alpha.to(real.dtype)
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    grad_norm = grad.flatten(1).norm(2, dim=1)
    return ((grad_norm - 1.0) ** 2).mean()


# -------------------------------------------------------------------------------------- pixel / feature
def l1_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean absolute error over all elements, optionally multiplied by a broadcastable ``weight`` first.

    With a weight this is ``mean(|pred - target| * weight)`` (not normalised by the weight sum), which is
    how both DeepFillv2 and SRN (RSV weight) define their reconstruction terms.
    """
    diff = (pred - target).abs()
    if weight is not None:
        diff = diff * weight
    return diff.mean()


def _box_filter_same(x: Tensor, kernel: int) -> Tensor:
    """Mean over a ``kernel x kernel`` window with zero padding, output the same size as the input.

    Padding follows TF 'SAME' ((k - 1) // 2 before, the rest after), and the filter is separable, so a
    64 x 64 window costs 2 x 64 instead of 4096 operations per pixel.
    """
    before = (kernel - 1) // 2
    after = kernel - 1 - before
    x = F.pad(x, (before, after, before, after))
    x = F.avg_pool2d(x, kernel_size=(kernel, 1), stride=1)
    return F.avg_pool2d(x, kernel_size=(1, kernel), stride=1)


@torch.no_grad()
def rsv_confidence(mask: Tensor, kernel: int = 64, iterations: int = 9) -> Tensor:
    """SRN relative spatial variant (RSV) weight for the reconstruction loss (N x 1 x H x W, no grad).

    Confidence spreads from the known region into the hole: ``c = 1 - m``; repeat ``iterations`` times
    ``h = box(c) * m`` then ``c = h + (1 - m)``. Here ``c_8`` / ``c_9`` in the spec's ``c_8 / (c_9 + 1e-5)``
    are the *hole parts* ``h`` of the last two iterations (before the known region is added back), as in
    the authors' code; hence the weight is 0 on known pixels (covered by the separate known-region term)
    and, inside the hole, is the ratio of two successive propagation steps: close to 1 next to the known
    region and decaying with the distance into the hole (0 beyond ~8 * kernel / 2 px), so far-away pixels,
    which may plausibly differ from the ground truth, are penalised less.
    The original uses a 64 x 64 Gaussian with sigma 1/40 (numerically flat), i.e. a box filter.
    """
    if iterations < 2:
        raise ValueError("rsv_confidence needs at least 2 iterations (it divides the last two)")
    mask = mask.float()
    known = 1.0 - mask
    conf = known
    hole_prev = hole_last = torch.zeros_like(mask)
    for _ in range(iterations):
        hole_prev = hole_last
        hole_last = _box_filter_same(conf, kernel) * mask
        conf = hole_last + known
    return hole_prev / (hole_last + 1e-5)


def feature_consistency_loss(features: Tensor, target_features: Tensor, mask: Tensor | None = None) -> Tensor:
    """MSE between feature maps (CSA consistency loss with a substitute feature network).

    ``target_features`` is detached (it is a target, e.g. features of the ground truth). With ``mask``
    (N x 1 x H x W at image resolution) the error is averaged over the hole only: the mask is area-
    resized to the feature size, so partially covered feature cells get a fractional weight.
    """
    target = target_features.detach()
    sq = (features - target) ** 2
    if mask is None:
        return sq.mean()
    weight = F.adaptive_avg_pool2d(mask.to(sq.dtype), features.shape[-2:])
    denom = weight.sum() * features.shape[1]
    return (sq * weight).sum() / denom.clamp_min(1e-8)


# ------------------------------------------------------------------------------------------------ ID-MRF
def _subsample(flat: Tensor, index: Tensor | None) -> Tensor:
    """Keep the positions ``index`` of an N x C x P tensor (all positions when ``index`` is None)."""
    return flat if index is None else flat[:, :, index]


def _id_mrf_layer(
    pred: Tensor, target: Tensor, h: float, eps: float, max_positions: int, generator: torch.Generator | None
) -> Tensor:
    """ID-MRF loss of one feature layer (N x C x H x W each, spatial sizes may differ)."""
    p = pred.flatten(2)
    t = target.detach().flatten(2)
    # Bound the N x P x T similarity matrix: random positions (fresh each call, so over many steps every
    # position is seen). Same-shaped maps share the index set so that identical inputs still pair up.
    p_idx = t_idx = None
    if p.shape[2] > max_positions:
        p_idx = torch.randperm(p.shape[2], generator=generator)[:max_positions].to(p.device)
    if t.shape[2] > max_positions:
        t_idx = (
            p_idx
            if p.shape[2] == t.shape[2]
            else torch.randperm(t.shape[2], generator=generator)[:max_positions].to(t.device)
        )
    p, t = _subsample(p, p_idx), _subsample(t, t_idx)

    mean_t = t.mean(dim=2, keepdim=True)  # centre both by the target's per-channel mean
    p = F.normalize(p - mean_t, dim=1)
    t = F.normalize(t - mean_t, dim=1)
    cosine = torch.bmm(p.transpose(1, 2), t)  # N x P(pred) x T(target)
    dist = (1.0 - cosine) / 2.0  # cosine distance in [0, 1]
    # Relative distance: for each prediction vector, distance to each target relative to its nearest one.
    rel = dist / (dist.min(dim=2, keepdim=True).values + eps)
    # exp((1 - rel) / h) normalised over the targets == softmax(-rel / h) (overflow-free form).
    contextual = torch.softmax(-rel / h, dim=2)
    # For each target vector, its best-matching prediction; averaged over targets. Near 1 means every
    # target feature has its own dedicated counterpart in the prediction (diversified matching).
    score = contextual.max(dim=1).values.mean(dim=1)
    return -torch.log(score + eps).mean()


def id_mrf_loss(
    pred_feats: Sequence[Tensor],
    target_feats: Sequence[Tensor],
    h: float = 0.5,
    eps: float = 1e-5,
    *,
    max_positions: int = 1024,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Implicit diversified MRF loss (SRN / GMCNN), averaged over the given feature layers.

    Per layer: cosine distances between every prediction and target feature vector (after centring by
    the target mean), relative distance ``d / (min_d + eps)`` where the minimum is over targets for each
    prediction vector, weight ``exp((1 - d_rel) / h)`` normalised over the targets (as in the paper's
    ``RS(v, s) / sum_r RS(v, r)``), and ``-log(mean over targets of max over predictions)``. It is ~0 when
    the prediction contains every target feature. Layers with more than ``max_positions`` positions are
    randomly subsampled to keep memory at ``N * max_positions**2`` floats.
    """
    if len(pred_feats) != len(target_feats) or not pred_feats:
        raise ValueError("pred_feats and target_feats must be non-empty lists of equal length")
    losses = [
        _id_mrf_layer(p, t, h, eps, max_positions, generator) for p, t in zip(pred_feats, target_feats, strict=True)
    ]
    return torch.stack(losses).mean()
