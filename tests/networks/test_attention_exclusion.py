"""The attention layers with a sampling exclusion: excluded known positions are never candidates."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from inpaintstudio.networks.attention import CoherentSemanticAttention, ContextualAttention, csa_search
from inpaintstudio.networks.csa import CSA_LEVEL, build_csa
from inpaintstudio.networks.deepfill import build_deepfill


def _features(c=4, h=16, w=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, c, h, w, generator=gen, dtype=torch.float64)
    mask = torch.zeros(1, 1, 4 * h, 4 * w, dtype=torch.float64)
    mask[..., 16:40, 40:64] = 1
    exclude = torch.zeros_like(mask)
    exclude[..., :, :32] = 1  # the left third of the image
    return x, mask, exclude


def test_contextual_attention_gives_excluded_candidates_no_weight():
    x, mask, exclude = _features()
    layer = ContextualAttention()
    layer.keep_attention = True
    layer(x, x, mask, exclude)
    ((attention, (hs, ws)),) = layer.kept
    # candidate (row, col) of the 8 x 12 grid at rate 2: its 3 x 3 window at 1/8 of the image must not
    # reach into the excluded third (image columns < 32, grid columns < 4)
    weight_per_candidate = attention.sum(dim=1).view(hs, ws)
    assert weight_per_candidate[:, :5].abs().max() == 0
    assert weight_per_candidate[:, 5:].sum() > 0
    # without the exclusion the same candidates do get weight
    layer.kept = []
    layer(x, x, mask)
    ((plain, _),) = layer.kept
    assert plain.sum(dim=1).view(hs, ws)[:, :4].sum() > 0


def test_a_thin_excluded_stroke_is_not_lost_to_nearest_sampling():
    x, mask, _ = _features()
    exclude = torch.zeros_like(mask)
    exclude[..., :, 33] = 1  # one image column: nearest sampling at 1/8 would miss it
    layer = ContextualAttention()
    layer.keep_attention = True
    layer(x, x, mask, exclude)
    ((attention, (hs, ws)),) = layer.kept
    assert attention.sum(dim=1).view(hs, ws)[:, 4].abs().max() == 0


def test_csa_search_never_picks_an_excluded_position():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(8, 10, 12, generator=gen, dtype=torch.float64)
    hole = torch.zeros(10, 12, dtype=torch.bool)
    hole[3:7, 4:9] = True
    exclude = torch.zeros_like(hole)
    exclude[:, :6] = True
    plain = csa_search(x, hole)
    chosen = csa_search(x, hole, exclude)
    excluded = set(torch.nonzero(exclude.reshape(-1) & ~hole.reshape(-1)).flatten().tolist())
    assert any(int(i) in excluded for i in plain.best)  # without it, the best matches include excluded ones
    assert not any(int(i) in excluded for i in chosen.best)
    # the layer passes the exclusion per sample
    y, maps = CoherentSemanticAttention()(x[None], hole[None, None].double(), exclude[None, None].double())
    assert torch.equal(maps[0].best, chosen.best)


def test_the_generators_pass_the_exclusion_to_their_attention():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 256, 256) * 2 - 1
    mask = torch.zeros(1, 1, 256, 256)
    mask[..., 96:160, 96:160] = 1
    exclude = torch.zeros_like(mask)
    exclude[..., :, :128] = 1
    deepfill = build_deepfill({"cnum": 8}).eval()
    attention = deepfill.refine.contextual_attention
    attention.keep_attention = True
    with torch.no_grad():
        deepfill.stage2(image, image, mask, exclude)
    ((weights, (hs, ws)),) = attention.kept
    assert weights.sum(dim=1).view(hs, ws)[:, : ws // 2].abs().max() == 0
    csa = build_csa({"ngf": 8}).eval()
    csa.refine.keep_attention = True
    with torch.no_grad():
        csa.stage2(image, image, mask, exclude)
    maps, (rows, cols) = csa.refine.kept
    fexclude = F.max_pool2d(exclude, 2**CSA_LEVEL).reshape(-1) > 0
    assert maps[0].best.numel() > 0
    assert not fexclude[maps[0].best].any()
