"""Turning a training run into shipped weights: fp16 safetensors, a manifest entry and a model card.

The generator's weights are written as ``models/<name>.safetensors`` (float16: half the size, and the
loader converts back to float32), the manifest entry records sha256, size, parameter count, input size,
licence, training data and how the weights were trained, and ``models/<name>.md`` is the model card.
The photos' attribution travels with the weights in ``models/TRAINING_DATA.tsv``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import torch

from inpaintstudio.atomic import atomic_write
from inpaintstudio.engine import weights
from inpaintstudio.training.trainer import training_files

WEIGHTS_LICENCE = (
    "InpaintStudio weights: MIT. Trained on photographs under their own licences (public domain, CC0, "
    "CC-BY, CC-BY-SA, GPL-2+, LGPL-3.0, MIT, BSD-3-Clause): see TRAINING_DATA.tsv"
)
MAX_FILE_BYTES = 25 * 1024 * 1024


def _run_info(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


def describe_training(info: dict[str, Any]) -> str:
    s = info["settings"]
    hours = info["seconds"] / 3600
    return (
        f"{info['step']} steps of batch {s['batch_size']} ({info['samples_seen']} crops of {s['crop']} px), "
        f"{hours:.1f} h on {info['hardware']}, Adam lr {s['lr']}; options {json.dumps(info['options'])}"
    )


def write_training_data(models_dir: Path, files: list[Path]) -> int:
    """Attribution rows of the photos trained on (from the ATTRIBUTION.tsv beside them)."""
    rows: dict[str, dict[str, str]] = {}
    for folder in {f.parent for f in files}:
        table = folder / "ATTRIBUTION.tsv"
        if table.is_file():
            with open(table, encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    rows[row["file"]] = row
    names = sorted({f.name for f in files})
    fields = ["file", "licence", "author", "upstream", "source"]
    with atomic_write(models_dir / "TRAINING_DATA.tsv", "w") as fh:
        fh.write("\t".join(fields) + "\n")
        for name in names:
            row = rows.get(name, {})
            fh.write("\t".join([name] + [row.get(k, "").replace("\t", " ") for k in fields[1:]]) + "\n")
    return len(names)


def export_run(
    run_dir: Path, models_dir: Path, name: str, *, working_size: int | None = None, notes: str = ""
) -> weights.WeightsSpec:
    from inpaintstudio.training.trainer import TrainSettings

    info = _run_info(run_dir)
    state = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    settings = TrainSettings(**info["settings"])
    models_dir.mkdir(parents=True, exist_ok=True)
    count = write_training_data(models_dir, training_files(settings))
    config = dict(state["network"])
    if working_size:
        config["working_size"] = int(working_size)
    spec = weights.store(
        models_dir,
        name,
        state["modules"]["generator"],
        input_size=int(settings.crop),
        licence=WEIGHTS_LICENCE,
        training_data=f"{count} photographs (models/TRAINING_DATA.tsv); held out: {', '.join(settings.exclude_lists)}",
        training=describe_training(info),
        origin="trained for InpaintStudio (inpaintstudio train)",
        config=config,
        card=f"{name}.md",
        metadata={"family": state["family"], "step": state["step"]},
    )
    if spec.size > MAX_FILE_BYTES:
        raise ValueError(f"{spec.file} is {spec.size / 2**20:.1f} MiB, above the 25 MiB limit for shipped weights")
    _write_card(models_dir / spec.card, spec, info, notes)
    return spec


def _write_card(path: Path, spec: weights.WeightsSpec, info: dict[str, Any], notes: str) -> None:
    lines = [
        f"# Model card: {spec.model}",
        "",
        f"- **File:** `{spec.file}` ({spec.size / 2**20:.2f} MiB, float16 safetensors), sha256 `{spec.sha256}`",
        f"- **Parameters:** {spec.parameters:,}; network config `{json.dumps(dict(spec.config))}`",
        f"- **Training crops:** {spec.input_size} px",
        f"- **Training:** {spec.training}",
        f"- **Data:** {spec.training_data}",
        f"- **Hardware:** {info['hardware']}, torch {info['torch']}",
        f"- **Licence:** {spec.licence}",
        "",
        notes.strip(),
        "",
    ]
    with atomic_write(path, "w") as fh:
        fh.write("\n".join(lines))
