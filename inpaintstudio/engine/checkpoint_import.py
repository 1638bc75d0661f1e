"""Importing public checkpoints as model variants (``inpaintstudio models import FILE --as deepfillv2``).

Supported: the DeepFillv2 PyTorch checkpoints of deepfillv2-pytorch, in both layouts:

- TF-converted (``states_tf_places2.pth`` ...): keys ``conv1.conv.weight``, ``conv2_downsample...``,
  ``conv7_atrous...``, ``conv13_upsample.conv.conv.weight``, ``xconv*``, ``pmconv*``, ``allconv*``
  (84 tensors) under ``'G'``. Trained in TensorFlow on BGR with 'SAME' padding: imported with
  ``channel_order`` "bgr" and ``padding`` "same".
- PyTorch-trained (``states_pt_places2.pth`` ...), recognised by ``stage1.conv1.conv.weight``:
  ``stage1.*`` / ``stage2.*`` with down/up blocks and an optional buffer
  ``stage2.contextual_attention.fuse_weight`` (1 x 1 x 3 x 3, dropped). Fed RGB by its authors and
  padded symmetrically: imported with ``channel_order`` "rgb" and ``padding`` "symmetric".

Both are unguided (5 input channels). The file is read with ``torch.load(weights_only=True)`` (through
:func:`weights.load_tensors`), so no code in it runs. Every tensor is checked against our network's
shape, and nothing may be missing or left over; the first offending key is named in the error. The
mapped tensors are written as float16 safetensors into the user's model folder and listed in the
user manifest with base ``deepfillv2``. SRN and CSA checkpoints are not supported (no public PyTorch
CSA weights exist; SRN's are TensorFlow checkpoints, out of scope here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inpaintstudio import paths
from inpaintstudio.engine import weights
from inpaintstudio.engine.weights import WeightsSpec
from inpaintstudio.errors import InputError, UnknownModelError, WeightsError

FAMILY = "deepfillv2"
LICENCE = "as published by the deepfillv2-pytorch / generative_inpainting authors; check upstream licence"
FUSE_BUFFER = "stage2.contextual_attention.fuse_weight"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

# Our layer name (prefix in DeepFillGenerator) -> (TF-converted name, stage-layout name).
_COARSE = [
    ("conv1", "conv1", "stage1.conv1"),
    ("conv2", "conv2_downsample", "stage1.down_block1.conv1_downsample"),
    ("conv3", "conv3", "stage1.down_block1.conv2"),
    ("conv4", "conv4_downsample", "stage1.down_block2.conv1_downsample"),
    ("conv5", "conv5", "stage1.down_block2.conv2"),
    ("conv6", "conv6", "stage1.conv_bn1"),
    ("conv7", "conv7_atrous", "stage1.conv_bn2"),
    ("conv8", "conv8_atrous", "stage1.conv_bn3"),
    ("conv9", "conv9_atrous", "stage1.conv_bn4"),
    ("conv10", "conv10_atrous", "stage1.conv_bn5"),
    ("conv11", "conv11", "stage1.conv_bn6"),
    ("conv12", "conv12", "stage1.conv_bn7"),
    ("conv13", "conv13_upsample.conv", "stage1.up_block1.conv1_upsample.conv"),
    ("conv14", "conv14", "stage1.up_block1.conv2"),
    ("conv15", "conv15_upsample.conv", "stage1.up_block2.conv1_upsample.conv"),
    ("conv16", "conv16", "stage1.up_block2.conv2"),
    ("conv17", "conv17", "stage1.conv_to_rgb"),
]
_REFINE = [
    ("hallucination.xconv1", "xconv1", "stage2.b1_conv1"),
    ("hallucination.xconv2", "xconv2_downsample", "stage2.b1_down_block1.conv1_downsample"),
    ("hallucination.xconv3", "xconv3", "stage2.b1_down_block1.conv2"),
    ("hallucination.xconv4", "xconv4_downsample", "stage2.b1_down_block2.conv1_downsample"),
    ("hallucination.xconv5", "xconv5", "stage2.b1_down_block2.conv2"),
    ("hallucination.xconv6", "xconv6", "stage2.b1_conv_bn1"),
    ("hallucination.xconv7", "xconv7_atrous", "stage2.b1_conv_bn2"),
    ("hallucination.xconv8", "xconv8_atrous", "stage2.b1_conv_bn3"),
    ("hallucination.xconv9", "xconv9_atrous", "stage2.b1_conv_bn4"),
    ("hallucination.xconv10", "xconv10_atrous", "stage2.b1_conv_bn5"),
    ("attention_in.pmconv1", "pmconv1", "stage2.b2_conv1"),
    ("attention_in.pmconv2", "pmconv2_downsample", "stage2.b2_down_block1.conv1_downsample"),
    ("attention_in.pmconv3", "pmconv3", "stage2.b2_down_block1.conv2"),
    ("attention_in.pmconv4", "pmconv4_downsample", "stage2.b2_down_block2.conv1_downsample"),
    ("attention_in.pmconv5", "pmconv5", "stage2.b2_down_block2.conv2"),
    ("attention_in.pmconv6", "pmconv6", "stage2.b2_conv_bn1"),
    ("attention_out.pmconv9", "pmconv9", "stage2.b2_conv_bn4"),
    ("attention_out.pmconv10", "pmconv10", "stage2.b2_conv_bn5"),
    ("merge.allconv11", "allconv11", "stage2.conv_bn6"),
    ("merge.allconv12", "allconv12", "stage2.conv_bn7"),
    ("merge.allconv13", "allconv13_upsample.conv", "stage2.up_block1.conv1_upsample.conv"),
    ("merge.allconv14", "allconv14", "stage2.up_block1.conv2"),
    ("merge.allconv15", "allconv15_upsample.conv", "stage2.up_block2.conv1_upsample.conv"),
    ("merge.allconv16", "allconv16", "stage2.up_block2.conv2"),
    ("merge.allconv17", "allconv17", "stage2.conv_to_rgb"),
]
LAYOUTS = {"tf": "conv1.conv.weight", "stage": "stage1.conv1.conv.weight"}


def key_map(layout: str) -> dict[str, str]:
    """Our parameter name -> the checkpoint's key, for ``layout`` "tf" or "stage"."""
    column = 1 if layout == "tf" else 2
    out = {}
    for prefix, rows in (("coarse.", _COARSE), ("refine.", _REFINE)):
        for row in rows:
            for kind in ("weight", "bias"):
                out[f"{prefix}{row[0]}.conv.{kind}"] = f"{row[column]}.conv.{kind}"
    return out


