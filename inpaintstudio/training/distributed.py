"""Data-parallel training on several processes with torch.distributed (``train --nproc N``, ``torchrun``).

Every process (rank) holds the whole model and trains on its own shard of the photos; the gradients of
each optimiser step are averaged over the ranks before the step, so the ranks take the same step and
their weights stay identical. The averaging is done here with ``all_reduce`` (one flat buffer per
optimiser step, in an optimiser step pre-hook) rather than by wrapping the networks in
DistributedDataParallel: the recipes run their critics both with and without gradients in one step and
read features through taps into the critics' layers, which DDP's per-forward bookkeeping does not
follow; averaging at the optimiser is the same arithmetic for every recipe as written, without DDP's
overlap of communication with the backward pass.

- ``--batch`` stays the run's batch (crops per step): each of N ranks takes batch / N of it, so the
  average of the ranks' gradients is the gradient of the whole batch, and a resumed run may change N.
- Rank 0 resumes the run (checkpoint or portable state) and sends networks, optimiser moments and
  counters to the others, so all ranks start from rank 0's weights, even on machines without the run
  folder; only rank 0 writes checkpoints, the portable state, the ledger, logs and samples.
- The ranks agree after every step (one small ``all_reduce``) on the losses (the mean over the ranks,
  so a NaN anywhere stops every rank) and on whether to stop (time budget, Ctrl-C, SIGTERM), so they
  always stop at the same step.

:func:`launch` starts N ranks on this machine (gloo on the CPU, NCCL on GPUs) with the environment
``torchrun`` would give them (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT);
under ``torchrun`` those variables come from torchrun and :func:`from_environment` reads them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")

ENV_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
STOP_GRACE_SECONDS = 120  # after one rank failed, how long the others get to stop before they are killed


@dataclass(frozen=True)
class World:
    """This process's place among the ranks of a run (a single process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the one that writes."""
        return self.rank == 0


SINGLE = World()


class MainRankFailed(Exception):  # noqa: N818 - rank 0 reports the error itself
    """Rank 0 could not start the run (its own error says why); the other ranks stop quietly."""


def from_environment(environ: dict[str, str] | None = None) -> World:
    """The world torchrun (or :func:`launch`) describes in the environment; a single process otherwise."""
    env = os.environ if environ is None else environ
    try:
        size = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local_rank = int(env.get("LOCAL_RANK", str(rank)))
        local_size = int(env.get("LOCAL_WORLD_SIZE", str(size)))
    except ValueError as exc:
        raise ValueError(f"the rendezvous variables are not numbers ({exc})") from None
    if size <= 1:
        return SINGLE
    if not 0 <= rank < size:
        raise ValueError(f"RANK {rank} is outside WORLD_SIZE {size}")
    return World(rank, size, local_rank, local_size)


def current() -> World:
    """The world of the process group this process has joined, else a single process."""
    if dist.is_available() and dist.is_initialized():
        return from_environment()
    return SINGLE


def device_for(world: World, device: torch.device) -> torch.device:
    """A rank's device: its own GPU (LOCAL_RANK) when training on CUDA."""
    if world.active and device.type == "cuda":
        if world.local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"rank {world.rank} wants GPU {world.local_rank}, but this machine has {torch.cuda.device_count()}"
            )
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    return device


@contextlib.contextmanager
def joined(world: World, device_type: str) -> Iterator[None]:
    """Join the run's process group (NCCL on GPUs, gloo on the CPU) for the duration; nothing when single."""
    if not world.active:
        yield
        return
    backend = "nccl" if device_type == "cuda" else "gloo"
    if device_type == "cuda":
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group(backend, init_method="env://", rank=world.rank, world_size=world.size)
    try:
        yield
    finally:
        dist.destroy_process_group()


def shard(items: Sequence[T], world: World) -> list[T]:
    """This rank's share of ``items`` (every size-th, from its rank): disjoint, together all of them."""
    return list(items[world.rank :: world.size])


def local_batch(batch: int, world: World) -> int:
    if batch % world.size:
        raise ValueError(
            f"the batch of {batch} crops does not divide among {world.size} processes; give --batch a multiple "
            f"of {world.size}"
        )
    return batch // world.size


