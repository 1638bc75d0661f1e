"""The benchmark's network calls in the precision the app uses on a GPU (float16), run on the CPU."""

from __future__ import annotations

import pytest
import torch

from benchmarks.latency import _forward_call, count_flops
from inpaintstudio.engine import registry


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_a_network_call_runs_in_the_app_precision_and_counts_its_flops(dtype):
    cls = registry.get("deepfillv2")
    net = cls.build_network({**cls.default_config, "cnum": 8}).to(dtype=dtype).eval()
    call = _forward_call("deepfillv2", net, 64, "cpu", dtype)
    with torch.inference_mode():
        out = call()
        flops = count_flops(call)
    out = out[-1] if isinstance(out, (tuple, list)) else out
    assert out.dtype == dtype and torch.isfinite(out).all()
    assert flops > 1e8


@pytest.mark.parametrize("expand", [(1, 2), (2, 1), (2, 2)])
def test_the_srn_call_places_its_known_crop_where_the_canvas_has_room(expand):
    """Q1b crashed once srn's layout became the paper's scenes one (full height known): the crop's row
    offset must come from the network's own expansion."""
    from inpaintstudio.networks.srn import SRNGenerator

    net = SRNGenerator(cnum=8, expand=expand)
    call = _forward_call("srn", net, 64, "cpu")
    for _ in range(5):  # several random offsets
        out = call()
        assert out.shape[-2:] == (32 * expand[0], 32 * expand[1])