def detect_layout(state: Mapping[str, Any]) -> str:
    if LAYOUTS["stage"] in state:
        return "stage"
    if LAYOUTS["tf"] in state:
        return "tf"
    raise WeightsError(
        "this is not a DeepFillv2 checkpoint of a known layout: it has neither 'conv1.conv.weight' "
        "(TF-converted) nor 'stage1.conv1.conv.weight' (deepfillv2-pytorch)"
    )


def convert_deepfill(state: Mapping[str, Any], channel_order: str | None = None) -> tuple[dict[str, Any], dict]:
    """Map a generator state dict onto :class:`DeepFillGenerator`; returns (tensors, network config).

    Raises :class:`WeightsError` naming the first missing, unexpected or mis-shaped key.
    """
    import torch

    from inpaintstudio.networks.deepfill import build_deepfill

    layout = detect_layout(state)
    first = state[LAYOUTS[layout]]
    if not isinstance(first, torch.Tensor) or first.dim() != 4:
        raise WeightsError("the first layer's weight is not a 4-D tensor")
    cnum, in_channels = int(first.shape[0]), int(first.shape[1])
    if cnum < 4 or cnum % 4 or in_channels not in (5, 6):
        raise WeightsError(
            f"unexpected first layer shape {tuple(first.shape)}: DeepFillv2 has (48, 5, 5, 5) "
            "(a width divisible by 4, 5 or 6 input channels)"
        )
    order = channel_order or ("bgr" if layout == "tf" else "rgb")
    config = {
        "cnum": cnum,
        "in_channels": in_channels,
        "channel_order": order,
        "padding": "same" if layout == "tf" else "symmetric",
        "fuse": True,
    }
    expected = build_deepfill(config).state_dict()
    mapping = key_map(layout)
    tensors: dict[str, Any] = {}
    for ours, shape_ref in expected.items():
        theirs = mapping[ours]
        if theirs not in state:
            raise WeightsError(f"the checkpoint is missing '{theirs}' (expected {tuple(shape_ref.shape)})")
        value = state[theirs]
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise WeightsError(f"'{theirs}' is not a floating-point tensor")
        if tuple(value.shape) != tuple(shape_ref.shape):
            raise WeightsError(
                f"'{theirs}' has shape {tuple(value.shape)}, expected {tuple(shape_ref.shape)} for DeepFillv2"
            )
        if not bool(torch.isfinite(value).all()):
            raise WeightsError(f"'{theirs}' contains NaN or infinite values")
        tensors[ours] = value
    allowed = set(mapping.values())
    if layout == "stage" and FUSE_BUFFER in state:
        buffer = state[FUSE_BUFFER]
        if not isinstance(buffer, torch.Tensor) or tuple(buffer.shape) != (1, 1, 3, 3):
            raise WeightsError(f"'{FUSE_BUFFER}' should be a 1 x 1 x 3 x 3 tensor")
        allowed.add(FUSE_BUFFER)
    extra = [k for k in state if k not in allowed]
    if extra:
        raise WeightsError(f"the checkpoint has an unexpected entry '{extra[0]}' (not part of DeepFillv2)")
    return tensors, config


