"""``inpaintstudio train``: train a model family on a folder of photos, resumably; export it.

inpaintstudio train deepfillv2 --data PHOTOS --run runs/deepfill --steps 20000 [--minutes 60]
inpaintstudio train deepfillv2 --resume --data PHOTOS [--minutes 60]   # continue the committed run
inpaintstudio train deepfillv2 --run runs/deepfill --export models/ [--name deepfillv2]
inpaintstudio train deepfillv2 --data PHOTOS --run runs/deepfill --nproc 2     # data-parallel, 2 processes
torchrun --nnodes 2 --nproc-per-node 1 ... -m inpaintstudio train deepfillv2 ...   # on several machines

With ``--resume`` the run continues from the portable state committed in ``training-state/FAMILY``
(training/state.py) with the settings recorded there; any option given on the command line overrides
the recorded one. The state and the ledger there are kept up to date at every checkpoint.

``--nproc N`` (or torchrun's environment) trains on N ranks with torch.distributed
(training/distributed.py): each rank its shard of the photos and batch / N crops per step, gradients
averaged over the ranks; only rank 0 writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from inpaintstudio.engine import registry
from inpaintstudio.engine.device import DEVICE_CHOICES
from inpaintstudio.errors import InpaintStudioError, InputError, TrainingDivergedError

if TYPE_CHECKING:
    from inpaintstudio.training.trainer import TrainSettings


def _key_values(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got '{item}'")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model on a folder of photos (resumable), or export a run as shipped weights",
        description="Train FAMILY on the photos in --data. Running the same command again resumes the run in --run.",
    )
    parser.add_argument("family", choices=registry.list_models(trainable=True))
    parser.add_argument("--run", type=Path, help="run folder (checkpoint, logs, samples); default runs/FAMILY")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the committed run in training-state/FAMILY with its recorded settings",
    )
    parser.add_argument(
        "--state", type=Path, metavar="DIR", help="portable state folder to resume from and keep up to date"
    )
    parser.add_argument(
        "--init-from", type=Path, metavar="WEIGHTS", help="a new run's generator starts from these weights"
    )
    parser.add_argument("--data", type=Path, action="append", default=[], help="folder of photos (repeatable)")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="LIST", help="file naming photos to leave out"
    )
    parser.add_argument("--steps", type=int, help="total steps of the run")
    parser.add_argument("--minutes", type=float, help="stop after this long (with a checkpoint); run again to continue")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--crop", type=int, help="training crop side in pixels")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (per process with --nproc)")
    parser.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="data-parallel training on N processes of this machine (gloo on the CPU, NCCL on GPUs: one GPU "
        "each); --batch is divided among them. On several machines run under torchrun instead",
    )
    parser.add_argument(
        "--ema",
        type=float,
        metavar="DECAY",
        help="keep a moving average of the generator (e.g. 0.999; 0: none), which is then validated, shipped, exported",
    )
    parser.add_argument(
        "--precision",
        choices=("auto", "bf16", "float32"),  # trainer.PRECISIONS, not imported: it would load torch at start-up
        default="auto",
        help="bf16: mixed precision; auto (default): bf16 on a GPU and on a CPU with native bfloat16 (AVX-512 BF16, AMX)",
    )
    parser.add_argument("--net", action="append", default=[], metavar="KEY=VALUE", help="network config override")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="loss/recipe option")
    parser.add_argument("--vgg", type=Path, help="a torchvision VGG-16/19 state dict for perceptual features")
    parser.add_argument("--sample-every", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--export", type=Path, metavar="MODELS_DIR", help="write the run's generator as shipped weights"
    )
    parser.add_argument("--name", help="model name for --export (default: the family)")
    parser.add_argument("--working-size", type=int, help="with --export: the side the app scales crops to")
    parser.add_argument("--notes", type=Path, help="with --export or --ship: Markdown added to the model card")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="with --resume: score the committed state on the validation photos (in --data) and note it in the ledger",
    )
    parser.add_argument(
        "--ship",
        action="store_true",
        help="with --validate: replace the shipped weights if the state scores better (PSNR, L1, detail)",
    )


# what a run uses when neither the command line nor a resumed state says otherwise
DEFAULTS = {"steps": 20000, "batch_size": 8, "crop": 128, "lr": 1e-4}
# the settings a resumed run takes from its state unless given again ("prior": never given, only kept)
RECORDED = ("steps", "batch_size", "crop", "lr", "exclude_lists", "network", "options", "sample_every", "ema", "prior")


def _settings_from(args: argparse.Namespace) -> dict[str, object]:
    """The run's settings: the command line over the resumed state's recorded settings over DEFAULTS."""
    from inpaintstudio.training import state as portable

    recorded: dict[str, object] = {}
    state_dir = args.state
    if args.resume:
        state_dir = state_dir or Path(portable.STATE_ROOT) / args.family
        info = portable.read_info(state_dir)
        if info is None:
            raise InputError(f"--resume: {state_dir} holds no training state (start a run with --state {state_dir})")
        recorded = dict(info.get("settings") or {})
    given = {
        "steps": args.steps,
        "batch_size": args.batch,
        "crop": args.crop,
        "lr": args.lr,
        "exclude_lists": [str(e) for e in args.exclude] or None,
        "network": _key_values(args.net) or None,
        "options": _key_values(args.set) or None,
        "ema": args.ema,
    }
    out: dict[str, object] = {**DEFAULTS}
    for key in RECORDED:
        if key in recorded:
            out[key] = recorded[key]
    if args.resume and given["options"]:  # --set on a resumed run changes single options, keeps the rest
        given["options"] = {**dict(recorded.get("options") or {}), **given["options"]}
    out.update({k: v for k, v in given.items() if v is not None})
    if args.sample_every is not None:
        out["sample_every"] = args.sample_every
    out["state_dir"] = str(state_dir) if state_dir else None
    return out


def run(args: argparse.Namespace) -> int:
    if args.run is None:
        args.run = Path("runs") / args.family
    under_torchrun = os.environ.get("WORLD_SIZE", "1") not in ("", "0", "1")
    if under_torchrun and int(os.environ.get("RANK", "0")) and (args.validate or args.ship or args.export):
        return 0  # rank 0 does it
    if args.validate or args.ship:
        return _validate(args)
    if args.export:
        from inpaintstudio.training.export import export_run

        if not (args.run / "checkpoint.pt").is_file():
            raise InputError(f"{args.run} holds no checkpoint to export")
        notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
        spec = export_run(args.run, args.export, args.name or args.family, working_size=args.working_size, notes=notes)
        print(f"exported {spec.model}: {spec.file}, {spec.parameters:,} parameters, {spec.size / 2**20:.1f} MiB")
        return 0
    if not args.data:
        raise InputError("give at least one --data folder of photos")
    if args.nproc is not None and args.nproc < 1:
        raise InputError(f"--nproc must be 1 or more, got {args.nproc}")
    if under_torchrun:
        if args.nproc not in (None, 1):
            raise InputError("under torchrun, torchrun starts the processes: leave --nproc out")
        return _torchrun_rank(args)
    settings = _prepare(args, args.nproc or 1)
    if (args.nproc or 1) > 1:
        from inpaintstudio.training import distributed

        return distributed.launch(args.nproc, _launched_rank, args, settings)
    return _train(args, settings)


def _prepare(args: argparse.Namespace, processes: int) -> TrainSettings:
    """The run's TrainSettings, after the checks that can fail before any process or network is made."""
    from inpaintstudio.training.trainer import TrainSettings, training_files

    chosen = _settings_from(args)
    settings = TrainSettings(
        family=args.family,
        data=[str(d) for d in args.data],
        run=str(args.run),
        device=args.device,
        minutes=args.minutes,
        seed=args.seed,
        threads=args.threads,
        vgg=str(args.vgg) if args.vgg else None,
        init_from=str(args.init_from) if args.init_from else None,
        precision=args.precision,
        **chosen,
    )
    for folder in args.data:  # checked before the run folder is made and the networks are built
        if not folder.exists():
            raise InputError(f"--data {folder}: no such folder")
    files = training_files(settings)
    if not files:
        raise InputError(f"no photos to train on in {', '.join(map(str, args.data))} (after --exclude)")
    if processes > 1:
        from inpaintstudio.training import distributed

        try:
            distributed.local_batch(settings.batch_size, distributed.World(size=processes))
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if len(files) < processes:
            raise InputError(f"{len(files)} photo(s) cannot be shared among {processes} processes")
        from inpaintstudio.engine.device import resolve_device

        if resolve_device(args.device) == "cuda":
            import torch

            if torch.cuda.device_count() < processes:
                raise InputError(f"--nproc {processes} needs a GPU each; this machine has {torch.cuda.device_count()}")
    return settings


