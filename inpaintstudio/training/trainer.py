"""The training loop shared by the three families: data, steps, checkpoints, resume, logs, samples.

A run lives in one folder (``--run``): ``checkpoint.pt`` (networks, optimisers, step, seconds trained;
written atomically, loaded with ``weights_only=True``), ``run.json`` (settings and hardware),
``log.csv`` (losses every few steps) and ``samples/`` (input / output / truth strips). Running the same
command again resumes where the last one stopped, so training can be split into pieces that each fit a
time limit (``--minutes``), on this machine or on a rented GPU.

What differs between families (networks, losses, how a batch becomes a fill) lives in a
:class:`Recipe` in ``training/recipes/``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from inpaintstudio.atomic import atomic_write
from inpaintstudio.errors import TrainingDivergedError
from inpaintstudio.training import distributed, ema
from inpaintstudio.training import state as portable
from inpaintstudio.training.dataset import ImageFolderDataset, check_augmentation, read_split


@dataclass
class TrainSettings:
    family: str
    data: list[str]
    run: str
    steps: int = 10000
    batch_size: int = 8
    crop: int = 128
    lr: float = 1e-4
    device: str = "auto"
    exclude_lists: list[str] = field(default_factory=list)  # files naming photos to keep out (hold-outs)
    minutes: float | None = None  # stop (with a checkpoint) after this long; run again to continue
    log_every: int = 20
    sample_every: int = 500
    checkpoint_every: int = 200
    seed: int = 0
    threads: int | None = None
    network: dict[str, Any] = field(default_factory=dict)  # overrides of the family's network config
    options: dict[str, Any] = field(default_factory=dict)  # loss weights and recipe switches
    vgg: str | None = None  # a user-supplied VGG state dict for perceptual features
    workers: int | None = None  # DataLoader processes; None: none on a CPU, up to 8 on a GPU
    state_dir: str | None = None  # the portable state (training-state/FAMILY): resumed from, kept up to date
    init_from: str | None = None  # shipped weights (safetensors) that a new run's generator starts from
    ema: float = 0.0  # decay of the generator's moving average (training/ema.py); 0: none kept
    precision: str = "auto"  # "bf16" (mixed), "float32", or "auto": bf16 where the chip computes it natively
    # what init_from's weights had been trained for before this run (steps, crops, hours, weights), so the
    # shipped weights can say how many crops they have seen in all; recorded when the run starts
    prior: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PRECISIONS = ("auto", "bf16", "float32")


def mixed_precision(precision: str, device: torch.device) -> bool:
    """Whether the networks run in bfloat16 under autocast (weights, optimiser state and losses stay float32).

    "auto" chooses it on a GPU and on a CPU that computes bfloat16 natively (AVX-512 BF16 or AMX): there
    oneDNN's bfloat16 convolutions made a deepfillv2 step 1.4 times faster on the 2-core build machine
    (README, "Training"). A CPU without them would emulate bfloat16, slower than float32.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    native = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check is not None and check() for check in native)


# Augmentation every recipe takes as options (`train --set rotate=5 --set colour=0.1`): the largest turn of a
# crop in degrees, and how far brightness, contrast and saturation are scaled (ImageFolderDataset). Off
# unless set: see the README's measurement before turning them on.
AUGMENTATION: dict[str, float] = {"rotate": 0.0, "colour": 0.0}


