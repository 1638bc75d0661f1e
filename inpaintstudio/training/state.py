"""A run's portable state: what is committed to the repository so training continues on any machine.

``checkpoint.pt`` in a run folder is the exact, full-precision state and stays on the machine that
trains. The portable state is its compact copy, kept under ``training-state/<family>/`` in the
repository and committed at least every hour of training:

- ``state.safetensors``: every network's weights in float16 (integer buffers unchanged), with the run's
  facts (step, seconds trained, crops seen, network config, options, settings) in the file's metadata,
  so weights and facts can never disagree;
- ``optim.safetensors``: the Adam moments in bfloat16 (float32's range: the second moments of small
  gradients would flush to zero in float16, and Adam would then take huge steps) with the parameter
  groups in the metadata. Left out, with a note in the metadata of ``state.safetensors``, when it would
  exceed :data:`MAX_FILE_BYTES`; Adam then restarts its moments on resume.

Both files are written atomically (temporary file, fsync, rename), ``optim`` first: a process killed
at any moment leaves either the previous pair or a newer ``optim`` beside the previous ``state``. The
``step`` recorded in each lets the loader notice the mismatch and resume with fresh moments rather than
moments from another step. Each file replaces the last, so the repository grows by about one state per
commit (see the README's Training section).
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inpaintstudio.atomic import atomic_write_bytes

MAX_FILE_BYTES = 25 * 1024 * 1024
STATE_FILE = "state.safetensors"
OPTIM_FILE = "optim.safetensors"
LEDGER_FILE = "ledger.tsv"
STATE_ROOT = "training-state"


@dataclass
class PortableState:
    """A run's state read back from the portable files, in the shape of a checkpoint."""

    info: dict[str, Any]
    modules: dict[str, dict[str, torch.Tensor]]
    optimizers: dict[str, dict[str, Any]] | None  # None: not kept (too large) or from another step

    @property
    def step(self) -> int:
        return int(self.info["step"])