def _train(args: argparse.Namespace, settings: TrainSettings) -> int:
    """Train (one process, or one rank of several: only rank 0 shows progress and the summary)."""
    from inpaintstudio.commands.common import advance, progress_bar
    from inpaintstudio.training.recipes import recipe_class
    from inpaintstudio.training.trainer import Trainer, TrainingStopped

    try:
        trainer = Trainer(settings, recipe_class(args.family))
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    start = trainer.step
    bar = progress_bar(settings.steps, "step", initial=start) if trainer.main else None

    def show(step: int, losses: dict[str, float]) -> None:
        advance(bar, step, " ".join(f"{k} {v:.4f}" for k, v in losses.items()))

    try:
        reached = trainer.train(show if bar is not None else None)
    except TrainingStopped:
        reached = trainer.step
    finally:
        if bar is not None:
            bar.close()
    if trainer.main:
        processes = f" on {trainer.world.size} processes" if trainer.world.active else ""
        print(
            f"{args.family}: steps {start} -> {reached} of {settings.steps}{processes}, "
            f"{trainer.seconds / 3600:.2f} h trained in total",
            file=sys.stderr,
        )
    return 0


def _rank(args: argparse.Namespace, settings: TrainSettings | None) -> int:
    """One rank of a data-parallel run: join the others, take rank 0's settings (under torchrun), train."""
    from inpaintstudio.engine.device import resolve_device
    from inpaintstudio.training import distributed

    world = distributed.from_environment()
    with distributed.joined(world, resolve_device(args.device)):
        if settings is None:  # under torchrun every rank got the command line; rank 0's reading of it counts
            answer = None
            if world.main:
                try:
                    answer = {"settings": _prepare(args, world.size)}
                except InpaintStudioError as exc:
                    distributed.broadcast_from_main({"failed": str(exc)})
                    raise
            answer = distributed.broadcast_from_main(answer)
            if "failed" in answer:
                raise distributed.MainRankFailed(answer["failed"])
            settings = answer["settings"]
        return _train(args, settings)


