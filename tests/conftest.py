"""Shared test setup: headless Qt, an isolated user-data folder, small deterministic helpers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# Set before anything imports Qt: the tests never need a real display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED_MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Imported models, settings and recovery files go to a fresh folder, never the developer's own."""
    home = tmp_path_factory.mktemp("inpaintstudio-home")
    monkeypatch.setenv("INPAINTSTUDIO_HOME", str(home))


@pytest.fixture
def shipped_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``shipped_models(*names, validation=...)``: a models folder the app takes for its shipped one,
    holding copies of the named files of ``models/`` (and a validation list, if given)."""

    def make(*names: str, validation: list[str] | None = None) -> Path:
        folder = tmp_path / "models"
        folder.mkdir(exist_ok=True)
        for name in names:
            shutil.copy(SHIPPED_MODELS / name, folder / name)
        if validation is not None:
            (folder / "validation.txt").write_text("".join(f"{n}\n" for n in validation))
        monkeypatch.setenv("INPAINTSTUDIO_MODELS_DIR", str(folder))
        return folder

    return make


@pytest.fixture
def shipped(shipped_models: Callable[..., Path]) -> Path:
    """An empty models folder that the app takes for its shipped one; the test writes weights and a
    manifest into it."""
    return shipped_models()


@pytest.fixture
def srn_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shipped: Path):
    """srn ships no weights: random ones of its default configuration, stored as the release would."""
    import torch

    from inpaintstudio.engine import registry, weights

    folder = shipped
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


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(*args)``: the command line run in this process, as (exit status, stdout, stderr)."""
    from inpaintstudio.cli import main

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def photo() -> np.ndarray:
    """A real photograph (public domain, see fixtures/ATTRIBUTION.tsv), 384 x 256 RGB."""
    from PIL import Image

    return np.asarray(Image.open(FIXTURES / "chickens.jpg").convert("RGB")).copy()


@pytest.fixture
def photo_path() -> Path:
    return FIXTURES / "chickens.jpg"


def free_form_hole(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A deterministic irregular hole (a thick polyline plus a blob) covering roughly 5-15 %."""
    import cv2

    rng = np.random.default_rng(seed)
    canvas = np.zeros((height, width), np.uint8)
    points = (rng.uniform(0.2, 0.8, (5, 2)) * [width, height]).astype(np.int32)
    cv2.polylines(canvas, [points], False, 255, thickness=max(4, min(height, width) // 20))
    cx, cy = int(width * 0.3), int(height * 0.6)
    cv2.circle(canvas, (cx, cy), max(5, min(height, width) // 10), 255, -1)
    return canvas > 0


@pytest.fixture
def make_hole():
    """The free_form_hole function, for tests that need holes of several sizes."""
    return free_form_hole
