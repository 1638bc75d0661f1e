"""Fixtures shared by the engine's tests."""

from __future__ import annotations

import pytest
import torch

from inpaintstudio.engine import registry, weights


@pytest.fixture
def srn_weights(tmp_path, monkeypatch):
    """srn ships no weights: random ones of its default configuration, stored as the release would."""
    folder = tmp_path / "models"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("INPAINTSTUDIO_MODELS_DIR", str(folder))
    monkeypatch.setenv("INPAINTSTUDIO_HOME", str(tmp_path / "home"))
    cls = registry.get("srn")
    torch.manual_seed(0)
    weights.store(
        folder, "srn", cls.build_network(cls.default_config).state_dict(), input_size=256, licence="MIT",
        training_data="none", training="none: random", origin="made by the test", config=cls.default_config,
    )  # fmt: skip
    registry.refresh()
    yield folder
    registry.refresh()
