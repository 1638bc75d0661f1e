"""``csa``: coherent semantic attention (Liu et al., 2019): a rough U-Net, then a refinement U-Net whose
CSA layer fills the hole's features in raster order, each one coherent with the previous one.

No official weights exist; ours are trained for InpaintStudio. torch is imported only inside methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from inpaintstudio.engine.base import Capabilities
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.detail import AttentionMap
from inpaintstudio.engine.learned import LearnedInpainter
from inpaintstudio.engine.registry import register

if TYPE_CHECKING:
    import torch


def _attention_map(kept: tuple[list, tuple[int, int]], height: int) -> AttentionMap:
    """CSA's hard attention (each hole position's best known position) over the whole feature grid."""
    import numpy as np

    maps, (rows, cols) = kept
    amap = maps[0]
    best = np.arange(rows * cols)
    best[amap.holes.cpu().numpy()] = amap.best.cpu().numpy()
    return AttentionMap.from_best(best, (rows, cols), height // rows)


@register
class CSAInpainter(LearnedInpainter):
    name = "csa"
    label = "CSA"
    summary = "Coherent semantic attention; structured fills of medium holes at 256 x 256"
    caps = Capabilities(
        exclude=True,  # its attention never picks an excluded known position
        working_size=256,
        pad_multiple=256,  # eight halvings in both U-Nets
        min_size=128,  # smaller crops are scaled up rather than mirrored many times into 256 x 256
        # CSA scales every crop to 256 px: a wider context (a hole's own size on every side) scored lower
        # on the validation photos (17.18 -> 16.97 dB), so it keeps the classical fills' half.
        context=0.5,
    )
    # Configuration of newly trained weights (training/recipes/csa.py starts from it), as the shipped
    # weights have it; width_key sets the width (the registry-driven tests).
    default_config: ClassVar[dict[str, Any]] = {"ngf": 16, "rough_ngf": 16}
    width_key: ClassVar[str] = "ngf"

    @classmethod
    def build_network(cls, config: dict[str, Any]) -> torch.nn.Module:
        from inpaintstudio.networks.csa import build_csa

        return build_csa(config)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        sketch: torch.Tensor | None,
        ctx: JobContext,
        exclude: torch.Tensor | None = None,
    ) -> torch.Tensor:
        net = self.net
        ctx.progress(0.05, f"{self.name}: rough pass")
        rough = net.stage1(image, mask)
        ctx.progress(0.4, f"{self.name}: refinement with coherent semantic attention")
        ctx.check_cancelled()
        net.refine.keep_attention, net.refine.kept = self.collect_attention, None
        try:
            refined = net.stage2(rough, image, mask, exclude)
        finally:
            net.refine.keep_attention = False
        if net.refine.kept is not None:
            self.attention = _attention_map(net.refine.kept, image.shape[-2])
            net.refine.kept = None
        ctx.progress(1.0, f"{self.name}: done")
        return refined