class Recipe(ABC):
    """A family's networks, optimisers and training step."""

    family: str  # the registered inpainter it trains
    default_network: dict[str, Any]  # set by register_recipe: the inpainter's default_config
    default_options: dict[str, Any]  # each recipe's own; "scales" (of the photo a crop is cut from) in all
    uses_sketch = False  # whether the crops come with sketch strokes

    def __init__(self, settings: TrainSettings, device: torch.device) -> None:
        self.settings = settings
        self.device = device
        self.network_config = {**self.default_network, **settings.network}
        self.options = {**AUGMENTATION, **self.default_options, **settings.options}
        check_augmentation(float(self.options["rotate"]), float(self.options["colour"]))  # before any step
        self.amp = mixed_precision(settings.precision, device)

    # networks and optimisers to checkpoint, by name; "generator" is what gets exported
    @abstractmethod
    def modules(self) -> dict[str, nn.Module]: ...

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    def dataset(self, files: list[Path]) -> torch.utils.data.Dataset:
        """Random crops of the training photos, augmented as the options say."""
        return ImageFolderDataset(
            files,
            self.settings.crop,
            scales=tuple(self.options["scales"]),
            with_sketch=self.uses_sketch,
            seed=self.settings.seed,
            rotate=float(self.options["rotate"]),
            colour=float(self.options["colour"]),
        )

    @abstractmethod
    def step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One optimisation step (discriminators and generator); returns the losses for the log."""

    @abstractmethod
    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Rows of images in [-1, 1] (B x 3 x H x W each) to show side by side: input, output, truth."""

    @property
    def generator(self) -> nn.Module:
        return self.modules()["generator"]

    def autocast(self):  # noqa: ANN201 - a context manager
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp)


class TrainingStopped(Exception):  # noqa: N818 - a stop request, not an error
    """SIGTERM arrived: stop after writing the checkpoint (the finally clause of Trainer.train)."""


