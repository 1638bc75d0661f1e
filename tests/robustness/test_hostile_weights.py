"""Hostile weights files: pickles that would run code, whole pickled modules, non-dict payloads, broken
safetensors, wrong shapes and dtypes. Each is a WeightsError with a clear message through the loader, the
learned-model load path (a manifest in a temporary models folder) and the checkpoint import, and no code
from a file ever runs (a marker file it would write never appears)."""

from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_safetensors

from inpaintstudio import paths
from inpaintstudio.engine import checkpoint_import, registry, weights
from inpaintstudio.errors import WeightsError

CONFIG = {"cnum": 8, "in_channels": 6, "channel_order": "rgb", "padding": "same", "fuse": True}
FIRST = "coarse.conv1.conv.weight"


def _write_marker(path: str) -> None:
    Path(path).write_text("code from a weights file ran")


class Reduce:
    """An object whose unpickling calls ``func(*args)``."""

    def __init__(self, func: Callable, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _payloads(marker: Path) -> dict[str, object]:
    write = f"open({str(marker)!r}, 'w').write('ran')"
    return {
        "os.system": Reduce(os.system, f"touch {marker}"),
        "builtins.exec": Reduce(builtins.exec, write),
        "builtins.eval": Reduce(builtins.eval, write),
        "function": Reduce(_write_marker, str(marker)),
    }


def _state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = registry.get("deepfillv2").build_network(CONFIG)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _torch_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _safetensors_ok() -> bytes:
    return save_safetensors({k: v.contiguous() for k, v in _state().items()})


def _cases(marker: Path) -> dict[str, tuple[str, bytes, str]]:
    """name -> (file suffix, content, words the error must contain)."""
    cases: dict[str, tuple[str, bytes, str]] = {}
    for name, payload in _payloads(marker).items():
        refused = "could not be loaded safely: it holds a pickled Python object .*nothing in it was run"
        cases[f"pickle2 {name}"] = (".pth", pickle.dumps(payload, protocol=2), refused)
        cases[f"torch.save {name}"] = (".pth", _torch_bytes(payload), refused)
        cases[f"torch.save dict with {name}"] = (".pth", _torch_bytes({**_state(), "extra": payload}), refused)
    cases["torch.save nn.Module"] = (
        ".pth",
        _torch_bytes(registry.get("deepfillv2").build_network(CONFIG)),
        "could not be loaded safely",
    )
    cases["tensor, not a dict"] = (".pth", _torch_bytes(torch.zeros(3)), "does not hold a dictionary")
    cases["list, not a dict"] = (".pth", _torch_bytes([torch.zeros(3)]), "does not hold a dictionary")
    cases["text as .pth"] = (".pth", b"#!/bin/sh\nrm -rf ~\n", "it is not a PyTorch checkpoint")
    good = _safetensors_ok()
    header_len = struct.unpack("<Q", good[:8])[0]
    garbled = bytearray(good)
    garbled[8:20] = b"{{{{not json"
    cases["safetensors garbled header"] = (".safetensors", bytes(garbled), "not a readable safetensors")
    cases["safetensors absurd header length"] = (
        ".safetensors",
        struct.pack("<Q", 1 << 62) + good[8:],
        "not a readable safetensors",
    )
    cases["safetensors truncated data"] = (".safetensors", good[: 8 + header_len + 100], "not a readable safetensors")
    cases["safetensors truncated header"] = (".safetensors", good[: 8 + header_len // 2], "not a readable safetensors")
    cases["safetensors empty"] = (".safetensors", b"", "not a readable safetensors")
    offsets = json.loads(good[8 : 8 + header_len])
    first = next(k for k in offsets if k != "__metadata__")
    offsets[first]["data_offsets"] = [0, 10**12]
    header = json.dumps(offsets).encode()
    cases["safetensors offsets past the end"] = (
        ".safetensors",
        struct.pack("<Q", len(header)) + header + good[8 + header_len :],
        "not a readable safetensors",
    )
    return cases


def _shape_and_dtype_cases() -> dict[str, tuple[dict[str, torch.Tensor], str]]:
    """name -> (state dict, words) for files that load but do not fit the network."""
    cases = {}
    state = _state()
    wrong_shape = dict(state)
    wrong_shape[FIRST] = torch.zeros(3, 3, 3, 3)
    cases["wrong shape"] = (wrong_shape, r"do not fit the network: .* has shape \(3, 3, 3, 3\)")
    missing = dict(state)
    del missing[FIRST]
    cases["missing tensor"] = (missing, f"do not fit the network: tensor '{FIRST}' is missing")
    extra = {**state, "evil.extra": torch.zeros(1)}
    cases["unexpected tensor"] = (extra, "unexpected tensor 'evil.extra'")
    for dtype in (torch.int32, torch.int64, torch.uint8, torch.bool, torch.complex64):
        changed = dict(state)
        changed[FIRST] = state[FIRST].to(dtype)
        cases[f"dtype {str(dtype).removeprefix('torch.')}"] = (changed, f"'{FIRST}' has dtype")
    return cases


def _install(folder: Path, name: str) -> None:
    """A manifest entry whose size and sha256 match the file, so the loader itself is what is tested."""
    path = folder / name
    entry = {
        "model": "deepfillv2",
        "file": name,
        "sha256": weights.sha256_of(path),
        "size": path.stat().st_size,
        "parameters": 0,
        "input_size": 256,
        "licence": "test",
        "training_data": "none",
        "training": "none",
        "origin": "hostile test file",
        "config": CONFIG,
    }
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "weights": [entry]}))


