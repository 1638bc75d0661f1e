"""Validating a run's committed state and shipping it when, and only when, it scores better.

``inpaintstudio train FAMILY --resume --validate --data PHOTOS [--ship]``: the state's generator is
scored on the validation photos exactly as shipped weights would be (a temporary models folder holds it
under the family's name, at the shipped working size, through the same pipeline and post-processing; a
family's first weights are scored at three sizes and ship at the best);
the scores go into the ledger's last line. With ``--ship`` the weights replace ``models/FAMILY`` only
when they beat the shipped ones on the job the family is for (holes; borders for srn): higher PSNR,
lower L1, and a detail ratio that does not drop. The model card keeps a line for every version shipped.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaintstudio import paths
from inpaintstudio.engine import registry, weights
from inpaintstudio.training import ema
from inpaintstudio.training import state as portable

DETAIL_TOLERANCE = 0.01  # measurement noise of the detail ratio on 8 photos
# A family's first weights replace a classical fill as what users get for the job, so they must beat the
# best classical fill there (PSNR and L1) and keep most of the photo's texture: PSNR alone rewards blur.
FIRST_SHIP_DETAIL = 0.7


def job_of(family: str) -> str:
    """What a trained family is scored on: extending borders for the one that extends (srn), else holes."""
    return "borders" if registry.capabilities(family).outpaint else "holes"


@contextlib.contextmanager
def _models_folder(folder: Path) -> Iterator[None]:
    old = os.environ.get("INPAINTSTUDIO_MODELS_DIR")
    os.environ["INPAINTSTUDIO_MODELS_DIR"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("INPAINTSTUDIO_MODELS_DIR", None)
        else:
            os.environ["INPAINTSTUDIO_MODELS_DIR"] = old


def working_sizes_for(family: str, info: dict[str, Any] | None = None) -> list[int | None]:
    """The working sizes a candidate is scored at; it ships at the one that scores best. With weights
    shipped, only theirs (the size users get, so candidate and shipped are compared like for like). For a
    family's first weights, the crop they were trained on and 1.5 and 2 times it: a network's best scale
    moves as it trains (srn at step 561 scored 16.51 dB at its 128 px crop and 15.12-16.00 at 96, 160 and
    192; at step 5,700 it scored 13.92 plain at 128 and 16.26 at 192)."""
    shipped = weights.find_spec(family)
    if shipped is not None and shipped.config.get("working_size"):
        return [int(shipped.config["working_size"])]
    crop = int((info or {}).get("settings", {}).get("crop", 0) or 0)
    if not crop:
        return [None]
    return [crop, (crop * 3 // 2 + 7) // 8 * 8, crop * 2]


@dataclass(frozen=True)
class Scored:
    scores: dict[str, dict[str, float]]  # {job: the validation scores}
    working_size: int | None  # the working size they were measured at (the one the weights ship with)
    tried: dict[int, float]  # {working size: PSNR} for every size scored
    # the state as it was read and scored: a run still training rewrites its state every checkpoint, and
    # what ships must be what was scored
    state: portable.PortableState = field(repr=False, compare=False)


def score_state(family: str, state_dir: Path, photos: Path, *, device: str = "cpu") -> Scored:
    """The state's validation scores for its family's job, as the app would fill with it, at the best of
    :func:`working_sizes_for`."""
    from inpaintstudio.evaluation import validate

    kept = portable.read(state_dir)
    if kept is None:
        raise FileNotFoundError(f"{state_dir} holds no training state")
    job = job_of(family)
    shipped_dir = paths.shipped_models_dir()
    measured: list[tuple[int | None, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("validation.txt", "holdout.txt"):
            if (shipped_dir / name).is_file():
                (folder / name).write_bytes((shipped_dir / name).read_bytes())
        for size in working_sizes_for(family, kept.info):
            config = dict(kept.info["network"])
            if size:
                config["working_size"] = size
            weights.store(  # replaces the previous size's entry under the same name
                folder,
                family,
                ema.shipped_generator(kept.modules),
                input_size=int(kept.info["settings"].get("crop", 0)),
                licence="candidate",
                training_data="",
                training="",
                origin="candidate from the training state",
                config=config,
            )
            with _models_folder(folder):
                measured.append((size, validate.score(job, photos, [family], device=device)[family]))
    size, scores = max(measured, key=lambda m: m[1]["psnr"])  # the first of equals, as before
    return Scored({job: scores}, size, {s: float(m["psnr"]) for s, m in measured if s}, kept)


@dataclass(frozen=True)
class Verdict:
    better: bool
    reason: str


def best_classical(job: str) -> tuple[str, dict[str, float]] | None:
    """The classical fill a family's first weights must beat: the highest recorded PSNR among those that
    keep the photo's texture (as ``auto`` chooses), else the highest PSNR."""
    from inpaintstudio.engine import selection

    recorded = [(n, s) for n, s in selection.classical_scores().get(job, {}).items() if "psnr" in s]
    detailed = [(n, s) for n, s in recorded if s.get("detail", 0.0) >= selection.MIN_DETAIL] or recorded
    return max(detailed, key=lambda item: item[1]["psnr"]) if detailed else None


