"""CSA training: L1 on both stages, a consistency loss that trains, patch + feature discriminators.

The paper (Liu et al., 2019) weighs L1 by 100 and the relativistic-average LSGAN terms by 0.2, i.e. the
adversarial terms are 1/500 of the reconstruction; the defaults keep those ratios with L1 at 1.
Departures, recorded in the model card:

- **Consistency loss.** The paper pulls the CSA layer's output and the matching decoder feature towards
  a pretrained VGG-16 relu4_3 of the ground truth (in the official code this term is detached and trains
  nothing). Here it trains: both features pass through learned 1x1 projections to the target's width,
  and the target is the ground truth's deep features from the feature network (training/features.py:
  the user's VGG-16 with ``--vgg``, else the patch discriminator's own 1/8-resolution features); both
  sides are compared after normalising each position's feature vector, so the loss cannot run away
  with the scale of a target that is itself training.
- **Feature discriminator.** The paper's runs on VGG relu3_3 features; here on the same feature
  network's 1/4-resolution features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaintstudio.networks.csa import FeatureDiscriminator, PatchDiscriminator, build_csa
from inpaintstudio.training.features import SequentialTaps, VGGFeatures
from inpaintstudio.training.losses import ra_lsgan_d_loss, ra_lsgan_g_loss
from inpaintstudio.training.recipes import register_recipe
from inpaintstudio.training.trainer import Recipe, TrainSettings


@register_recipe
class CSARecipe(Recipe):
    family = "csa"  # the network: CSAInpainter.default_config
    default_options: dict[str, Any] = {
        "l1_weight": 1.0,
        "gan_weight": 0.002,
        "consistency_weight": 0.1,
        "gan_start": 0,
        "d_width": 32,
        "scales": [1.0, 0.6],
    }

    def __init__(self, settings: TrainSettings, device: torch.device) -> None:
        super().__init__(settings, device)
        if settings.crop % 256:
            raise ValueError("CSA trains on crops whose side is a multiple of 256 (eight downsamplings)")
        self.G = build_csa(self.network_config).to(device)
        width = int(self.options["d_width"])
        self.D = PatchDiscriminator(3, width).to(device)
        if settings.vgg:
            self.features: nn.Module = VGGFeatures(Path(settings.vgg)).to(device)
        else:
            # Patch discriminator layers: ... [4] LeakyReLU at 1/4 (2w), [7] LeakyReLU at 1/8 (4w).
            self.features = SequentialTaps(self.D.layers, {"mid": 4, "deep": 7}, {"mid": 2 * width, "deep": 4 * width})
        channels = self.features.channels()
        csa_channels = 8 * int(self.network_config["ngf"])
        self.project = nn.ModuleDict(
            {
                "encoder": nn.Conv2d(csa_channels, channels["deep"], 1),
                "decoder": nn.Conv2d(csa_channels, channels["deep"], 1),
            }
        ).to(device)
        self.D_feat = FeatureDiscriminator(channels["mid"], width).to(device)
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam([*self.G.parameters(), *self.project.parameters()], lr=settings.lr, betas=betas)
        self.opt_d = torch.optim.Adam([*self.D.parameters(), *self.D_feat.parameters()], lr=settings.lr, betas=betas)

    def modules(self) -> dict[str, nn.Module]:
        return {
            "generator": self.G,
            "discriminator": self.D,
            "feature_discriminator": self.D_feat,
            "projection": self.project,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        x, m = batch["image"], batch["mask"]
        with self.autocast():
            rough, refined = self.G(x, m)
        completed = refined.float() * m + x * (1 - m)
        gan = float(self.options["gan_weight"]) > 0 and step >= int(self.options["gan_start"])
        losses: dict[str, float] = {}
        if gan:
            with self.autocast():
                d_real, d_fake = self.D(torch.cat([x, completed.detach()])).float().chunk(2)
                with torch.no_grad():
                    mid = self.features(torch.cat([x, completed.detach()]))["mid"]
                f_real, f_fake = self.D_feat(mid.detach()).float().chunk(2)
            loss_d = ra_lsgan_d_loss(d_real, d_fake) + ra_lsgan_d_loss(f_real, f_fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            losses["d"] = loss_d.item()
        l1 = (x - rough.float()).abs().mean() + (x - refined.float()).abs().mean()
        loss = float(self.options["l1_weight"]) * l1
        losses["l1"] = l1.item()
        csa = self.G.csa_features
        if float(self.options["consistency_weight"]) > 0 and csa:
            with torch.no_grad():
                target = self.features(x)["deep"].float()
            # Compared after normalising each position's feature vector: the substitute target (the
            # discriminator's features) changes scale as it trains, and an unnormalised L2 to it blew up
            # to ~3000 within a few hundred steps at lr 1e-3.
            unit = F.normalize(target, dim=1)
            consistency = sum(
                F.mse_loss(
                    F.normalize(F.interpolate(self.project[k](csa[k].float()), size=target.shape[-2:]), dim=1), unit
                )
                for k in ("encoder", "decoder")
            )
            loss = loss + float(self.options["consistency_weight"]) * consistency
            losses["consistency"] = consistency.item()
        if gan:
            for net in (self.D, self.D_feat):
                net.requires_grad_(False)
            with self.autocast():
                d_real, d_fake = self.D(torch.cat([x, completed])).float().chunk(2)
                mid = self.features(torch.cat([x, completed]))["mid"]
                f_real, f_fake = self.D_feat(mid).float().chunk(2)
            g_adv = ra_lsgan_g_loss(d_real.detach(), d_fake) + ra_lsgan_g_loss(f_real.detach(), f_fake)
            for net in (self.D, self.D_feat):
                net.requires_grad_(True)
            loss = loss + float(self.options["gan_weight"]) * g_adv
            losses["g_adv"] = g_adv.item()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return losses

    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        x, m = batch["image"], batch["mask"]
        rough, refined = self.G(x, m)
        return [x * (1 - m) + m, rough.float() * m + x * (1 - m), refined.float() * m + x * (1 - m), x]
