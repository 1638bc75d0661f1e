"""The working size travels in the request: FillRequest.working_size reaches the crop and SRN's own scale."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaintstudio.cli import main
from inpaintstudio.engine import registry
from inpaintstudio.engine.inpainters.srn import SRNInpainter
from inpaintstudio.engine.pipeline import ModelCache, run_fill
from inpaintstudio.engine.request import FillRequest
from inpaintstudio.geometry import Rect


@pytest.fixture
def srn_scales(monkeypatch):
    """A spy on SRN: the side each step scales its known crop to, and the crop's size the network gets."""
    seen: dict[str, list] = {"size": [], "crop": []}
    step = SRNInpainter._step

    def spy(self, image, known, plan, size):  # noqa: ANN001, ANN202
        seen["size"].append(size)
        net = self.net
        forward = net.forward

        def record(crop, *rest):  # noqa: ANN001, ANN202
            seen["crop"].append(tuple(crop.shape[-2:]))
            return forward(crop, *rest)

        net.forward = record
        try:
            return step(self, image, known, plan, size)
        finally:
            del net.forward

    monkeypatch.setattr(SRNInpainter, "_step", spy)
    return seen


def _photo(h: int = 200, w: int = 300) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx % 256, yy % 256, (xx + yy) % 256], axis=2).astype(np.uint8)


def test_srn_scales_to_the_requests_working_size(srn_weights, srn_scales):
    photo = _photo()
    extent = Rect(0, 0, 400, 200)  # 100 px more on the right
    cache = ModelCache()
    # Its own size (256): the 300 px known side is scaled down inside SRN.
    run_fill(FillRequest(photo, np.zeros((200, 300), bool), "srn", extent=extent, device="cpu"), cache=cache)
    assert srn_scales["size"] == [256]
    assert max(srn_scales["crop"][0]) <= 256
    srn_scales["size"].clear()
    srn_scales["crop"].clear()
    # 384 asked for: the crop (400 px canvas) comes scaled to 384 and SRN keeps that scale, not its own.
    request = FillRequest(photo, np.zeros((200, 300), bool), "srn", extent=extent, device="cpu", working_size=384)
    run_fill(request, cache=cache)
    assert srn_scales["size"] == [384]
    assert max(srn_scales["crop"][0]) > 256
    assert registry.capabilities("srn").working_size == 256  # nothing global changed


def test_eval_working_size_changes_srns_own_scale(srn_weights, srn_scales, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(_photo(240, 480)).save(images / "ramp.png")
    base = ["eval", "--images", str(images), "--extend-fraction", "0.2", "--models", "srn", "--device", "cpu"]
    assert main([*base, "--out", str(tmp_path / "own.csv")]) == 0
    assert set(srn_scales["size"]) == {256}
    srn_scales["size"].clear()
    assert main([*base, "--working-size", "srn=400", "--out", str(tmp_path / "400.csv")]) == 0
    assert set(srn_scales["size"]) == {400}
    assert "srn 400 px" in (tmp_path / "400.md").read_text()
    capsys.readouterr()


def test_a_request_refuses_a_working_size_below_one():
    with pytest.raises(ValueError, match="working_size"):
        FillRequest(_photo(8, 8), np.zeros((8, 8), bool), "telea", working_size=0)
