"""DeepFillv2 training: SN-PatchGAN hinge loss + L1 on both stages (Yu et al., 2019), sketch-guided.

Per the paper: reconstruction ``mean|gt - x1| + mean|gt - x2|`` (weight 1 each), hinge GAN loss
(weight 1) from an SN-PatchGAN that sees the completed image, the mask and the sketch; Adam
(0.5, 0.999), one D step per G step. Options that depart from the paper, all recorded in the model card:

- ``hole_weight``: extra L1 weight inside the hole (0 = the paper's plain mean over the image);
- ``gan_start``: steps of L1-only warm-up before the GAN term is switched on (0 = from the start);
- ``gan_weight``: the GAN term's weight (1 in the paper).

Sketches are the ground truth's Canny edges inside the hole with random dropout / jitter and 30 % empty
(training/sketch.py), so the network learns to use strokes when given and to fill without them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inpaintstudio.networks.deepfill import SNPatchGANDiscriminator, build_deepfill
from inpaintstudio.training.losses import hinge_d_loss, hinge_g_loss
from inpaintstudio.training.recipes import register_recipe
from inpaintstudio.training.trainer import Recipe, TrainSettings


@register_recipe
class DeepFillRecipe(Recipe):
    family = "deepfillv2"  # the network: DeepFillV2Inpainter.default_config
    default_options: dict[str, Any] = {
        "l1_weight": 1.0,
        "hole_weight": 0.0,
        "gan_weight": 1.0,
        "gan_start": 0,
        "d_width": 64,
        "scales": [1.0, 0.5],
    }

    def __init__(self, settings: TrainSettings, device: torch.device) -> None:
        super().__init__(settings, device)
        self.G = build_deepfill(self.network_config).to(device)
        self.uses_sketch = int(self.network_config["in_channels"]) == 6
        self.D = SNPatchGANDiscriminator(5 if self.uses_sketch else 4, int(self.options["d_width"])).to(device)
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=settings.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=settings.lr, betas=betas)

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "discriminator": self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def _d_input(self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor) -> torch.Tensor:
        parts = [image, mask] + ([sketch] if self.uses_sketch else [])
        return torch.cat(parts, dim=1)

    def step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        x, m, s = batch["image"], batch["mask"], batch["sketch"]
        with self.autocast():
            coarse, refined = self.G(x, m, s if self.uses_sketch else None)
        completed = refined * m + x * (1 - m)
        gan = self.options["gan_weight"] > 0 and step >= int(self.options["gan_start"])
        losses: dict[str, float] = {}
        if gan:
            with self.autocast():
                both = self.D(torch.cat([self._d_input(x, m, s), self._d_input(completed.detach(), m, s)], dim=0))
            d_real, d_fake = both.float().chunk(2, dim=0)
            loss_d = hinge_d_loss(d_real, d_fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            losses["d"] = loss_d.item()
        weight = 1.0 + float(self.options["hole_weight"]) * m
        l1 = ((x - coarse.float()).abs() * weight).mean() + ((x - refined.float()).abs() * weight).mean()
        loss = float(self.options["l1_weight"]) * l1
        losses["l1"] = l1.item()
        if gan:
            self.D.requires_grad_(False)
            with self.autocast():
                g_adv = hinge_g_loss(self.D(self._d_input(completed, m, s)).float())
            self.D.requires_grad_(True)
            loss = loss + float(self.options["gan_weight"]) * g_adv
            losses["g_adv"] = g_adv.item()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return losses

    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        x, m, s = batch["image"], batch["mask"], batch["sketch"]
        _, refined = self.G(x, m, s if self.uses_sketch else None)
        shown = x * (1 - m) + m  # the hole in white
        shown = torch.where(s.bool().expand_as(shown), torch.tensor(-1.0, device=x.device), shown)  # strokes black
        return [shown, refined.float() * m + x * (1 - m), x]
