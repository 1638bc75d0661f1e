"""Weights files: their frozen specs, the manifests that list them, sha256 checks and safe loading.

Every learned model's weights are described by a :class:`WeightsSpec` (file, sha256, size, licence,
origin, training data, input size, parameter count, network config), read from a ``manifest.json``:
the one shipped in ``models/`` and the user's own (imported variants) under the user data folder.
A file is always checked against its sha256 before use, and is loaded either as safetensors or with
``torch.load(weights_only=True)``, so no code in a weights file is ever run. Every failure is a
:class:`~inpaintstudio.errors.WeightsError` with a message for the user.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from inpaintstudio import paths
from inpaintstudio.errors import WeightsError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


# Sections of a model card (Markdown beside the weights) that are written by the program: the shipped
# versions and the training ledger by every export, the validation scores by ``validate --record``.
# Every other section was written by a person and survives a new export, under CARD_KEPT_SECTION.
CARD_VERSIONS_SECTION = "## Shipped versions"
CARD_SCORES_SECTION = "## Validation scores (what auto chooses by)"
CARD_LEDGER_SECTION = "## Training ledger"
CARD_KEPT_SECTION = "## Notes kept from earlier versions"


@dataclass(frozen=True)
class WeightsSpec:
    """What we know about one weights file; the manifest entry, frozen."""

    model: str  # registered model name these weights serve, e.g. "deepfillv2" or "deepfillv2-places2"
    file: str  # file name inside the manifest's folder
    sha256: str
    size: int
    parameters: int
    input_size: int
    licence: str
    training_data: str
    training: str  # how it was trained: steps, hardware, losses
    origin: str  # "trained for InpaintStudio", "imported from states_pt_places2.pth", ...
    base: str = ""  # for an imported variant: the model family it belongs to, e.g. "deepfillv2"
    config: Mapping[str, Any] = field(default_factory=dict, hash=False)  # network constructor arguments
    card: str = ""  # model card file (Markdown) beside the weights, if any
    url: str = ""  # where it can be downloaded from, if anywhere
    # validation scores of these weights by job ("holes", "borders"): {"psnr", "l1", "detail"}; what
    # "auto" chooses by (engine/selection.py). Empty: never measured, never chosen automatically.
    scores: Mapping[str, Any] = field(default_factory=dict, hash=False)
    folder: str = field(default="", compare=False)  # the manifest's folder, filled in when read

    @property
    def path(self) -> Path:
        return Path(self.folder) / self.file

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("folder")
        data["config"] = dict(self.config)
        data["scores"] = {job: dict(values) for job, values in self.scores.items()}
        return data


def read_manifest(folder: Path) -> list[WeightsSpec]:
    """All specs of a manifest folder; a missing manifest is an empty list, a broken one an error."""
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return []
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        entries = data["weights"]
        known = set(WeightsSpec.__dataclass_fields__) - {"folder"}
        return [WeightsSpec(**{k: v for k, v in e.items() if k in known}, folder=str(folder)) for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"the model manifest {manifest} is unreadable: {exc}") from exc


def write_manifest(folder: Path, specs: list[WeightsSpec]) -> None:
    """Write a manifest atomically (temporary file, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"format": MANIFEST_FORMAT, "weights": [s.to_json() for s in specs]}
    tmp = folder / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_NAME)


def add_to_manifest(folder: Path, spec: WeightsSpec) -> list[WeightsSpec]:
    """Add ``spec`` to the folder's manifest, replacing an entry of the same model; returns the replaced."""
    current = read_manifest(folder)
    write_manifest(folder, [s for s in current if s.model != spec.model] + [spec])
    return [s for s in current if s.model == spec.model]


def store(folder: Path, model: str, tensors: Mapping[str, Any], **fields: Any) -> WeightsSpec:
    """Write a state dict as float16 safetensors ``<model>.safetensors`` (atomically) and list it.

    ``fields`` are the WeightsSpec's descriptive fields (input_size, licence, training_data, training,
    origin, base, config, card, url); file, sha256, size and parameter count are computed here. float16
    halves the file and the loader converts back to float32; values beyond its range are refused.
    """
    import torch
    from safetensors.torch import save

    from inpaintstudio.atomic import atomic_write_bytes

    half = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in tensors.items()}
    if not all(bool(v.isfinite().all()) for v in half.values()):
        raise WeightsError(f"weights for '{model}' have values too large for float16 storage")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{model}.safetensors"
    metadata = {k: str(v) for k, v in fields.pop("metadata", {}).items()}
    atomic_write_bytes(target, save(half, metadata=metadata or None))
    spec = WeightsSpec(
        model=model,
        file=target.name,
        sha256=sha256_of(target),
        size=target.stat().st_size,
        parameters=sum(int(v.numel()) for v in half.values()),
        folder=str(folder),
        **fields,
    )
    add_to_manifest(folder, spec)
    return spec


def _located(spec: WeightsSpec) -> WeightsSpec:
    """A shipped spec whose file is not in the shipped folder with its listed size (a build without
    weights, or a damaged file) points at a copy downloaded into the user's model folder by
    ``inpaintstudio models download``, if there is one; the shipped manifest's sha256 still applies."""
    try:
        if spec.path.stat().st_size == spec.size:
            return spec
    except OSError:
        pass
    user = paths.user_models_dir()
    return replace(spec, folder=str(user)) if (user / spec.file).is_file() else spec


def all_specs() -> list[WeightsSpec]:
    """Shipped specs first, then the user's imported ones (a user entry may not shadow a shipped one)."""
    shipped = [_located(s) for s in read_manifest(paths.shipped_models_dir())]
    names = {s.model for s in shipped}
    user = [s for s in read_manifest(paths.user_models_dir()) if s.model not in names]
    return shipped + user


