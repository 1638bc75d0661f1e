"""Question 1: fill latency per model at 256 x 256 and 512 x 512 with a free-form hole of about 25 %.

Every registered model runs through the same pipeline as a user's fill (``run_fill``). For learned
models the network's forward pass alone is also timed at exactly that size, and its FLOPs are counted
with torch's FlopCounterMode, so achieved GFLOP/s can be compared with the machine's peak. Learned
models without installed weights are timed with random weights of their shipped configuration (same
architecture, same cost), which the table says. ``deepfillv2 @ original width`` is the paper's network
(cnum 48) for comparison with the paper's timings.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Table, free_form_hole, median_time, synthetic_photo, verdict

SIZES = (256, 512)
TARGETS_CPU = {("deepfillv2", 256): 0.7, ("deepfillv2", 512): 2.5}
TARGETS_CUDA = {("deepfillv2", 512): 0.010}


def _network_and_config(cls: type) -> tuple[object, dict, str]:
    """The family's network with installed weights if ready, else random weights of its shipped config."""
    spec = cls.weights_spec()
    if spec is not None and cls.status().ready:
        config = {k: v for k, v in spec.config.items() if k != "working_size"}
        return cls.build_network(config), config, "installed weights"
    config = dict(getattr(cls, "default_config", {}))
    return cls.build_network(config), config, "random weights"


def _forward_call(name: str, net: object, size: int, device: str, dtype: object = None):
    import torch

    dtype = dtype or torch.float32
    rng = np.random.default_rng(0)
    image = (torch.rand(1, 3, size, size, device=device) * 2 - 1).to(dtype)
    hole = torch.from_numpy(free_form_hole(size, size, 0.25)).to(device=device, dtype=dtype)[None, None]
    if name.startswith("srn"):
        h = size // 2
        known = image[..., :h, :h]
        r1, r2 = net.expand  # where the known crop may sit: any multiple of 4 the canvas leaves room for
        return lambda: net(
            known, int(rng.integers(0, h * (r1 - 1) // 4 + 1)) * 4, int(rng.integers(0, h * (r2 - 1) // 4 + 1)) * 4
        )
    if name.startswith("csa") and size % 256:
        return None
    return lambda: net(image, hole)


def count_flops(call) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        call()
    return float(counter.get_total_flops())


def network_rows(table: Table, names: list[str], device: str, repeats: int) -> None:
    import torch

    from inpaintstudio.engine import registry

    for name in names:
        cls = registry.get(name)
        if not cls.learned:
            continue
        variants = [(name, *_network_and_config(cls))]
        if name == "deepfillv2":
            config = {**dict(getattr(cls, "default_config", {})), "cnum": 48}
            variants.append(
                ("deepfillv2 @ original width (cnum 48)", cls.build_network(config), config, "random weights")
            )
        # On a GPU the app runs these networks in float16 (LearnedInpainter._use_half); time what it runs.
        half = device == "cuda" and cls.half_precision_safe
        dtype = torch.float16 if half else torch.float32
        for label, net, _config, source in variants:
            net = net.to(device=device, dtype=dtype).eval()
            source = f"{source}, float16" if half else source
            params = sum(p.numel() for p in net.parameters())
            for size in SIZES:
                call = _forward_call(name, net, size, device, dtype)
                if call is None:
                    table.add(label, f"{size}x{size}", "-", "-", "-", f"{params / 1e6:.2f} M", "needs multiples of 256")
                    continue
                with torch.inference_mode():
                    flops = count_flops(call)

                    def timed(call=call) -> None:
                        call()
                        if device == "cuda":
                            torch.cuda.synchronize()

                    seconds, _ = median_time(timed, repeats=repeats, warmup=2)
                shape = f"{size}x{size}" if not name.startswith("srn") else f"{size // 2}->{size}"
                table.add(label, shape, seconds, flops / 1e9, flops / 1e9 / seconds, f"{params / 1e6:.2f} M", source)


def pipeline_rows(table: Table, names: list[str], device: str, repeats: int, targets: dict) -> None:
    from inpaintstudio.engine import registry
    from inpaintstudio.engine.pipeline import ModelCache, run_fill
    from inpaintstudio.engine.request import FillRequest
    from inpaintstudio.geometry import Rect

    cache = ModelCache()
    for name in names:
        cls = registry.get(name)
        if not cls.status().ready:
            table.add(name, "-", "-", "-", f"not ready: {cls.status().state}")
            continue
        for size in SIZES:
            image = synthetic_photo(size, size)
            if name == "srn":
                half = size // 2
                request = FillRequest(
                    image[:half, :half].copy(),
                    np.zeros((half, half), bool),
                    name,
                    extent=Rect(0, 0, size, size),
                    device=device,
                )
                what = f"extend {half}->{size}"
            else:
                request = FillRequest(image, free_form_hole(size, size, 0.25), name, device=device)
                what = f"{request.mask.mean() * 100:.0f} % hole"
            seconds, _ = median_time(lambda r=request: run_fill(r, cache=cache), repeats=repeats, warmup=1)
            target = targets.get((name, size))
            note = verdict(seconds, target) if target else ""
            table.add(name, f"{size}x{size}", what, seconds, note)


def run(device: str = "cpu", repeats: int = 5) -> list[Table]:
    from inpaintstudio.engine import registry

    names = registry.names()
    targets = TARGETS_CUDA if device == "cuda" else TARGETS_CPU
    fills = Table(
        f"Q1a. Fill latency through the pipeline ({device}; median of {repeats} after warm-up)",
        ["model", "image", "task", "seconds", "target"],
    )
    pipeline_rows(fills, names, device, repeats, targets)
    nets = Table(
        f"Q1b. Network forward pass alone ({device}; median of {repeats}), FLOPs counted by torch",
        ["network", "input", "seconds", "GFLOP", "GFLOP/s", "parameters", "weights"],
    )
    network_rows(nets, names, device, repeats)
    for (name, size), target in targets.items():
        for row in nets.rows:
            if row[0] == name and row[1] == f"{size}x{size}":
                nets.notes.append(f"{name} network at {size}x{size}: {verdict(float(row[2]), target)}")
    return [fills, nets]