def compare_first(candidate: dict[str, float], job: str) -> Verdict:
    """A family with nothing shipped: better than the best classical fill, with detail >= 0.7."""
    rival = best_classical(job)
    worse = []
    if rival is not None:
        name, scores = rival
        if candidate["psnr"] <= scores["psnr"]:
            worse.append(f"PSNR {candidate['psnr']:.2f} <= {name}'s {scores['psnr']:.2f}")
        if candidate["l1"] >= scores["l1"]:
            worse.append(f"L1 {candidate['l1']:.4f} >= {name}'s {scores['l1']:.4f}")
    if candidate["detail"] < FIRST_SHIP_DETAIL:
        worse.append(f"detail {candidate['detail']:.2f} < {FIRST_SHIP_DETAIL}")
    if worse:
        return Verdict(False, "first weights, not better than the classical fills: " + "; ".join(worse))
    against = f"{rival[0]} ({rival[1]['psnr']:.2f} dB)" if rival else "no recorded classical fill"
    return Verdict(
        True,
        f"first weights, better than {against}: PSNR {candidate['psnr']:.2f}, "
        f"L1 {candidate['l1']:.4f}, detail {candidate['detail']:.2f}",
    )


def compare(candidate: dict[str, float], shipped: dict[str, float] | None, job: str = "holes") -> Verdict:
    if shipped is None:
        return compare_first(candidate, job)
    worse = []
    if candidate["psnr"] <= shipped["psnr"]:
        worse.append(f"PSNR {candidate['psnr']:.2f} <= {shipped['psnr']:.2f}")
    if candidate["l1"] >= shipped["l1"]:
        worse.append(f"L1 {candidate['l1']:.4f} >= {shipped['l1']:.4f}")
    if candidate["detail"] < shipped["detail"] - DETAIL_TOLERANCE:
        worse.append(f"detail {candidate['detail']:.2f} < {shipped['detail']:.2f}")
    if worse:
        return Verdict(False, "not better than the shipped weights: " + "; ".join(worse))
    return Verdict(
        True,
        f"better than the shipped weights: PSNR {shipped['psnr']:.2f} -> {candidate['psnr']:.2f}, L1 "
        f"{shipped['l1']:.4f} -> {candidate['l1']:.4f}, detail {shipped['detail']:.2f} -> {candidate['detail']:.2f}",
    )


def shipped_scores(family: str, job: str) -> dict[str, float] | None:
    spec = weights.find_spec(family)
    if spec is None or not spec.scores.get(job):
        return None
    return dict(spec.scores[job])


def ledger_summary(state_dir: Path) -> str:
    rows = portable.read_ledger(state_dir)
    lines = [
        weights.CARD_LEDGER_SECTION,
        "",
        "Pieces of training, from the run's ledger (`training-state/<family>/ledger.tsv`):",
        "",
        "| date | hardware | steps | crops seen | crop | batch | hours | validation PSNR / L1 / detail | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        scores = " / ".join(r.get(k, "") for k in ("val_psnr", "val_l1", "val_detail")) if r.get("val_psnr") else ""
        lines.append(
            f"| {r['date']} | {r['hardware']} | {r['step_from']}-{r['step_to']} | {r['crops_seen']} | {r['crop']} "
            f"| {r['batch']} | {r['hours']} | {scores} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def ship(
    family: str,
    state_dir: Path,
    scores: dict[str, Any],
    notes: str = "",
    working_size: int | None = None,
    kept: portable.PortableState | None = None,
) -> weights.WeightsSpec:
    """Export the state's generator as the shipped weights, at ``working_size`` (the size it was scored
    at, :attr:`Scored.working_size`); ``kept``: the state that was scored (:attr:`Scored.state`), else the
    one in ``state_dir`` now."""
    from inpaintstudio.training.export import export_generator

    kept = kept or portable.read(state_dir)
    text = (notes.strip() + "\n\n" if notes.strip() else "") + ledger_summary(state_dir)
    from inpaintstudio.evaluation.validate import write_card_scores

    spec = export_generator(
        kept.info,
        kept.info["network"],
        ema.shipped_generator(kept.modules),
        paths.shipped_models_dir(),
        family,
        working_size=working_size,
        notes=text,
        scores=scores,
    )
    write_card_scores(paths.shipped_models_dir() / spec.card, dict(spec.scores))
    return spec