def default_name(path: Path) -> str:
    stem = path.stem.lower()
    for prefix in ("states_pt_", "states_tf_", "states_"):
        if stem.startswith(prefix):
            stem = stem[len(prefix) :]
            break
    stem = re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-._") or "imported"
    return f"{FAMILY}-{stem}"


def _data_facts(name: str) -> tuple[str, int]:
    """(training data, input size) guessed from the file name. Places2 weights were trained on 256 x 256
    crops of larger photos and are used at up to 512 (the official demos run 512 x 680); CelebA-HQ
    ones on aligned 256 x 256 faces."""
    lowered = name.lower()
    if "places" in lowered:
        return "Places2", 512
    if "celeb" in lowered:
        return "CelebA-HQ", 256
    return "unknown (imported checkpoint; see its upstream description)", 256


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InputError(
            f"'{name}' is not a valid model name: use lower-case letters, digits, '.', '_' or '-' (at most 64)"
        )
    shipped = {s.model for s in weights.read_manifest(paths.shipped_models_dir())}
    if name in shipped:
        raise InputError(f"'{name}' is the name of a shipped model; choose another name with --name")
    from inpaintstudio.engine import registry

    if name in registry.names():
        cls = registry.get(name)
        family = registry.get(FAMILY)
        if not issubclass(cls, family):
            raise InputError(f"'{name}' is already the name of another model; choose another name with --name")


def import_checkpoint(
    path: Path, family: str, name: str | None = None, *, channel_order: str | None = None
) -> WeightsSpec:
    """Import a public checkpoint as a variant of ``family``; returns the new manifest entry.

    ``channel_order`` overrides the layout's default ("bgr" for TF-converted, "rgb" otherwise).
    Re-importing under an existing imported name replaces that variant.
    """
    path = Path(path)
    if family != FAMILY:
        raise InputError(
            f"importing checkpoints is supported for '{FAMILY}' only, not '{family}' "
            "(there are no public CSA weights, and SRN's are TensorFlow checkpoints)"
        )
    if channel_order not in (None, "rgb", "bgr"):
        raise InputError("channel_order must be 'rgb' or 'bgr'")
    model = name or default_name(path)
    _check_name(model)
    data = weights.load_tensors(path)
    state = data["G"] if isinstance(data.get("G"), Mapping) else data
    if not all(isinstance(k, str) for k in state):
        raise WeightsError(f"{path.name} is not a state dict (its keys are not all names)")
    tensors, config = convert_deepfill(state, channel_order)
    folder = paths.user_models_dir()
    previous = [s for s in weights.read_manifest(folder) if s.model == model]
    training_data, input_size = _data_facts(path.name)
    layout = "TF-converted" if config["padding"] == "same" else "PyTorch-trained"
    try:
        spec = weights.store(
            folder,
            model,
            tensors,
            input_size=input_size,
            licence=LICENCE,
            training_data=training_data,
            training=f"upstream DeepFillv2 training ({layout} checkpoint of deepfillv2-pytorch); stored as float16",
            origin=f"imported from {path.name}",
            base=FAMILY,
            config=config,
            metadata={"origin": path.name, "format": "pt"},
        )
    except WeightsError as exc:
        raise WeightsError(f"{path.name}: {exc}") from exc
    for stale in previous:
        if stale.file != spec.file:
            (folder / stale.file).unlink(missing_ok=True)
    return spec


def remove_imported(name: str) -> None:
    """Remove an imported variant: its manifest entry and its weights file."""
    folder = paths.user_models_dir()
    specs = weights.read_manifest(folder)
    match = [s for s in specs if s.model == name]
    if not match:
        imported = ", ".join(s.model for s in specs) or "none"
        raise UnknownModelError(f"no imported model named '{name}' (imported models: {imported})")
    weights.write_manifest(folder, [s for s in specs if s.model != name])
    for spec in match:
        if not any(s.file == spec.file for s in specs if s.model != name):
            (folder / spec.file).unlink(missing_ok=True)
