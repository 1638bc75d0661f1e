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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from inpaintstudio import paths
from inpaintstudio.engine import registry
from inpaintstudio.errors import WeightsError

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


def recorded(model: str, job: str) -> dict[str, float] | None:
    """A model's recorded validation scores for ``job``, or None if it was never measured."""
    cls = registry.get(model)
    if getattr(cls, "learned", False):
        try:
            spec = cls.weights_spec()
        except WeightsError:
            return None
        scores = dict(spec.scores.get(job, {})) if spec is not None else {}
        return scores or None
    return classical_scores().get(job, {}).get(model)


def _fmt(scores: dict[str, Any]) -> str:
    return f"{scores['psnr']:.2f} dB, detail {scores.get('detail', float('nan')):.2f}"


def select(job: str, *, sketch: bool = False) -> Choice:
    if job not in JOBS:
        raise ValueError(f"job must be one of {JOBS}")
    notes: list[str] = []
    scored: list[tuple[str, dict[str, float], bool]] = []
    fallback: list[str] = []
    for cls in registry.all_inpainters():
        if job == "borders" and not cls.supports_outpaint:
            continue
        status = cls.status()
        if not status.ready:
            if cls.learned and status.state in ("missing", "damaged"):
                notes.append(f"{cls.name} skipped: its weights are {status.state}")
            continue
        scores = recorded(cls.name, job)
        if scores is None or "psnr" not in scores:
            if not cls.learned:
                fallback.append(cls.name)
            continue
        scored.append((cls.name, scores, bool(cls.learned)))
    if not scored:
        if fallback:
            return Choice(fallback[0], "no recorded scores: the first classical fill", tuple(notes))
        return Choice(None, "no model is ready for this job", tuple(notes))
    best_classical = max((s["psnr"] for _, s, learned in scored if not learned), default=float("-inf"))
    eligible = [(n, s) for n, s, learned in scored if not learned or s["psnr"] >= best_classical]
    detailed = [(n, s) for n, s in eligible if s.get("detail", 0.0) >= MIN_DETAIL] or eligible
    name, scores = max(detailed, key=lambda item: item[1]["psnr"])
    reason = f"best recorded score for {job}: {_fmt(scores)}"
    if sketch and not registry.get(name).supports_sketch:
        guided = [(n, s) for n, s in detailed if registry.get(n).supports_sketch]
        if guided:
            name, scores = max(guided, key=lambda item: item[1]["psnr"])
            reason = f"best recorded score for {job} among models that follow sketch strokes: {_fmt(scores)}"
    return Choice(name, reason, tuple(notes))
