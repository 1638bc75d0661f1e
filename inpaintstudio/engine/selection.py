"""What ``auto`` picks: the model with the best recorded validation score for the kind of job.

Scores are measured on the validation photos (``inpaintstudio validate --record``) and recorded where
they belong: a learned model's in its weights' manifest entry (so new weights start unscored), the
classical fills' in ``models/scores.json``. For each job ("holes", "borders"):

- candidates are the models that are ready and can do the job; a model whose weights are missing or
  damaged is skipped with a note saying so;
- a fill must keep the photo's texture: models whose detail ratio is below :data:`MIN_DETAIL` (diffusion
  fills, blurred learned fills) are chosen only when nothing else qualifies, since PSNR alone rewards
  blur;
- the highest hole PSNR wins; a learned model is never chosen over a classical fill that scores better,
  and unscored learned weights (an import) are never chosen automatically;
- with sketch strokes, the best sketch-capable candidate wins if it is not below any classical fill.

This module is the rule alone: it is handed the inpainter classes to choose among and reads their
:meth:`~inpaintstudio.engine.base.Inpainter.capabilities`. ``registry.select(job)`` is how the rest of the
code asks; this module imports neither the registry nor the inpainters, so there is no circle between them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inpaintstudio import paths

SCORES_FILE = "scores.json"
JOBS = ("holes", "borders")
MIN_DETAIL = 0.5


@dataclass(frozen=True)
class Choice:
    model: str | None
    reason: str
    notes: tuple[str, ...] = field(default=())


def classical_scores() -> dict[str, dict[str, dict[str, float]]]:
    """The recorded scores of the classical fills: {job: {model: {psnr, l1, detail}}}."""
    path = paths.shipped_models_dir() / SCORES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {job: dict(data.get(job, {})) for job in JOBS}


def _fmt(scores: dict[str, Any]) -> str:
    return f"{scores['psnr']:.2f} dB, detail {scores.get('detail', float('nan')):.2f}"


def choose(job: str, candidates: Iterable[Any], *, sketch: bool = False) -> Choice:
    """The model ``auto`` picks for ``job`` among ``candidates`` (inpainter classes; see the module doc)."""
    if job not in JOBS:
        raise ValueError(f"job must be one of {JOBS}")
    notes: list[str] = []
    scored: list[tuple[str, dict[str, float], bool]] = []
    fallback: list[str] = []
    guided: set[str] = set()
    for cls in candidates:
        caps = cls.capabilities()
        if job == "borders" and not caps.outpaint:
            continue
        status = cls.status()
        if not status.ready:
            if cls.learned and status.state in ("missing", "damaged"):
                notes.append(f"{cls.name} skipped: its weights are {status.state}")
            continue
        scores = dict(caps.scores.get(job, {}))
        if "psnr" not in scores:
            if not cls.learned:
                fallback.append(cls.name)
            continue
        scored.append((cls.name, scores, bool(cls.learned)))
        if caps.sketch:
            guided.add(cls.name)
    if not scored:
        if fallback:
            return Choice(fallback[0], "no recorded scores: the first classical fill", tuple(notes))
        return Choice(None, "no model is ready for this job", tuple(notes))
    best_classical = max((s["psnr"] for _, s, learned in scored if not learned), default=float("-inf"))
    eligible = [(n, s) for n, s, learned in scored if not learned or s["psnr"] >= best_classical]
    detailed = [(n, s) for n, s in eligible if s.get("detail", 0.0) >= MIN_DETAIL] or eligible
    name, scores = max(detailed, key=lambda item: item[1]["psnr"])
    reason = f"best recorded score for {job}: {_fmt(scores)}"
    if sketch and name not in guided:
        following = [(n, s) for n, s in detailed if n in guided]
        if following:
            name, scores = max(following, key=lambda item: item[1]["psnr"])
            reason = f"best recorded score for {job} among models that follow sketch strokes: {_fmt(scores)}"
    return Choice(name, reason, tuple(notes))