def _comm_device() -> torch.device:
    """Where the small messages between ranks live: the rank's GPU under NCCL, else the CPU."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def broadcast_from_main(payload: Any) -> Any:
    """Rank 0's ``payload`` (any picklable object; send tensors as CPU tensors) on every rank."""
    box = [payload]
    dist.broadcast_object_list(box, src=0, device=_comm_device())
    return box[0]


def to_cpu(value: Any) -> Any:
    """State dicts with every tensor on the CPU (what :func:`broadcast_from_main` sends)."""
    if torch.is_tensor(value):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(v) for v in value)
    return value


def average_gradients(parameters: Iterable[torch.Tensor], world: World) -> None:
    """Replace each gradient by its mean over the ranks: one all_reduce per dtype and device, flattened."""
    groups: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
    for p in parameters:
        if p.grad is not None:
            groups.setdefault((p.grad.dtype, p.grad.device), []).append(p.grad)
    for grads in groups.values():
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= world.size
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()


def average_before_each_step(optimizers: Iterable[torch.optim.Optimizer], world: World) -> None:
    """Every step of these optimisers first averages their parameters' gradients over the ranks."""
    for optimizer in optimizers:

        def hook(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            average_gradients((p for group in opt.param_groups for p in group["params"]), world)

        optimizer.register_step_pre_hook(hook)


def agree(losses: dict[str, float], stop: bool, world: World) -> tuple[dict[str, float], bool]:
    """The losses averaged over the ranks, and whether any rank wants to stop."""
    values = torch.tensor([*losses.values(), float(stop)], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(values)
    means = (values[:-1] / world.size).tolist()
    return dict(zip(losses, means, strict=True)), bool(values[-1].item() > 0)


# -- starting N ranks on this machine ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rank_process(environment: dict[str, str], target: Callable[..., int], args: tuple) -> None:
    os.environ.update(environment)
    sys.exit(int(target(*args) or 0))


def launch(nproc: int, target: Callable[..., int], *args: Any) -> int:
    """Run ``target(*args)`` in ``nproc`` new processes of this machine, each with the rendezvous variables
    torchrun would set, and return the run's exit status (the first rank's that failed, else 0).

    Ctrl-C and SIGTERM are passed on to the ranks, which agree to stop at the same step (rank 0 writes the
    checkpoint); then the KeyboardInterrupt (or Terminated) is raised here as in a single process. When a
    rank fails, the others are asked to stop, and killed if they have not within STOP_GRACE_SECONDS."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch threads or locks
    port = str(free_port())
    processes = []
    for rank in range(nproc):
        environment = {
            "RANK": str(rank),
            "WORLD_SIZE": str(nproc),
            "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": str(nproc),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": port,
        }
        process = context.Process(target=_rank_process, args=(environment, target, args), name=f"rank {rank}")
        process.start()
        processes.append(process)
    stopping: float | None = None  # when the ranks were asked to stop
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            codes = [p.exitcode for p in processes]
            if all(code is not None for code in codes):
                break
            if stopping is None and any(code not in (None, 0) for code in codes):
                stopping = time.monotonic()
                _signal(processes, signal.SIGTERM)
            if stopping is not None and time.monotonic() - stopping > STOP_GRACE_SECONDS:
                _signal(processes, signal.SIGKILL)
            processes[0].join(0.2)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM raised as Terminated (cli.py)
            if interrupted is not None:  # asked twice: stop now
                _signal(processes, signal.SIGKILL)
            interrupted = exc
            stopping = stopping or time.monotonic()
            _signal(processes, signal.SIGTERM if _is_terminated(exc) else signal.SIGINT)
    if interrupted is not None and not _is_terminated(interrupted):
        raise interrupted
    failed = [code for code in codes if code]
    return (failed[0] if failed[0] > 0 else 1) if failed else 0


def _is_terminated(exc: KeyboardInterrupt) -> bool:
    from inpaintstudio.errors import Terminated

    return isinstance(exc, Terminated)


def _signal(processes: list[multiprocessing.process.BaseProcess], signum: int) -> None:
    for process in processes:
        if process.exitcode is None and process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signum)