def _refused_everywhere(path: Path, words: str, models: Path, *, floating_only: bool = False) -> list[str]:
    messages = []
    with pytest.raises(WeightsError, match=words) as info:
        weights.load_tensors(path, floating_only=floating_only)
    messages.append(str(info.value))
    _install(models, path.name)
    cls = registry.get("deepfillv2")
    assert cls.status().ready, "the file matches its manifest entry; the loader must refuse its content"
    with pytest.raises(WeightsError, match=words) as info:
        cls(device="cpu").load()
    messages.append(str(info.value))
    with pytest.raises(WeightsError) as info:
        checkpoint_import.import_checkpoint(path, "deepfillv2", "hostile")
    messages.append(str(info.value))
    return messages


def test_the_payloads_are_live(tmp_path):
    """Control: unpickled without restrictions, the function payload does write its marker."""
    control = tmp_path / "control.txt"
    pickle.loads(pickle.dumps(_payloads(control)["function"], protocol=2))  # noqa: S301 - the point of the test
    assert control.exists()


def test_hostile_files_are_refused_and_never_run_code(tmp_path, shipped):
    marker = tmp_path / "marker.txt"
    cases = _cases(marker)
    assert len(cases) >= 20
    for index, (name, (suffix, content, words)) in enumerate(sorted(cases.items())):
        path = shipped / f"case{index}{suffix}"
        path.write_bytes(content)
        messages = _refused_everywhere(path, words, shipped)
        assert all(m and "\n" not in m for m in messages), (name, messages)
        assert not marker.exists(), f"{name}: code from the file ran"
    assert weights.read_manifest(paths.user_models_dir()) == [], "nothing was imported"


def test_wrong_shapes_and_dtypes_are_refused_by_name(tmp_path, shipped):
    for index, (name, (state, words)) in enumerate(sorted(_shape_and_dtype_cases().items())):
        for suffix in (".safetensors", ".pth"):
            path = shipped / f"case{index}{suffix}"
            if suffix == ".safetensors":
                path.write_bytes(save_safetensors({k: v.contiguous() for k, v in state.items()}))
            else:
                torch.save(state, path)
            dtype_case = name.startswith("dtype")
            if dtype_case:
                with pytest.raises(WeightsError, match=words):
                    weights.load_tensors(path, floating_only=True)
                assert weights.load_tensors(path)[FIRST].dtype == state[FIRST].dtype  # checkpoints may hold more
            _install(shipped, path.name)
            with pytest.raises(WeightsError, match=words) as info:
                registry.get("deepfillv2")(device="cpu").load()
            assert "\n" not in str(info.value), name
            with pytest.raises(WeightsError):
                checkpoint_import.import_checkpoint(path, "deepfillv2", "hostile")


def test_intact_weights_still_load(shipped):
    path = shipped / "good.safetensors"
    path.write_bytes(_safetensors_ok())
    _install(shipped, path.name)
    model = registry.get("deepfillv2")(device="cpu")
    model.load()
    assert model.net is not None
    half = shipped / "half.pth"
    torch.save({k: v.half() for k, v in _state().items()}, half)
    _install(shipped, half.name)
    registry.get("deepfillv2")(device="cpu").load()