def find_spec(model: str) -> WeightsSpec | None:
    for spec in all_specs():
        if spec.model == model:
            return spec
    return None


# -- verification ------------------------------------------------------------------------------------

_verified: dict[tuple[str, int, int, int, int], str] = {}
_verified_lock = threading.Lock()


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify(spec: WeightsSpec) -> Path:
    """Check that the spec's file exists with the right size and sha256; return its path.

    A verified (path, size, times, inode) is remembered for the life of the process, so repeated fills do not
    re-hash the file while a replaced or modified file is checked again.
    """
    path = spec.path
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise WeightsError(f"weights for '{spec.model}' are missing: {path} does not exist") from None
    except OSError as exc:
        raise WeightsError(f"weights for '{spec.model}' cannot be read: {exc}") from exc
    if stat.st_size != spec.size:
        what = "truncated" if stat.st_size < spec.size else "damaged"
        raise WeightsError(
            f"weights for '{spec.model}' are {what}: {path.name} has {stat.st_size} bytes, expected {spec.size}"
        )
    # Inode and change time too: a same-size rewrite within one mtime tick must still be re-checked.
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    with _verified_lock:
        if _verified.get(key) == spec.sha256:
            return path
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise WeightsError(f"weights for '{spec.model}' cannot be read: {exc}") from exc
    if actual != spec.sha256:
        raise WeightsError(
            f"weights for '{spec.model}' failed the sha256 check ({path.name} is damaged or was modified)"
        )
    with _verified_lock:
        _verified[key] = actual
    return path


def check_file(spec: WeightsSpec) -> tuple[str, str]:
    """("OK" | "missing" | "damaged", detail), hashing the file now (no cached result)."""
    path = spec.path
    try:
        actual_size = path.stat().st_size
    except FileNotFoundError:
        return "missing", f"{path} does not exist"
    except OSError as exc:
        return "damaged", f"{path} cannot be read: {exc.strerror or exc}"
    if actual_size != spec.size:
        return "damaged", f"{path.name} has {actual_size:,} bytes, expected {spec.size:,}"
    try:
        digest = sha256_of(path)
    except OSError as exc:
        return "damaged", f"{path} cannot be read: {exc.strerror or exc}"
    if digest != spec.sha256:
        return "damaged", f"{path.name} failed the sha256 check (damaged or modified)"
    return "OK", f"{path.name} ({spec.size / 1e6:.1f} MB, sha256 {digest[:12]}...)"


# -- loading -----------------------------------------------------------------------------------------


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _refusal_reason(exc: Exception) -> str:
    """One line for the user from torch.load's error (whose text advises loading the file unsafely)."""
    text = _ANSI.sub("", str(exc)).strip()
    if "Weights only load failed" in text:
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found:
            return f"it holds a pickled Python object ({found.group(1)}), not only tensors; nothing in it was run"
        return "it holds pickled data that is not plain tensors (or is not a checkpoint at all); nothing in it was run"
    return text.splitlines()[0] if text else type(exc).__name__


def check_floating(tensors: Mapping[str, Any], name: str) -> None:
    """Refuse a state dict whose values are not all real floating-point tensors, naming the first offender
    (an int, bool or complex tensor would otherwise be silently converted into nonsense weights)."""
    import torch

    for key, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"{name}: '{key}' is a {type(value).__name__}, not a tensor")
        if not value.is_floating_point():
            dtype = str(value.dtype).removeprefix("torch.")
            raise WeightsError(f"{name}: tensor '{key}' has dtype {dtype}; weights must be floating point")


# What a file that is not a checkpoint most often is, by its first bytes (for the refusal's message).
_KNOWN_FILES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"BM": "a BMP image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}


def _not_a_checkpoint(path: Path) -> str | None:
    """Why ``path`` cannot be a PyTorch checkpoint, judged from its first bytes, or None when it may be one.

    torch.save writes a zip archive (``PK``) or, in the legacy format, a pickle (protocol 2 or later,
    starting with byte 0x80); anything else would only get torch.load's confusing unpickling error.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        return f"it cannot be read: {exc.strerror or exc}"
    if head.startswith((b"PK\x03\x04", b"\x80")):
        return None
    what = next((name for magic, name in _KNOWN_FILES.items() if head.startswith(magic)), None)
    if what is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        what = "a WebP image"
    kind = "a PyTorch checkpoint (.pt, .pth, .ckpt) or a .safetensors file"
    return f"it is {what}, not {kind}" if what else f"it is not {kind}"


def load_tensors(path: Path, *, floating_only: bool = False) -> dict[str, Any]:
    """Load a state dict without running any code from the file.

    ``.safetensors`` is read with safetensors; anything else goes through ``torch.load`` with
    ``weights_only=True``, which refuses pickled objects other than tensors and plain containers.
    With ``floating_only`` every value must be a real floating-point tensor (see :func:`check_floating`);
    without it, a checkpoint may hold other entries (optimizer state, step counts) for the caller to pick from.
    """
    import torch  # imported here: listing models or classical fills must not pay for torch

    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file

            data = dict(load_file(str(path), device="cpu"))
        except Exception as exc:  # safetensors raises its own error types and OSError
            raise WeightsError(f"{path.name} is not a readable safetensors file: {exc}") from exc
        if floating_only:
            check_floating(data, path.name)
        return data
    reason = _not_a_checkpoint(path)
    if reason:
        raise WeightsError(f"{path.name} cannot be loaded: {reason}")
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for refused objects, RuntimeError/EOFError for damage
        raise WeightsError(f"{path.name} could not be loaded safely: {_refusal_reason(exc)}") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path.name} does not hold a dictionary of tensors")
    if floating_only:
        check_floating(data, path.name)
    return data
