"""Scoring models on the validation set and recording the scores that ``auto`` chooses by.

Holes: the validation photos with three painted masks each (evaluation/validation.py). Borders: the same
photos with the outer sixth of the width on each side cropped away and restored. Scores are means over
photos of the hole PSNR, L1 and detail ratio, through the same pipeline a user's fill takes.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path

from inpaintstudio import paths
from inpaintstudio.atomic import atomic_write
from inpaintstudio.engine import registry, selection, weights
from inpaintstudio.evaluation import benchmark, validation

Scores = dict[str, dict[str, float]]  # model -> {psnr, l1, detail, images}


def cases_for(job: str, photos: Path) -> list[benchmark.Case]:
    return validation.scoring_cases(photos) if job == "holes" else validation.border_cases(photos)


def score(job: str, photos: Path, models: list[str], *, device: str = "cpu", on_row=None) -> Scores:
    cases = cases_for(job, photos)
    rows = benchmark.evaluate(cases, models, device=device, on_row=on_row)
    out: Scores = {}
    for entry in benchmark.summarise(rows):
        out[str(entry["model"])] = {
            "psnr": round(float(entry["psnr_hole"]), 3),
            "l1": round(float(entry["l1_hole"]), 4),
            "detail": round(float(entry["detail_hole"]), 3),
            "images": int(entry["images"]),
        }
    return out


def record(job: str, scores: Scores) -> list[str]:
    """Write ``scores`` where they belong: learned models' manifest entries and cards, the classical fills'
    ``models/scores.json``. Returns the models recorded."""
    folder = paths.shipped_models_dir()
    done = []
    table_path = folder / selection.SCORES_FILE
    try:
        table = json.loads(table_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {}
    table["validation"] = (
        "models/validation.txt; holes: painted masks of 10-50 % (evaluation/validation.py); borders: the "
        "outer sixth of the width on each side restored"
    )
    for model, values in scores.items():
        cls = registry.get(model)
        if cls.learned:
            spec = cls.weights_spec()
            if spec is None or Path(spec.folder) != folder:
                continue  # imported weights live in the user's folder; not shipped, not recorded here
            merged = {**{k: dict(v) for k, v in spec.scores.items()}, job: values}
            weights.add_to_manifest(folder, replace(spec, scores=merged))
            if spec.card:
                write_card_scores(folder / spec.card, merged)
        else:
            table.setdefault(job, {})[model] = values
        done.append(model)
    table["measured"] = time.strftime("%Y-%m-%d")
    with atomic_write(table_path, "w") as fh:
        json.dump(table, fh, indent=2)
        fh.write("\n")
    return done


CARD_SECTION = weights.CARD_SCORES_SECTION


def card_scores(scores: dict[str, dict[str, float]]) -> str:
    """The card's validation-score section (Markdown)."""
    lines = [
        CARD_SECTION,
        "",
        "Measured with `inpaintstudio validate --photos PHOTOS --record` on the photos of models/validation.txt",
        "(holes: three painted masks of 10-50 % per photo; borders: the outer sixth of each side restored), means over cases:",
        "",
        "| job | PSNR (dB) | L1 | detail ratio | cases |",
        "|---|---|---|---|---|",
    ]
    for job, values in scores.items():
        lines.append(
            f"| {job} | {values['psnr']:.2f} | {values['l1']:.4f} | {values['detail']:.2f} | {values.get('images', '')} |"
        )
    return "\n".join(lines)


def write_card_scores(card: Path, scores: dict[str, dict[str, float]]) -> None:
    """Replace (or add) the card's validation-score section."""
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    section = card_scores(scores) + "\n"
    pattern = re.compile(re.escape(CARD_SECTION) + r".*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section.rstrip("\n"), text) if CARD_SECTION in text else text.rstrip("\n") + "\n\n" + section
    with atomic_write(card, "w") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")


def markdown(job: str, scores: Scores) -> str:
    lines = [f"| {job}: model | PSNR (dB) | L1 | detail | cases |", "|---|---|---|---|---|"]
    for model, v in sorted(scores.items(), key=lambda item: -item[1]["psnr"]):
        lines.append(f"| {model} | {v['psnr']:.2f} | {v['l1']:.4f} | {v['detail']:.2f} | {v['images']} |")
    return "\n".join(lines)