def _compact(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    t = tensor.detach().cpu()
    return t.to(dtype).contiguous() if t.is_floating_point() else t.contiguous()


def _module_tensors(modules: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {
        f"{name}/{key}": _compact(value, torch.float16) for name, sd in modules.items() for key, value in sd.items()
    }


def _optim_tensors(optimizers: dict[str, dict[str, Any]]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    groups: dict[str, Any] = {}
    for name, sd in optimizers.items():
        groups[name] = sd["param_groups"]
        for pid, slots in sd["state"].items():
            for slot, value in slots.items():
                value = value if torch.is_tensor(value) else torch.tensor(float(value))
                # the step counter stays float32: bfloat16 cannot count past 256 exactly
                dtype = torch.float32 if slot == "step" else torch.bfloat16
                tensors[f"{name}/{pid}/{slot}"] = _compact(value, dtype)
    return tensors, groups


def write(
    folder: Path, checkpoint: dict[str, Any], facts: dict[str, Any], *, with_optimizer: bool = True
) -> dict[str, int]:
    """Write the portable state of ``checkpoint`` (the dict Trainer saves) into ``folder``.

    ``facts`` are the run's settings and hardware (``run.json``'s content). Returns the file sizes.
    Without ``with_optimizer`` only the networks are written (the hourly commits of a long run, which
    keep the repository's growth down); an older ``optim`` file left beside them records another step
    and is therefore not used on resume.
    """
    from safetensors.torch import save

    folder.mkdir(parents=True, exist_ok=True)
    info = {
        "family": checkpoint["family"],
        "network": checkpoint["network"],
        "options": checkpoint["options"],
        "step": int(checkpoint["step"]),
        "seconds": float(checkpoint["seconds"]),
        "samples_seen": int(checkpoint.get("samples_seen", 0)),
        "settings": facts.get("settings", {}),
        "hardware": facts.get("hardware", ""),
        "torch": torch.__version__,
    }
    sizes: dict[str, int] = {}
    tensors, groups = _optim_tensors(checkpoint["optimizers"]) if with_optimizer else ({}, {})
    optim_meta = {"step": str(info["step"]), "param_groups": json.dumps(groups)}
    optim_bytes = save(tensors, metadata=optim_meta) if with_optimizer else b""
    if not with_optimizer:
        info["optimizer"] = "not written with this state (written when a piece of training ends)"
    elif len(optim_bytes) <= MAX_FILE_BYTES:
        atomic_write_bytes(folder / OPTIM_FILE, optim_bytes)
        sizes[OPTIM_FILE] = len(optim_bytes)
        info["optimizer"] = "kept (bfloat16 moments)"
    else:
        (folder / OPTIM_FILE).unlink(missing_ok=True)
        info["optimizer"] = f"not kept: {len(optim_bytes) / 2**20:.1f} MiB is above the 25 MiB limit"
    state_bytes = save(_module_tensors(checkpoint["modules"]), metadata={"info": json.dumps(info)})
    if len(state_bytes) > MAX_FILE_BYTES:
        raise ValueError(f"the networks alone take {len(state_bytes) / 2**20:.1f} MiB, above the 25 MiB limit")
    atomic_write_bytes(folder / STATE_FILE, state_bytes)
    sizes[STATE_FILE] = len(state_bytes)
    return sizes


def read_info(folder: Path) -> dict[str, Any] | None:
    """The facts of the portable state in ``folder`` (None when there is none), without loading tensors."""
    from safetensors import safe_open

    path = folder / STATE_FILE
    if not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as fh:
        return json.loads(fh.metadata()["info"])


def read(folder: Path) -> PortableState | None:
    """Load the portable state in ``folder`` as float32 tensors (None when there is none)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    info = read_info(folder)
    if info is None:
        return None
    modules: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in load_file(str(folder / STATE_FILE)).items():
        name, _, param = key.partition("/")
        modules.setdefault(name, {})[param] = value.float() if value.is_floating_point() else value
    optimizers = None
    optim_path = folder / OPTIM_FILE
    if optim_path.is_file():
        with safe_open(str(optim_path), framework="pt") as fh:
            meta = fh.metadata()
        if int(meta.get("step", -1)) == int(info["step"]):
            groups = json.loads(meta["param_groups"])
            optimizers = {name: {"state": {}, "param_groups": g} for name, g in groups.items()}
            for key, value in load_file(str(optim_path)).items():
                name, pid, slot = key.split("/")
                optimizers[name]["state"].setdefault(int(pid), {})[slot] = value.float()
    return PortableState(info=info, modules=modules, optimizers=optimizers)


def hardware_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(0)}"
    return f"CPU {platform.processor() or platform.machine()} x {torch.get_num_threads()} threads"


LEDGER_COLUMNS = (
    "date",
    "hardware",
    "step_from",
    "step_to",
    "crops_seen",
    "crop",
    "batch",
    "lr",
    "hours",
    "total_hours",
    "val_l1",
    "val_psnr",
    "val_detail",
    "note",
)


def _write_ledger(folder: Path, rows: list[dict[str, Any]]) -> None:
    """Write the whole ledger atomically; a tab inside a value would shift its columns, so it becomes a space."""
    lines = ["\t".join(LEDGER_COLUMNS)]
    lines += ["\t".join(str(row.get(c, "")).replace("\t", " ") for c in LEDGER_COLUMNS) for row in rows]
    atomic_write_bytes(folder / LEDGER_FILE, ("\n".join(lines) + "\n").encode("utf-8"))


def record_piece(folder: Path, row: dict[str, Any]) -> None:
    """This piece of training's line, as of now: replaces the last line when that is the same piece (same
    start date and step; the trainer rewrites it at every checkpoint, keeping scores noted there), else
    adds a line."""
    rows = read_ledger(folder)
    same = rows and rows[-1].get("date") == str(row["date"]) and rows[-1].get("step_from") == str(row["step_from"])
    if same:
        rows[-1].update({k: str(v) for k, v in row.items()})
    else:
        rows.append(row)
    _write_ledger(folder, rows)


def read_ledger(folder: Path) -> list[dict[str, str]]:
    path = folder / LEDGER_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line.strip()]


def update_last_ledger_row(folder: Path, values: dict[str, Any]) -> None:
    """Fill in the validation scores of the last piece of training (after scoring its state)."""
    rows = read_ledger(folder)
    if not rows:
        raise ValueError(f"{folder / LEDGER_FILE} has no rows to update")
    rows[-1].update({k: str(v) for k, v in values.items()})
    _write_ledger(folder, rows)
