"""Shipped weights of a learned model: found through the manifest, verified, loaded, or clearly refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaintstudio.engine import registry, weights
from inpaintstudio.engine.context import JobContext
from inpaintstudio.errors import WeightsError

CONFIG = {"cnum": 8, "in_channels": 6, "channel_order": "rgb", "padding": "same", "fuse": True}


def _ship(folder, model="deepfillv2", config=CONFIG) -> dict:
    """Random weights as float16 safetensors plus a manifest entry, as the release does."""
    cls = registry.get(model)
    torch.manual_seed(0)
    spec = weights.store(
        folder, model, cls.build_network(config).state_dict(), input_size=256, licence="MIT",
        training_data="test photos", training="none: random", origin="made by the test", config=config,
    )  # fmt: skip
    return spec.to_json()


def _fill(cls):
    image = (np.random.default_rng(1).random((48, 64, 3)) * 255).astype(np.uint8)
    hole = np.zeros((48, 64), bool)
    hole[10:30, 20:40] = True
    sketch = np.zeros((48, 64), bool)
    sketch[20, :] = True
    return cls(device="cpu").inpaint(image, hole, sketch, JobContext()), image, hole


def test_intact_weights_are_ready_and_fill(shipped):
    _ship(shipped)
    cls = registry.get("deepfillv2")
    status = cls.status()
    assert status.ready and status.state == "ready"
    assert cls.capabilities().sketch is True
    out, image, hole = _fill(cls)
    assert out.shape == image.shape and out.dtype == np.uint8


def _assert_refused(cls, state, words):
    status = cls.status()
    assert not status.ready and status.state == state
    assert all(w in status.message for w in words), status.message
    with pytest.raises(WeightsError):
        cls(device="cpu").load()


def test_truncated_file(shipped):
    entry = _ship(shipped)
    path = shipped / entry["file"]
    path.write_bytes(path.read_bytes()[: entry["size"] // 2])
    _assert_refused(registry.get("deepfillv2"), "damaged", ["truncated", entry["file"]])


def test_tampered_byte(shipped):
    entry = _ship(shipped)
    path = shipped / entry["file"]
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    _assert_refused(registry.get("deepfillv2"), "damaged", ["sha256"])


def test_missing_file(shipped):
    entry = _ship(shipped)
    (shipped / entry["file"]).unlink()
    _assert_refused(registry.get("deepfillv2"), "missing", ["missing"])


def test_weights_that_do_not_fit_the_network(shipped):
    entry = _ship(shipped)
    manifest = json.loads((shipped / "manifest.json").read_text())
    manifest["weights"][0]["config"] = {**CONFIG, "cnum": 12}  # intact file, wrong network
    (shipped / "manifest.json").write_text(json.dumps(manifest))
    cls = registry.get("deepfillv2")
    assert cls.status().ready  # the file itself is fine
    with pytest.raises(WeightsError, match="do not fit"):
        cls(device="cpu").load()
    assert entry["file"] in cls.weights_spec().file


@pytest.mark.parametrize("name", ["deepfillv2", "csa", "srn"])
def test_no_weights_at_all(shipped, name):
    status = registry.get(name).status()
    assert not status.ready and status.state == "missing"
    assert name in status.message
    with pytest.raises(WeightsError):
        registry.get(name)(device="cpu").load()