def _quiet_on_other_ranks(exc: BaseException, rank: int) -> bool:
    """Errors that every rank meets alike (rank 0 reports them) or that rank 0 met first."""
    from inpaintstudio.training.distributed import MainRankFailed

    return rank > 0 and isinstance(exc, (MainRankFailed, TrainingDivergedError))


def _torchrun_rank(args: argparse.Namespace) -> int:
    """A rank started by torchrun: rank 0's errors go through the command line's own reporting."""
    from inpaintstudio.training.distributed import MainRankFailed, from_environment

    rank = from_environment().rank
    try:
        return _rank(args, None)
    except (InpaintStudioError, MainRankFailed) as exc:
        if rank == 0:
            raise
        if not _quiet_on_other_ranks(exc, rank):
            print(f"inpaintstudio: error (rank {rank}): {exc}", file=sys.stderr)
        return 1


def _launched_rank(args: argparse.Namespace, settings: TrainSettings) -> int:
    """A rank started by ``--nproc`` (in a process of its own): says its error in one line, as the command
    line would; a Ctrl-C or SIGTERM is said by the launching process."""
    from inpaintstudio.cli import stopped_by
    from inpaintstudio.training.distributed import MainRankFailed, from_environment

    rank = from_environment().rank
    where = f" (rank {rank})" if rank else ""
    try:
        return _rank(args, settings)
    except KeyboardInterrupt as exc:
        return stopped_by(exc)[1]
    except (InpaintStudioError, MainRankFailed) as exc:
        if not _quiet_on_other_ranks(exc, rank):
            print(f"inpaintstudio: error{where}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line, as cli.main says it
        print(f"inpaintstudio: internal error{where}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


def _validate(args: argparse.Namespace) -> int:
    """Score the committed state; with --ship, replace the shipped weights when it is better."""
    from inpaintstudio.evaluation import ship
    from inpaintstudio.training import state as portable

    if not args.resume or not args.validate:
        raise InputError("--validate needs --resume, and --ship needs --validate")
    state_dir = args.state or Path(portable.STATE_ROOT) / args.family
    if portable.read_info(state_dir) is None:
        raise InputError(f"{state_dir} holds no training state")
    photos = next((d for d in args.data if d.is_dir()), None)
    if photos is None:
        raise InputError("give the folder holding the validation photos with --data")
    try:
        scored = ship.score_state(args.family, state_dir, photos, device=args.device)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from exc
    scores = scored.scores
    job, candidate = next(iter(scores.items()))
    if len(scored.tried) > 1:
        sizes = ", ".join(f"{size} px {psnr:.2f} dB" for size, psnr in scored.tried.items())
        print(f"{args.family} state, {job}: working sizes tried ({sizes}); scored at {scored.working_size} px")
    shipped = ship.shipped_scores(args.family, job)
    verdict = ship.compare(candidate, shipped, job)
    print(
        f"{args.family} state at step {scored.state.step}, {job}: PSNR {candidate['psnr']:.2f} dB, L1 {candidate['l1']:.4f}, detail "
        f"{candidate['detail']:.2f} on {candidate['images']} validation cases; {verdict.reason}"
    )
    shipped_now = False
    if args.ship and verdict.better:
        notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
        spec = ship.ship(args.family, state_dir, scores, notes, scored.working_size, kept=scored.state)
        shipped_now = True
        print(f"shipped: models/{spec.file} ({spec.size / 2**20:.1f} MiB), card models/{spec.card}")
    rival = "shipped" if shipped is not None else "the classical fills"
    note = "shipped" if shipped_now else ("better, not shipped" if verdict.better else f"not better than {rival}")
    portable.update_last_ledger_row(
        state_dir,
        {
            "val_psnr": f"{candidate['psnr']:.2f}",
            "val_l1": f"{candidate['l1']:.4f}",
            "val_detail": f"{candidate['detail']:.2f}",
            "note": f"{job}: {note}" + (f" (at {scored.working_size} px)" if scored.working_size else ""),
        },
    )
    return 0
