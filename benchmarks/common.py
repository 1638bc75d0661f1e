"""Shared benchmark helpers: timing (median after warm-up), machine description, tables, peak memory."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Table:
    """One question's answer: a title, column names, rows, and target verdicts as notes."""

    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *values: object) -> None:
        self.rows.append(list(values))

    def markdown(self) -> str:
        def fmt(v: object) -> str:
            if isinstance(v, float):
                return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
            return str(v)

        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}"
    try:
        import torch

        text += f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
        if torch.cuda.is_available():
            text += f", GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def verdict(value: float, target: float, unit: str = "s") -> str:
    return f"{'meets' if value <= target else 'MISSES'} the target ({value:.3g} {unit} vs <= {target:g} {unit})"


def run_isolated(code: str, timeout: float = 600) -> dict:
    """Run Python code in a fresh interpreter (clean memory, imports and caches); it prints one JSON line."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def synthetic_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A photo-like test image of any size: a real photo tiled and mirrored (texture, edges, colour)."""
    from PIL import Image

    base = np.asarray(Image.open(ROOT / "resources" / "sample.jpg").convert("RGB"))
    tile = np.concatenate([base, base[:, ::-1]], axis=1)
    tile = np.concatenate([tile, tile[::-1]], axis=0)
    reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]), 1)
    out = np.tile(tile, reps)[:height, :width]
    return np.ascontiguousarray(np.roll(out, seed * 37, axis=1))


def free_form_hole(height: int, width: int, fraction: float, seed: int = 0) -> np.ndarray:
    """A free-form hole (the training generator's strokes and box) covering about ``fraction``."""
    from inpaintstudio.training.masks import mask_with_coverage

    rng = np.random.default_rng(seed)
    return mask_with_coverage(height, width, rng, fraction * 0.9, fraction * 1.1)


class learned_weights:  # noqa: N801 - used as a context manager, named like one
    """Make a learned model runnable for timing: the installed weights if ready, else random weights of
    the same network config written to a temporary models folder (same architecture, same cost)."""

    def __init__(self, name: str, config: dict | None = None) -> None:
        self.name, self.config = name, config
        self.tmp: str | None = None
        self.source = "installed weights"
        self._old: str | None = None

    def __enter__(self) -> str:
        import tempfile

        from inpaintstudio.engine import registry, weights

        cls = registry.get(self.name)
        if cls.status().ready and self.config is None:
            return self.source
        config = self.config or dict(getattr(cls, "default_config", {}))
        self.tmp = tempfile.mkdtemp(prefix="inpaintstudio-bench-models-")
        weights.store(
            Path(self.tmp), self.name, cls.build_network(config).state_dict(), input_size=256,
            licence="benchmark only", training_data="none", training="random weights", origin="benchmark",
            config=config,
        )  # fmt: skip
        self._old = os.environ.get("INPAINTSTUDIO_MODELS_DIR")
        os.environ["INPAINTSTUDIO_MODELS_DIR"] = self.tmp
        self.source = f"random weights, config {json.dumps(config)}"
        return self.source

    def __exit__(self, *exc: object) -> None:
        import shutil

        if self.tmp is None:
            return
        if self._old is None:
            os.environ.pop("INPAINTSTUDIO_MODELS_DIR", None)
        else:
            os.environ["INPAINTSTUDIO_MODELS_DIR"] = self._old
        shutil.rmtree(self.tmp, ignore_errors=True)
