"""How much training a generator has had, as the manifest says it: the text an export writes ("N steps
of batch B (M crops ...), in all ...") and the reader a new run uses to count its starting weights'
training (TrainSettings.prior). Writer and reader live together so the one cannot change without the
other; the trainer and the export both use them, so they sit below both."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from inpaintstudio.engine import weights


def describe_training(info: dict[str, Any]) -> str:
    s = info["settings"]
    hours = info["seconds"] / 3600
    text = (
        f"{info['step']} steps of batch {s['batch_size']} ({info['samples_seen']} crops of {s['crop']} px), "
        f"{hours:.1f} h on {info['hardware']}, Adam lr {s['lr']}; options {json.dumps(info['options'])}"
    )
    prior = _prior(info)
    if prior:
        text += (
            f"; the run started from {prior['weights']}, trained {prior['steps']} steps ({prior['crops']} crops, "
            f"{prior['hours']:.1f} h) before it: in all {total_steps(info):,} steps, {total_crops(info):,} crops, "
            f"{hours + prior['hours']:.1f} h"
        )
    elif s.get("init_from"):
        text += f"; the run started from {Path(s['init_from']).name} (see the card's training table)"
    if s.get("ema"):
        text += f"; the weights are the generator's moving average (decay {s['ema']}, training/ema.py)"
    return text


def _prior(info: dict[str, Any]) -> dict[str, Any]:
    """What the weights a run started from had been trained for (TrainSettings.prior; empty if nothing)."""
    return info["settings"].get("prior") or {}


def total_crops(info: dict[str, Any]) -> int:
    """Crops the generator has seen: this run's and those of the weights it started from."""
    return int(info["samples_seen"]) + int(_prior(info).get("crops", 0))


def total_steps(info: dict[str, Any]) -> int:
    """Steps the generator has been trained for, the starting weights' included."""
    return int(info["step"]) + int(_prior(info).get("steps", 0))


def prior_training(path: Path) -> dict[str, Any]:
    """The training shipped weights had (from their manifest entry beside them): steps, crops and hours,
    counting what their own starting weights had (the "in all" that :func:`describe_training` writes);
    empty when the manifest does not say."""
    spec = next((s for s in weights.read_manifest(path.parent) if s.file == path.name), None)
    text = spec.training if spec else ""
    run = re.match(r"(\d+) steps of batch \d+ \((\d+) crops", text)
    hours = re.search(r"([\d.]+) h on", text)
    if not run:
        return {}
    steps, crops, spent = int(run[1]), int(run[2]), float(hours[1]) if hours else 0.0
    total = re.search(r"in all ([\d,]+) steps, ([\d,]+) crops, ([\d.]+) h", text)
    if total:  # the weights' own run had started from earlier weights
        steps, crops, spent = int(total[1].replace(",", "")), int(total[2].replace(",", "")), float(total[3])
    return {"steps": steps, "crops": crops, "hours": spent, "weights": f"{path.name} ({spec.sha256[:12]})"}
