"""Importing public DeepFillv2 checkpoints: both deepfillv2-pytorch layouts, built here with the key
names and shapes of the spec's tables (cnum 48, 5 input channels), and hostile or broken files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaintstudio.engine import checkpoint_import, registry, weights
from inpaintstudio.engine.context import JobContext
from inpaintstudio.errors import InputError, UnknownModelError, WeightsError

# (TF-converted name, stage-layout name, input channels, channels after gating, kernel, gated)
COARSE = [
    ("conv1", "stage1.conv1", 5, 24, 5, True),
    ("conv2_downsample", "stage1.down_block1.conv1_downsample", 24, 48, 3, True),
    ("conv3", "stage1.down_block1.conv2", 48, 48, 3, True),
    ("conv4_downsample", "stage1.down_block2.conv1_downsample", 48, 96, 3, True),
    ("conv5", "stage1.down_block2.conv2", 96, 96, 3, True),
    ("conv6", "stage1.conv_bn1", 96, 96, 3, True),
    ("conv7_atrous", "stage1.conv_bn2", 96, 96, 3, True),
    ("conv8_atrous", "stage1.conv_bn3", 96, 96, 3, True),
    ("conv9_atrous", "stage1.conv_bn4", 96, 96, 3, True),
    ("conv10_atrous", "stage1.conv_bn5", 96, 96, 3, True),
    ("conv11", "stage1.conv_bn6", 96, 96, 3, True),
    ("conv12", "stage1.conv_bn7", 96, 96, 3, True),
    ("conv13_upsample.conv", "stage1.up_block1.conv1_upsample.conv", 96, 48, 3, True),
    ("conv14", "stage1.up_block1.conv2", 48, 48, 3, True),
    ("conv15_upsample.conv", "stage1.up_block2.conv1_upsample.conv", 48, 24, 3, True),
    ("conv16", "stage1.up_block2.conv2", 24, 12, 3, True),
    ("conv17", "stage1.conv_to_rgb", 12, 3, 3, False),
]
REFINE = [
    ("xconv1", "stage2.b1_conv1", 3, 24, 5, True),
    ("xconv2_downsample", "stage2.b1_down_block1.conv1_downsample", 24, 24, 3, True),
    ("xconv3", "stage2.b1_down_block1.conv2", 24, 48, 3, True),
    ("xconv4_downsample", "stage2.b1_down_block2.conv1_downsample", 48, 48, 3, True),
    ("xconv5", "stage2.b1_down_block2.conv2", 48, 96, 3, True),
    ("xconv6", "stage2.b1_conv_bn1", 96, 96, 3, True),
    ("xconv7_atrous", "stage2.b1_conv_bn2", 96, 96, 3, True),
    ("xconv8_atrous", "stage2.b1_conv_bn3", 96, 96, 3, True),
    ("xconv9_atrous", "stage2.b1_conv_bn4", 96, 96, 3, True),
    ("xconv10_atrous", "stage2.b1_conv_bn5", 96, 96, 3, True),
    ("pmconv1", "stage2.b2_conv1", 3, 24, 5, True),
    ("pmconv2_downsample", "stage2.b2_down_block1.conv1_downsample", 24, 24, 3, True),
    ("pmconv3", "stage2.b2_down_block1.conv2", 24, 48, 3, True),
    ("pmconv4_downsample", "stage2.b2_down_block2.conv1_downsample", 48, 96, 3, True),
    ("pmconv5", "stage2.b2_down_block2.conv2", 96, 96, 3, True),
    ("pmconv6", "stage2.b2_conv_bn1", 96, 96, 3, True),
    ("pmconv9", "stage2.b2_conv_bn4", 96, 96, 3, True),
    ("pmconv10", "stage2.b2_conv_bn5", 96, 96, 3, True),
    ("allconv11", "stage2.conv_bn6", 192, 96, 3, True),
    ("allconv12", "stage2.conv_bn7", 96, 96, 3, True),
    ("allconv13_upsample.conv", "stage2.up_block1.conv1_upsample.conv", 96, 48, 3, True),
    ("allconv14", "stage2.up_block1.conv2", 48, 48, 3, True),
    ("allconv15_upsample.conv", "stage2.up_block2.conv1_upsample.conv", 48, 24, 3, True),
    ("allconv16", "stage2.up_block2.conv2", 24, 12, 3, True),
    ("allconv17", "stage2.conv_to_rgb", 12, 3, 3, False),
]


def fake_generator(layout: str, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for row in COARSE + REFINE:
        name = row[0] if layout == "tf" else row[1]
        cin, cout, k, gated = row[2:]
        out = 2 * cout if gated else cout
        state[f"{name}.conv.weight"] = torch.randn(out, cin, k, k, generator=gen) * (0.5 / (cin * k * k) ** 0.5)
        state[f"{name}.conv.bias"] = torch.randn(out, generator=gen) * 0.01
    if layout == "stage":
        state["stage2.contextual_attention.fuse_weight"] = torch.eye(3).view(1, 1, 3, 3)
    return state


def save_checkpoint(path, generator) -> None:
    torch.save({"G": generator, "D": {"conv1.conv_sn.bias": torch.zeros(64)}, "n_iter": 1000}, path)


@pytest.fixture
def home(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setenv("INPAINTSTUDIO_MODELS_DIR", str(shipped))
    monkeypatch.setenv("INPAINTSTUDIO_HOME", str(tmp_path / "home"))
    registry.refresh()
    yield tmp_path
    monkeypatch.undo()
    registry.refresh()


def _fill(cls, sketch=None):
    image = (np.random.default_rng(0).random((64, 80, 3)) * 255).astype(np.uint8)
    hole = np.zeros((64, 80), bool)
    hole[16:40, 20:60] = True
    inst = cls(device="cpu")
    ctx = JobContext()
    return inst.inpaint(image, hole, sketch, ctx), ctx


def test_tf_converted_layout(home):
    generator = fake_generator("tf")
    assert len(generator) == 84
    path = home / "states_tf_places2.pth"
    save_checkpoint(path, generator)
    spec = checkpoint_import.import_checkpoint(path, "deepfillv2")
    assert spec.model == "deepfillv2-places2" and spec.base == "deepfillv2"
    assert spec.config["channel_order"] == "bgr" and spec.config["padding"] == "same"
    assert spec.config["in_channels"] == 5 and spec.config["cnum"] == 48
    assert spec.training_data == "Places2" and spec.input_size == 512
    assert spec.parameters == pytest.approx(4.05e6, rel=0.01)
    assert spec.origin == "imported from states_tf_places2.pth"
    stored = weights.load_tensors(spec.path)
    assert all(t.dtype == torch.float16 for t in stored.values())
    torch.testing.assert_close(stored["coarse.conv2.conv.weight"], generator["conv2_downsample.conv.weight"].half())
    torch.testing.assert_close(
        stored["refine.merge.allconv13.conv.weight"], generator["allconv13_upsample.conv.conv.weight"].half()
    )
    registry.refresh()
    cls = registry.get("deepfillv2-places2")
    assert cls.status().ready
    assert cls.capabilities().sketch is False
    out, _ = _fill(cls)
    assert out.shape == (64, 80, 3) and out.dtype == np.uint8
    _, ctx = _fill(cls, sketch=np.ones((64, 80), bool))
    assert any("ignores sketch" in n for n in ctx.notices)


def test_stage_layout_and_reimport_replaces(home):
    path = home / "states_pt_celebahq.pth"
    save_checkpoint(path, fake_generator("stage", seed=1))
    spec = checkpoint_import.import_checkpoint(path, "deepfillv2", "my-faces")
    assert spec.config["channel_order"] == "rgb" and spec.config["padding"] == "symmetric"
    assert spec.training_data == "CelebA-HQ" and spec.input_size == 256
    again = checkpoint_import.import_checkpoint(path, "deepfillv2", "my-faces", channel_order="bgr")
    entries = [s.model for s in weights.read_manifest(home / "home" / "models")]
    assert entries == ["my-faces"] and again.config["channel_order"] == "bgr"
    registry.refresh()
    cls = registry.get("my-faces")
    assert cls.status().ready
    out, _ = _fill(cls)
    assert out.shape == (64, 80, 3)
    checkpoint_import.remove_imported("my-faces")
    assert not (home / "home" / "models" / "my-faces.safetensors").exists()
    registry.refresh()
    with pytest.raises(UnknownModelError):
        registry.get("my-faces")
    with pytest.raises(UnknownModelError):
        checkpoint_import.remove_imported("my-faces")


def _broken(generator, change):
    change(generator)
    return generator


@pytest.mark.parametrize(
    ("layout", "change", "named"),
    [
        ("tf", lambda g: g.__setitem__("conv5.conv.weight", torch.zeros(192, 96, 3, 4)), "conv5.conv.weight"),
        ("tf", lambda g: g.pop("allconv16.conv.bias"), "allconv16.conv.bias"),
        ("tf", lambda g: g.__setitem__("conv99.conv.weight", torch.zeros(1)), "conv99.conv.weight"),
        ("stage", lambda g: g.pop("stage2.b2_conv_bn4.conv.weight"), "stage2.b2_conv_bn4.conv.weight"),
        ("stage", lambda g: g.__setitem__("stage2.contextual_attention.fuse_weight", torch.zeros(3)), "fuse_weight"),
        ("tf", lambda g: g["xconv3.conv.bias"].fill_(float("nan")), "xconv3.conv.bias"),
    ],
)
def test_broken_checkpoints_are_refused_naming_the_key(home, layout, change, named):
    path = home / "states_tf_places2.pth"
    save_checkpoint(path, _broken(fake_generator(layout), change))
    with pytest.raises(WeightsError, match=named.replace(".", r"\.")):
        checkpoint_import.import_checkpoint(path, "deepfillv2")
    assert weights.read_manifest(home / "home" / "models") == []


def _write_marker(path):
    with open(path, "w") as fh:
        fh.write("code ran")


class _Exec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",))


class _Call:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (_write_marker, (str(self.marker),))


@pytest.mark.parametrize("payload", [_Exec, _Call])
def test_a_pickle_that_would_run_code_is_refused(home, payload):
    marker = home / "marker.txt"
    path = home / "states_tf_places2.pth"
    generator = fake_generator("tf")
    torch.save({"G": generator, "extra": payload(marker)}, path)
    with pytest.raises(WeightsError, match="could not be loaded safely"):
        checkpoint_import.import_checkpoint(path, "deepfillv2")
    assert not marker.exists()
    assert weights.read_manifest(home / "home" / "models") == []


def test_names_of_shipped_models_and_other_families_are_refused(home):
    shipped = home / "shipped"
    (shipped / "manifest.json").write_text(
        json.dumps(
            {
                "format": 1,
                "weights": [
                    {
                        "model": "deepfillv2-places2",
                        "file": "x.safetensors",
                        "sha256": "0" * 64,
                        "size": 1,
                        "parameters": 1,
                        "input_size": 256,
                        "licence": "",
                        "training_data": "",
                        "training": "",
                        "origin": "",
                    }
                ],
            }
        )
    )
    path = home / "states_tf_places2.pth"
    save_checkpoint(path, fake_generator("tf"))
    with pytest.raises(InputError, match="shipped"):
        checkpoint_import.import_checkpoint(path, "deepfillv2")
    with pytest.raises(InputError, match="another model"):
        checkpoint_import.import_checkpoint(path, "deepfillv2", "telea")
    with pytest.raises(InputError, match="not a valid model name"):
        checkpoint_import.import_checkpoint(path, "deepfillv2", "Bad Name!")
    with pytest.raises(InputError, match="deepfillv2"):
        checkpoint_import.import_checkpoint(path, "srn")


def test_not_a_deepfill_checkpoint(home):
    path = home / "other.pth"
    torch.save({"G": {"encoder.weight": torch.zeros(3)}}, path)
    with pytest.raises(WeightsError, match="not a DeepFillv2 checkpoint"):
        checkpoint_import.import_checkpoint(path, "deepfillv2")


def test_an_unguided_import_shows_no_sketch_anywhere(home, monkeypatch):
    """The model panel, the model manager, ``inpaintstudio models`` and ``auto`` read one source."""
    from dataclasses import replace

    from inpaintstudio.engine import catalog, selection
    from inpaintstudio.engine.base import Capabilities, Inpainter
    from inpaintstudio.ui import models as panel

    path = home / "states_tf_places2.pth"
    save_checkpoint(path, fake_generator("tf"))
    spec = checkpoint_import.import_checkpoint(path, "deepfillv2")
    registry.refresh()
    name = spec.model
    assert registry.get(name).caps.sketch  # declared by the family: the 6-channel network follows strokes
    assert registry.capabilities(name).sketch is False  # these weights cannot
    assert name not in registry.list_models(sketch=True) and name in registry.list_models(sketch=False)
    assert catalog.model_info(registry.get(name))["sketch"] is False  # the manager and `models`
    monkeypatch.setattr(panel, "recommendations", dict)
    assert panel.model_info(name).sketch is False  # the panel
    # auto, asked for a model that follows strokes, does not take the import for one
    folder = spec.path.parent
    specs = weights.read_manifest(folder)
    scored = {"holes": {"psnr": 30.0, "l1": 0.01, "detail": 0.9}}
    weights.write_manifest(folder, [s.__class__(**{**s.to_json(), "scores": scored}) for s in specs])

    class Guided(Inpainter):  # a lower-scoring fill that does follow strokes
        name = "guided-rival"
        caps = Capabilities(sketch=True)

        @classmethod
        def capabilities(cls) -> Capabilities:
            return replace(cls.caps, scores={"holes": {"psnr": 20.0, "l1": 0.05, "detail": 0.9}})

        def inpaint(self, image, mask, sketch, ctx):
            return image

    assert selection.choose("holes", [registry.get(name), Guided]).model == name
    choice = selection.choose("holes", [registry.get(name), Guided], sketch=True)
    assert choice.model == "guided-rival" and "follow sketch strokes" in choice.reason
