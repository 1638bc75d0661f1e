"""SRN training for outpainting (Wang et al., 2019): RSV-weighted L1, then WGAN-GP and ID-MRF.

Each batch is a set of canvas crops of the photos; the network gets the known rectangle (canvas / r1
by canvas / r2, at a random position shared by the batch) and must produce the whole canvas.

- Pre-training (the paper's first phase): ``4.2 * l1_rsv + 1.2 * ae`` where ``l1_rsv`` is the L1 weighted
  by the relative spatial variant confidence (high next to the known area, decaying away from it) and
  ``ae`` the plain L1 over the generated area.
- Fine-tuning from ``finetune_start`` on: adds ``1e-3 * (WGAN-GP global + contextual critics)`` and
  ``0.05 * ID-MRF``. ID-MRF compares features of the prediction and the truth; the paper takes them from
  a pretrained VGG-19 (conv3_2, conv4_2). Here they come from the user's VGG-19 with ``--vgg``, else from
  the global critic's own 1/4- and 1/8-resolution layers (stated in the model card).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from inpaintstudio.networks.srn import SRNContextCritic, SRNGlobalCritic, build_srn
from inpaintstudio.training.features import SequentialTaps, VGGFeatures
from inpaintstudio.training.losses import id_mrf_loss, rsv_confidence, wgan_gp_penalty
from inpaintstudio.training.recipes import register_recipe
from inpaintstudio.training.trainer import Recipe, TrainSettings


@register_recipe
class SRNRecipe(Recipe):
    family = "srn"  # the network: SRNInpainter.default_config (the paper's scenes layout, expand [1, 2])
    default_options: dict[str, Any] = {
        "rsv_weight": 4.2,
        "ae_weight": 1.2,
        "gan_weight": 1e-3,
        "mrf_weight": 0.05,
        "gp_weight": 10.0,
        "finetune_start": 10**9,  # pre-training only unless set
        "d_width": 32,
        "scales": [1.0, 0.5],
    }

    def __init__(self, settings: TrainSettings, device: torch.device) -> None:
        super().__init__(settings, device)
        self.G = build_srn(self.network_config).to(device)
        self.r1, self.r2 = (int(v) for v in self.network_config["expand"])
        size = settings.crop
        if size % (4 * self.r1) or size % (4 * self.r2):
            raise ValueError(f"the canvas crop {size} must divide into known crops that are multiples of 4")
        width = int(self.options["d_width"])
        self.critic = SRNGlobalCritic(3, width, (size, size)).to(device)
        self.context_critic = SRNContextCritic(3, width).to(device)
        if settings.vgg:
            self.features: nn.Module = VGGFeatures(Path(settings.vgg)).to(device)
        else:
            # Global critic units: [1] at 1/4 (2w), [2] at 1/8 (4w).
            self.features = SequentialTaps(
                self.critic.features, {"mid": 1, "deep": 2}, {"mid": 2 * width, "deep": 4 * width}
            )
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=settings.lr, betas=(0.5, 0.9))
        critics = [*self.critic.parameters(), *self.context_critic.parameters()]
        self.opt_d = torch.optim.Adam(critics, lr=settings.lr, betas=(0.5, 0.9))
        self._rng = np.random.default_rng(settings.seed)

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "critic": self.critic, "context_critic": self.context_critic}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "critic": self.opt_d}

    def _layout(self, size: int) -> tuple[int, int, int, int]:
        """Known crop (h, w) and its random position on the canvas."""
        h, w = size // self.r1, size // self.r2
        top = int(self._rng.integers(0, size - h, endpoint=True)) // 4 * 4 if self.r1 > 1 else 0
        left = int(self._rng.integers(0, size - w, endpoint=True)) // 4 * 4 if self.r2 > 1 else 0
        return h, w, top, left

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = x.shape[-1]
        h, w, top, left = self._layout(size)
        known = x[..., top : top + h, left : left + w]
        with self.autocast():
            out = self.G(known, top, left).float()
        hole = torch.ones_like(x[:, :1])
        hole[..., top : top + h, left : left + w] = 0
        return out, hole

    def step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        x = batch["image"]
        out, hole = self._forward(x)
        completed = out * hole + x * (1 - hole)
        finetune = step >= int(self.options["finetune_start"])
        losses: dict[str, float] = {}
        if finetune:
            fake = completed.detach()
            with self.autocast():
                d_real, d_fake = self.critic(torch.cat([x, fake])).float().chunk(2)
                c_real, c_fake = self.context_critic(torch.cat([x, fake]), torch.cat([hole, hole]))[0].float().chunk(2)
            penalty = wgan_gp_penalty(self.critic, x, fake) + wgan_gp_penalty(
                lambda t: self.context_critic(t, hole)[0], x, fake
            )
            loss_d = (
                (d_fake.mean() - d_real.mean())
                + (c_fake.mean() - c_real.mean())
                + float(self.options["gp_weight"]) * penalty
            )
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            losses["critic"] = loss_d.item()
        weight = rsv_confidence(hole)
        l1_rsv = ((x - out).abs() * weight).mean()
        ae = ((x - out).abs() * hole).mean() / hole.mean()
        loss = float(self.options["rsv_weight"]) * l1_rsv + float(self.options["ae_weight"]) * ae
        losses.update(l1_rsv=l1_rsv.item(), ae=ae.item())
        if finetune:
            for net in (self.critic, self.context_critic):
                net.requires_grad_(False)
            with self.autocast():
                adv = -self.critic(completed).float().mean() - self.context_critic(completed, hole)[0].float().mean()
                pred_f, true_f = self.features(completed), self.features(x)
            mrf = id_mrf_loss(
                [pred_f["mid"].float(), pred_f["deep"].float()], [true_f["mid"].float(), true_f["deep"].float()]
            )
            for net in (self.critic, self.context_critic):
                net.requires_grad_(True)
            loss = loss + float(self.options["gan_weight"]) * adv + float(self.options["mrf_weight"]) * mrf
            losses.update(g_adv=adv.item(), mrf=mrf.item())
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return losses

    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        x = batch["image"]
        out, hole = self._forward(x)
        return [x * (1 - hole) + hole, out * hole + x * (1 - hole), x]