def _stop_on_sigterm() -> None:
    """Turn SIGTERM (a job scheduler's or `kill`'s stop) into a clean stop with a checkpoint.

    Background processes often ignore SIGINT, so SIGTERM is the reliable way to stop a run without
    losing the steps since the last checkpoint.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: object) -> None:
        raise TrainingStopped(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def _fmt_losses(losses: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in losses.items())


def _hardware(device: torch.device, world: distributed.World = distributed.SINGLE, *, bf16: bool = False) -> str:
    label = portable.hardware_label(device) + (", bf16" if bf16 else "")
    return f"{world.size} processes, each {label}" if world.active else label


def training_files(settings: TrainSettings) -> list[Path]:
    from inpaintstudio.training.dataset import list_image_files

    excluded: set[str] = set()
    for listing in settings.exclude_lists:
        excluded.update(name.casefold() for name in read_split(listing))
    return [p for p in list_image_files([Path(d) for d in settings.data]) if p.name.casefold() not in excluded]


def _to_uint8(row: torch.Tensor) -> np.ndarray:
    x = ((row.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().cpu()
    return x.permute(0, 2, 3, 1).numpy()


def save_samples(rows: list[torch.Tensor], path: Path, limit: int = 4) -> None:
    """A grid: one photo per line, the rows (input, output, truth...) side by side."""
    images = [_to_uint8(r[:limit]) for r in rows]
    lines = [np.concatenate([img[i] for img in images], axis=1) for i in range(images[0].shape[0])]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(lines, axis=0)).save(path)


class Trainer:
    """Trains one run. In a process group of several ranks (training/distributed.py: ``train --nproc N``
    or torchrun), each rank trains on its shard of the photos with batch / N crops per step, starts from
    rank 0's state and averages its gradients with the others before every optimiser step; only rank 0
    (``main``) writes anything."""

    def __init__(
        self,
        settings: TrainSettings,
        recipe_factory: Callable[[TrainSettings, torch.device], Recipe],
        world: distributed.World | None = None,
    ) -> None:
        self.settings = settings
        self.world = world or distributed.current()
        self.main = self.world.main
        self.run_dir = Path(settings.run)
        if self.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        from inpaintstudio.engine.device import resolve_device

        self.device = distributed.device_for(self.world, torch.device(resolve_device(settings.device)))
        if settings.threads:
            torch.set_num_threads(settings.threads)
        elif self.world.active and self.device.type == "cpu":  # the ranks on this machine share its cores
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.world.local_size))
        self.local_batch = distributed.local_batch(settings.batch_size, self.world)
        torch.manual_seed(settings.seed)
        self.recipe = recipe_factory(settings, self.device)
        self.step = 0
        self.seconds = 0.0
        self.samples_seen = 0
        self._stop_signal: int | None = None  # a rank's Ctrl-C or SIGTERM, acted on when the ranks agree
        self._resumed_average: dict[str, torch.Tensor] | None = None
        if self.world.active:
            self._start_from_main()
            distributed.average_before_each_step(self.recipe.optimizers().values(), self.world)
        else:
            self._resume()
        # the generator's moving average, kept by the rank that writes (every rank's weights are the same)
        self.average = (
            ema.WeightAverage(self.recipe.generator, settings.ema, self._resumed_average)
            if settings.ema and self.main
            else None
        )
        # this piece of training, for its line in the ledger
        self._segment = {
            "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "step_from": self.step,
            "seconds_from": self.seconds,
        }

    # -- checkpoints --------------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "checkpoint.pt"

    def _resume(self) -> None:
        """Continue from the newest of: this folder's checkpoint, the portable state; else start fresh.

        The portable state wins when it is further along (training continued on another machine and
        was committed); a new run with ``init_from`` starts its generator from shipped weights.
        """
        state: dict | None = None
        if self.checkpoint_path.is_file():
            state = torch.load(self.checkpoint_path, map_location=self.device, weights_only=True)
        state_dir = Path(self.settings.state_dir) if self.settings.state_dir else None
        info = portable.read_info(state_dir) if state_dir else None
        if info is not None and (state is None or int(info["step"]) > int(state["step"])):
            kept = portable.read(state_dir)
            state = {
                "family": info["family"],
                "network": info["network"],
                "step": info["step"],
                "seconds": info["seconds"],
                "samples_seen": info["samples_seen"],
                "modules": kept.modules,
                "optimizers": kept.optimizers,
            }
        if state is None:
            if self.settings.init_from:
                self._init_generator(Path(self.settings.init_from))
            return
        if state["family"] != self.settings.family:
            raise ValueError(f"{self.run_dir} holds a '{state['family']}' run, not '{self.settings.family}'")
        if state["network"] != self.recipe.network_config:
            raise ValueError(f"{self.run_dir} was trained with network {state['network']}; start a new run folder")
        fresh: set[str] = set()
        for name, module in self.recipe.modules().items():
            try:
                module.load_state_dict(state["modules"][name])
            except (RuntimeError, KeyError) as exc:
                # A discriminator sized by the crop (SRN's global critic) cannot follow a change of crop;
                # it starts afresh (the generator, the point of the run, must always load).
                if name == "generator":
                    raise
                warnings.warn(f"{name} restarts from scratch: {str(exc).splitlines()[-1].strip()}", stacklevel=2)
                fresh.add(name)
        optimizers = state.get("optimizers")
        for name, opt in self.recipe.optimizers().items():
            if optimizers is None or name not in optimizers or (fresh and name != "generator"):
                continue  # not kept in the portable state, or its parameters include a restarted module's
            opt.load_state_dict(optimizers[name])
        for opt in self.recipe.optimizers().values():
            for group in opt.param_groups:  # the command's --lr applies to a resumed run too
                group["lr"] = self.settings.lr
        self.step, self.seconds = int(state["step"]), float(state["seconds"])
        self.samples_seen = int(state.get("samples_seen", 0))
        self._resumed_average = state["modules"].get(ema.KEY)

    def _start_from_main(self) -> None:
        """Rank 0 resumes the run; every rank takes its networks, optimiser moments and counters, so all
        start from identical weights, also on a machine that has no run folder."""
        payload: dict[str, Any] | None = None
        if self.main:
            try:
                self._resume()
            except Exception as exc:
                distributed.broadcast_from_main({"failed": f"{type(exc).__name__}: {exc}"})
                raise
            payload = distributed.to_cpu(
                {
                    "step": self.step,
                    "seconds": self.seconds,
                    "samples_seen": self.samples_seen,
                    "modules": {n: m.state_dict() for n, m in self.recipe.modules().items()},
                    "optimizers": {n: o.state_dict() for n, o in self.recipe.optimizers().items()},
                }
            )
        payload = distributed.broadcast_from_main(payload)
        if "failed" in payload:
            raise distributed.MainRankFailed(f"rank 0 could not start: {payload['failed']}")
        if self.main:
            return
        for name, module in self.recipe.modules().items():
            module.load_state_dict(payload["modules"][name])
        for name, opt in self.recipe.optimizers().items():
            opt.load_state_dict(payload["optimizers"][name])
        self.step, self.seconds, self.samples_seen = payload["step"], payload["seconds"], payload["samples_seen"]

    def _init_generator(self, path: Path) -> None:
        from inpaintstudio.engine.weights import load_tensors
        from inpaintstudio.training.provenance import prior_training

        tensors = load_tensors(path, floating_only=True)
        self.recipe.generator.load_state_dict({k: v.float() for k, v in tensors.items()})
        if not self.settings.prior:
            self.settings.prior = prior_training(path)

    def save_checkpoint(self, final: bool = True) -> None:
        state = {
            "family": self.settings.family,
            "network": self.recipe.network_config,
            "options": self.recipe.options,
            "step": self.step,
            "seconds": self.seconds,
            "samples_seen": self.samples_seen,
            "modules": {n: m.state_dict() for n, m in self.recipe.modules().items()},
            "optimizers": {n: o.state_dict() for n, o in self.recipe.optimizers().items()},
        }
        if self.average is not None:
            state["modules"][ema.KEY] = self.average.state_dict()
        with atomic_write(self.checkpoint_path) as fh:
            torch.save(state, fh)
        info = {
            "settings": self.settings.to_json(),
            "network": self.recipe.network_config,
            "options": self.recipe.options,
            "step": self.step,
            "seconds": round(self.seconds, 1),
            "samples_seen": self.samples_seen,
            "hardware": _hardware(self.device, self.world, bf16=self.recipe.amp),
            "torch": torch.__version__,
        }
        with atomic_write(self.run_dir / "run.json", "w") as fh:
            json.dump(info, fh, indent=2)
        if self.settings.state_dir:
            self._write_portable(state, info, final)

    def _write_portable(self, state: dict[str, Any], info: dict[str, Any], final: bool) -> None:
        """Keep the committed state and this piece's ledger line as fresh as the checkpoint (the
        optimiser's moments, twice the networks' size, only when the piece of training ends)."""
        folder = Path(self.settings.state_dir)
        portable.write(folder, state, info, with_optimizer=final)
        segment = self._segment
        row = {
            "date": segment["date"],
            "hardware": info["hardware"],
            "step_from": segment["step_from"],
            "step_to": self.step,
            "crops_seen": self.samples_seen,
            "crop": self.settings.crop,
            "batch": self.settings.batch_size,
            "lr": self.settings.lr,
            "hours": round((self.seconds - segment["seconds_from"]) / 3600, 3),
            "total_hours": round(self.seconds / 3600, 3),
        }
        portable.record_piece(folder, row)

    # -- the loop ----------------------------------------------------------------------------------
    def _batches(self, files: list[Path]) -> Iterator[dict[str, torch.Tensor]]:
        dataset = self.recipe.dataset(files)
        if self.world.rank and hasattr(dataset, "seed"):  # other crops, masks and sketches than rank 0's
            dataset.seed = self.settings.seed + 1_000_003 * self.world.rank
        workers = self.settings.workers
        if workers is None:
            workers = 0 if self.device.type == "cpu" else min(8, os.cpu_count() or 1)
        if workers > 0:
            # Worker processes are started once per epoch: with a few hundred photos and large batches
            # an epoch would be a handful of steps, so it is lengthened (items cycle through the photos
            # with fresh crops and masks), and the decoded photos are shared with the forked workers.
            if hasattr(dataset, "epoch_length") and dataset.epoch_length is None:
                dataset.epoch_length = max(len(dataset), 200 * self.local_batch)
            if hasattr(dataset, "preload"):
                dataset.preload()
        if len(dataset) < self.local_batch and hasattr(dataset, "epoch_length"):
            # fewer photos than a batch: without this, drop_last would leave every epoch empty
            dataset.epoch_length = self.local_batch
        epoch = self.samples_seen // self.world.size // max(1, len(dataset))  # this rank's crops so far
        while True:
            if hasattr(dataset, "set_epoch"):
                dataset.set_epoch(epoch)
            generator = torch.Generator().manual_seed(self.settings.seed * 100003 + epoch)
            loader = torch.utils.data.DataLoader(
                dataset,
                batch_size=self.local_batch,
                shuffle=True,
                drop_last=True,
                num_workers=workers,
                generator=generator,
                pin_memory=self.device.type == "cuda",
            )
            for batch in loader:
                yield {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            epoch += 1

    def train(self, progress: Callable[[int, dict[str, float]], None] | None = None) -> int:
        """Train until ``steps`` or the time budget; returns the step reached (checkpoint written)."""
        settings = self.settings
        files = training_files(settings)
        if self.world.active:  # rank 0's list, so the shards are disjoint whatever each machine lists
            files = distributed.shard(distributed.broadcast_from_main(files), self.world)
        if not files:
            raise ValueError("no training images left after the exclusions")
        for module in self.recipe.modules().values():
            module.train()
        deadline = time.monotonic() + settings.minutes * 60 if settings.minutes else math.inf
        if self.world.active:
            self._stop_on_signals()
        else:
            _stop_on_sigterm()
        log_path = self.run_dir / "log.csv"
        batches = self._batches(files)
        started = time.monotonic()
        last_save = self.step
        diverged = False
        stop = False  # ranks: all agreed to stop (time budget, a signal to any of them)
        try:
            while self.step < settings.steps and not stop and (self.world.active or time.monotonic() < deadline):
                batch = next(batches)
                losses = self.recipe.step(batch, self.step)
                self.step += 1
                self.samples_seen += settings.batch_size
                if self.world.active:
                    wants_stop = self._stop_signal is not None or time.monotonic() >= deadline
                    losses, stop = distributed.agree(losses, wants_stop, self.world)
                if not all(math.isfinite(v) for v in losses.values()):
                    # The optimiser has already stepped on the non-finite gradients, so the weights in
                    # memory are poisoned: saving them would overwrite the last good checkpoint.
                    diverged = True
                    raise TrainingDivergedError(
                        f"the loss became non-finite at step {self.step} ({_fmt_losses(losses)}); the "
                        f"checkpoint of step {last_save} in {self.run_dir} is kept: run again to resume "
                        "from it, with a lower --lr if it happens again"
                    )
                if self.average is not None:  # after the check: poisoned weights never reach the average
                    self.average.update(self.recipe.generator)
                if self.main and self.step % settings.log_every == 0:
                    self._log(log_path, losses, started)
                if progress is not None:
                    progress(self.step, losses)
                if self.main and self.step % settings.sample_every == 0:
                    self.write_samples(batch)
                if self.step - last_save >= settings.checkpoint_every:
                    self._account(started)
                    started = time.monotonic()
                    if self.main:
                        self.save_checkpoint(final=False)
                    last_save = self.step
        finally:
            if not diverged:
                self._account(started)
                if self.main:
                    self.save_checkpoint()
        if self._stop_signal is not None:  # as a single process stops (after its checkpoint)
            raise KeyboardInterrupt if self._stop_signal == signal.SIGINT else TrainingStopped("signal")
        return self.step

    def _stop_on_signals(self) -> None:
        """Ctrl-C and SIGTERM ask the ranks to stop after the step they are in, all at the same step
        (a rank that left in the middle of a step would leave the others waiting for its gradients)."""
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: object) -> None:
            self._stop_signal = signum

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _account(self, started: float) -> None:
        self.seconds += time.monotonic() - started

    def _log(self, path: Path, losses: dict[str, float], started: float) -> None:
        new = not path.exists()
        with open(path, "a", encoding="utf-8") as fh:
            if new:
                fh.write("step,seconds," + ",".join(losses) + "\n")
            elapsed = self.seconds + time.monotonic() - started
            fh.write(f"{self.step},{elapsed:.1f}," + ",".join(f"{v:.5f}" for v in losses.values()) + "\n")

    def write_samples(self, batch: dict[str, torch.Tensor]) -> None:
        for module in self.recipe.modules().values():
            module.eval()
        with torch.no_grad(), self.recipe.autocast():
            rows = self.recipe.sample(batch)
        for module in self.recipe.modules().values():
            module.train()
        save_samples(rows, self.run_dir / "samples" / f"step_{self.step:07d}.png")
