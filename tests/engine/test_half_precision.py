"""The float16 path that learned models take on CUDA, run here on the CPU.

On a GPU every learned family runs in half precision (half the memory, tensor cores). No GPU is
available to CI, but torch's CPU kernels accept float16 too, so the same code path (weights cast to
half, inputs in half, attention softmax in float32) is run here and compared with float32: an overflow
or a dtype mismatch would show as NaN, an exception or a visibly different fill.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaintstudio.engine import registry
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.learned import LearnedInpainter


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.refresh()
    yield
    registry.refresh()


def _inputs(size: int, outpaint: bool):
    rng = np.random.default_rng(3)
    base = rng.random((size // 8, size // 8, 3))
    image = (np.kron(base, np.ones((8, 8, 1))) * 255).astype(np.uint8)  # blocks: structure to fill
    hole = np.zeros((size, size), bool)
    if outpaint:
        hole[:, size * 3 // 4 :] = True
    else:
        hole[size // 4 : size // 2, size // 3 : size * 2 // 3] = True
    return image, hole


def _fill(cls: type[LearnedInpainter], half: bool, monkeypatch, size: int, outpaint: bool) -> np.ndarray:
    monkeypatch.setattr(cls, "_use_half", lambda self: half)
    inpainter = cls(device="cpu")
    inpainter.load(JobContext())
    assert next(inpainter.net.parameters()).dtype == (torch.float16 if half else torch.float32)
    image, hole = _inputs(size, outpaint)
    return inpainter.inpaint(image, hole, None, JobContext())


@pytest.mark.parametrize(("model", "size"), [("deepfillv2", 128), ("csa", 256)])
def test_shipped_models_fill_alike_in_half_precision(model, size, monkeypatch):
    cls = registry.get(model)
    if not cls.status().ready:
        pytest.skip(f"{model} has no shipped weights")
    single = _fill(cls, False, monkeypatch, size, outpaint=False)
    half = _fill(cls, True, monkeypatch, size, outpaint=False)
    _, hole = _inputs(size, outpaint=False)
    diff = np.abs(single.astype(int) - half.astype(int))[hole]
    assert diff.mean() < 2.0 and np.percentile(diff, 99) < 16, (diff.mean(), diff.max())


def test_srn_extends_alike_in_half_precision(srn_weights, monkeypatch):
    cls = registry.get("srn")
    single = _fill(cls, False, monkeypatch, 256, outpaint=True)
    half = _fill(cls, True, monkeypatch, 256, outpaint=True)
    _, hole = _inputs(256, outpaint=True)
    diff = np.abs(single.astype(int) - half.astype(int))[hole]
    assert diff.mean() < 2.0 and np.percentile(diff, 99) < 16, (diff.mean(), diff.max())
