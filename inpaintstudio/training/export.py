"""Turning a training run into shipped weights: fp16 safetensors, a manifest entry and a model card.

The generator's weights are written as ``models/<name>.safetensors`` (float16: half the size, and the
loader converts back to float32), the manifest entry records sha256, size, parameter count, input size,
licence, training data and how the weights were trained, and ``models/<name>.md`` is the model card.
The photos' attribution travels with the weights in ``models/TRAINING_DATA.tsv``.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import torch

from inpaintstudio.atomic import atomic_write
from inpaintstudio.engine import weights
from inpaintstudio.training import ema
from inpaintstudio.training.provenance import describe_training, total_crops, total_steps
from inpaintstudio.training.trainer import training_files

WEIGHTS_LICENCE = (
    "InpaintStudio weights: MIT. Trained on photographs under their own licences (public domain, CC0, "
    "CC-BY, CC-BY-SA, GPL-2+, LGPL-3.0, MIT, BSD-3-Clause): see TRAINING_DATA.tsv"
)
MAX_FILE_BYTES = 25 * 1024 * 1024


def _run_info(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


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
    info = _run_info(run_dir)
    state = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    return export_generator(
        info,
        state["network"],
        ema.shipped_generator(state["modules"]),
        models_dir,
        name,
        working_size=working_size,
        notes=notes,
    )


def export_generator(
    info: dict[str, Any],
    network: dict[str, Any],
    generator: dict[str, torch.Tensor],
    models_dir: Path,
    name: str,
    *,
    working_size: int | None = None,
    notes: str = "",
    scores: dict[str, Any] | None = None,
) -> weights.WeightsSpec:
    """Write a generator as shipped weights with its manifest entry, attribution and model card.

    ``info`` holds the run's facts (run.json, or a portable state's metadata); ``scores`` the validation
    scores it was shipped for (kept in the manifest and the card)."""
    from inpaintstudio.training.trainer import TrainSettings

    known = set(TrainSettings.__dataclass_fields__)
    settings = TrainSettings(**{k: v for k, v in info["settings"].items() if k in known})
    models_dir.mkdir(parents=True, exist_ok=True)
    count = write_training_data(models_dir, training_files(settings))
    config = dict(network)
    if working_size:
        config["working_size"] = int(working_size)
    spec = weights.store(
        models_dir,
        name,
        generator,
        input_size=int(settings.crop),
        licence=WEIGHTS_LICENCE,
        training_data=f"{count} photographs (models/TRAINING_DATA.tsv); held out: {', '.join(settings.exclude_lists)}",
        training=describe_training(info),
        origin="trained for InpaintStudio (inpaintstudio train)",
        config=config,
        card=f"{name}.md",
        metadata={"family": info.get("family", name), "step": info["step"]},
        scores=scores or {},
    )
    if spec.size > MAX_FILE_BYTES:
        raise ValueError(f"{spec.file} is {spec.size / 2**20:.1f} MiB, above the 25 MiB limit for shipped weights")
    history = _versions(models_dir / spec.card)
    job = next((j for j in ("holes", "borders") if scores and j in scores), None)
    if job is not None:
        s = scores[job]
        history.append(
            f"| {time.strftime('%Y-%m-%d')} | {total_steps(info)} | {total_crops(info):,} | {job} | "
            f"{s['psnr']:.2f} | {s['l1']:.4f} | {s['detail']:.2f} | `{spec.sha256[:12]}` |"
        )
    _write_card(models_dir / spec.card, spec, info, notes, history)
    return spec


VERSIONS = weights.CARD_VERSIONS_SECTION
KEPT_SECTION = weights.CARD_KEPT_SECTION
# Written anew at every export; every other section of an existing card was written by a person (or by
# an earlier export's --notes) and is kept, under KEPT_SECTION.
GENERATED_SECTIONS = (VERSIONS, weights.CARD_SCORES_SECTION, weights.CARD_LEDGER_SECTION)
VERSIONS_HEADER = (
    "| date | step | crops seen | job | PSNR (dB) | L1 | detail | sha256 |\n|---|---|---|---|---|---|---|---|"
)


def _versions(card: Path) -> list[str]:
    """The rows of an existing card's 'Shipped versions' table (every version shipped before)."""
    if not card.is_file():
        return []
    text = card.read_text(encoding="utf-8")
    if VERSIONS not in text:
        return []
    section = text.split(VERSIONS, 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| 2")]


def _kept_notes(card: Path) -> str:
    """The sections of an existing card that an export does not write itself, one level down (a card
    shipped again keeps what was written about the earlier versions: data, choices, looks)."""
    if not card.is_file():
        return ""
    chunks = card.read_text(encoding="utf-8").split("\n## ")[1:]  # the title and facts come first
    kept: list[str] = []
    for chunk in chunks:
        heading, _, body = chunk.partition("\n")
        if "## " + heading.strip() in GENERATED_SECTIONS:
            continue
        if "## " + heading.strip() == KEPT_SECTION:
            kept.append(body.strip())  # already one level down
            continue
        body = "\n".join("#" + line if line.startswith("### ") else line for line in body.splitlines())
        kept.append(f"### {heading.strip()}\n{body}".strip())
    return "\n\n".join(k for k in kept if k)


def _write_card(
    path: Path, spec: weights.WeightsSpec, info: dict[str, Any], notes: str, history: list[str] | None = None
) -> None:
    kept = _kept_notes(path)
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
    if history:
        lines += [VERSIONS, "", VERSIONS_HEADER, *history, ""]
    if kept:
        lines += [KEPT_SECTION, "", kept, ""]
    with atomic_write(path, "w") as fh:
        fh.write("\n".join(lines))
