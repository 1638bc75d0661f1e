"""``batch --ray`` and ``eval --ray``: the same work as the local commands, as a Ray job.

The driver (the ``inpaintstudio`` process) lists the photos, checks what it can before any work, and
streams the photos to a pool of model-holding actors, one per worker: it reads a photo's bytes (and its
mask's and exclusion's) only when a worker has a free slot, so at most two photos per worker are in flight,
never the whole folder. A worker writes them to a temporary folder of its own, runs exactly the code of
the local command (``commands.common.fill_file``, ``evaluation.benchmark.evaluate``) and sends back the
output file's bytes (or the scores). Only the driver writes into ``--out``, each file atomically, so the
workers need no shared file system, the outputs are the local command's byte for byte for a deterministic
model, and Ctrl-C (or SIGTERM) leaves no partial file: the job is cancelled, the finished files stay.

A file that fails is reported (``NAME: skipped: REASON``) and the rest go on; the exit status is 1 when
anything was skipped. What would fail for every photo (a model or device a worker cannot run) fails once,
before any work.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import signal
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray

from inpaintstudio.cluster import DEFAULT_WORKERS, LOCAL
from inpaintstudio.commands import common
from inpaintstudio.engine import registry
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.pipeline import ModelCache
from inpaintstudio.errors import InpaintStudioError, InputError, Terminated

if TYPE_CHECKING:
    from tqdm import tqdm

    from inpaintstudio.engine.inpainter import Inpainter
    from inpaintstudio.evaluation.benchmark import Row

SLOTS_PER_WORKER = 2  # one photo being filled, one waiting beside it so the worker never idles on a transfer
WAIT_SECONDS = 0.5  # the driver wakes up this often, so Ctrl-C and SIGTERM are answered at once


# -- the cluster ---------------------------------------------------------------------------------------


@dataclass
class Pool:
    """The Ray connection and its actors; :func:`connect` makes one, :func:`close` ends it."""

    actors: list[Any]
    gpus_per_worker: float
    address: str
    terminated: bool = False  # SIGTERM arrived (Ray turns the exception it raises into a KeyboardInterrupt)

    def describe(self) -> str:
        where = {LOCAL: "a Ray instance on this machine", "auto": "the Ray cluster this machine is part of"}.get(
            self.address, f"the Ray cluster at {self.address}"
        )
        gpus = f", {self.gpus_per_worker:g} GPU each" if self.gpus_per_worker else ""
        return f"ray: {len(self.actors)} worker(s) on {where}{gpus}"


def _start_ray(address: str, workers: int | None) -> None:
    """Start a local Ray instance (``workers`` CPUs) or join a cluster."""
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address == LOCAL:
            ray.init(num_cpus=workers or DEFAULT_WORKERS, include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"--ray {address}: cannot connect to a Ray cluster ({_first_line(exc)})") from None


@contextlib.contextmanager
def _sigterm_stops(pool: Pool) -> Iterator[None]:
    """SIGTERM stops the command cleanly (as cli.py makes it do without Ray), not at once (as ray.init
    makes it), and is told apart from Ctrl-C although Ray re-raises it as a KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        pool.terminated = True
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with _told_apart(pool):
            yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _told_apart(pool: Pool) -> Iterator[None]:
    """A KeyboardInterrupt that Ray raised for SIGTERM is raised as the Terminated it was."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if pool.terminated and not isinstance(exc, Terminated):
            raise Terminated() from None
        raise


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _placement(address: str, workers: int | None, gpus_per_worker: float | None, wants_gpu: bool) -> tuple[int, float]:
    """How many workers, with how many GPUs each, fit the cluster's resources."""
    resources = ray.cluster_resources()
    cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
    if gpus_per_worker is None:
        gpus_per_worker = 1.0 if wants_gpu and gpus >= 1 else 0.0
    if gpus_per_worker > gpus:
        raise InputError(f"--gpus-per-worker {gpus_per_worker:g}: the Ray cluster has {gpus:g} GPU(s)")
    room = int(cpus)
    if gpus_per_worker > 0:
        room = min(room, math.floor(gpus / gpus_per_worker + 1e-9))
    if room < 1:
        raise InputError(f"the Ray cluster has no room for a worker ({cpus:g} CPUs, {gpus:g} GPUs)")
    wanted = workers or (DEFAULT_WORKERS if address == LOCAL else room)
    return min(wanted, room), gpus_per_worker


@contextlib.contextmanager
def connect(
    args: argparse.Namespace, worker_args: tuple, *, wants_gpu: bool, kind: type | None = None
) -> Iterator[Pool]:
    """Ray started or joined, one actor per worker, each checked to be able to run the model(s)."""
    pool = Pool([], 0.0, args.ray)
    try:
        _start_ray(args.ray, args.ray_workers)
        with _sigterm_stops(pool):  # after ray.init, which replaces the handler (at the C level too)
            count, pool.gpus_per_worker = _placement(args.ray, args.ray_workers, args.gpus_per_worker, wants_gpu)
            actor_class = ray.remote(kind or FillWorker).options(
                num_cpus=1, num_gpus=pool.gpus_per_worker, max_restarts=0
            )
            pool.actors = [actor_class.remote(*worker_args) for _ in range(count)]
            if args.ray_workers and count < args.ray_workers:
                common.say(f"note: the Ray cluster has room for {count} of the {args.ray_workers} workers asked for")
            problems = ray.get([actor.problem.remote() for actor in pool.actors])
            problem = next((p for p in problems if p), None)
            if problem:  # e.g. --device cuda where the workers have no GPU: once, before any work
                raise InputError(problem)
            common.say(pool.describe())
            yield pool
    finally:
        ray.shutdown()  # ends the actors and, without an address, the Ray instance started here


def _stream(
    pool: Pool,
    jobs: Iterable[Any],
    submit: Callable[[Any, Any], ray.ObjectRef],
    finished: Callable[[Any, Any], None],
) -> None:
    """Give each worker at most SLOTS_PER_WORKER jobs at a time, in order; ``finished(job, result)`` as
    each one ends, in the order they end. A job is made (its files read) only when a slot is free."""
    free = deque(actor for actor in pool.actors for _ in range(SLOTS_PER_WORKER))
    pending: dict[ray.ObjectRef, tuple[Any, Any]] = {}
    remaining = iter(jobs)
    exhausted = False
    with _told_apart(pool):
        while True:
            while free and not exhausted:
                job = next(remaining, None)
                if job is None:
                    exhausted = True
                    break
                actor = free.popleft()
                pending[submit(actor, job)] = (actor, job)
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_SECONDS)
            for ref in ready:
                actor, job = pending.pop(ref)
                free.append(actor)
                finished(job, _result(ref))


def _result(ref: ray.ObjectRef) -> Any:
    """The worker's answer; a bug in a worker is raised here as itself (the command reports it as the local
    run would); a lost worker becomes the file's error."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise
    except ray.exceptions.RayActorError as exc:
        return {"error": f"the Ray worker was lost ({_first_line(exc)})"}


class _InOrder:
    """Says what there is to say about each photo in the photos' order, as the local command does: each
    photo's lines as soon as every photo before it has been said (the work itself ends in any order)."""

    def __init__(self) -> None:
        self.next = 0
        self.waiting: dict[int, Callable[[], None]] = {}

    def report(self, index: int, say: Callable[[], None]) -> None:
        self.waiting[index] = say
        while self.next in self.waiting:
            self.waiting.pop(self.next)()
            self.next += 1


# -- the workers ---------------------------------------------------------------------------------------


class _EveryModel(ModelCache):
    """Keeps each model it loaded: ``eval`` runs several models on every photo."""

    def __init__(self) -> None:
        super().__init__()
        self._loaded: dict[tuple[str, str], Inpainter] = {}

    def get(self, cls: type[Inpainter], device: str, ctx: JobContext) -> Inpainter:
        with self._lock:
            key = (cls.name, device)
            if key not in self._loaded:
                instance = cls(device=device if cls.learned else "cpu")
                instance.load(ctx)
                self._loaded[key] = instance
            return self._loaded[key]


def _write_inputs(folder: Path, files: dict[str, tuple[str, bytes] | None]) -> dict[str, Path | None]:
    """The job's files, by role, written under ``folder/ROLE/NAME``: the names stay those of the photos."""
    paths: dict[str, Path | None] = {}
    for role, entry in files.items():
        if entry is None:
            paths[role] = None
            continue
        name, data = entry
        (folder / role).mkdir(exist_ok=True)
        paths[role] = folder / role / name
        paths[role].write_bytes(data)
    return paths


def _as_seen_by_the_user(text: str, folder: Path, origins: dict[str, str]) -> str:
    """A message about the worker's copies, naming the user's files instead."""
    for role, origin in origins.items():
        text = text.replace(str(folder / role), origin)
    return text


class FillWorker:
    """A Ray actor that holds the model and fills one photo per call, like ``batch`` does locally."""

    def __init__(self, model: str, device: str) -> None:
        self.model, self.device = model, device
        self.cache = ModelCache()
        self._problem: str | None = None
        try:
            self._check()
        except InpaintStudioError as exc:
            self._problem = str(exc)

    def _check(self) -> None:
        from inpaintstudio.engine.device import resolve_device

        common.check_can_run(self.model, self.device)
        cls = registry.get(self.model)  # loaded now, not with the first photo
        self.cache.get(cls, resolve_device(self.device) if cls.learned else "cpu", JobContext())

    def problem(self) -> str | None:
        return self._problem

    def fill(self, job: dict[str, Any]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="inpaintstudio-ray-") as tmp:
            folder = Path(tmp)
            paths = _write_inputs(folder, job["files"])
            (folder / "out").mkdir()
            out = folder / "out" / job["out"]
            try:
                outcome = common.fill_file(
                    paths["image"],
                    out,
                    mask=paths["mask"],
                    exclude=paths["exclude"],
                    model=self.model,
                    device=self.device,
                    cache=self.cache,
                    **job["options"],
                )
            except InpaintStudioError as exc:
                return {"error": _as_seen_by_the_user(str(exc), folder, job["origins"])}
            notices = [_as_seen_by_the_user(n, folder, job["origins"]) for n in outcome.notices]
            return {"data": out.read_bytes(), "notices": notices}


class EvalWorker(FillWorker):
    """A Ray actor that holds every model of an ``eval`` and scores one photo per call."""

    def __init__(self, models: list[str], device: str, sizes: dict[str, int], options: dict[str, Any]) -> None:
        self.models, self.options, self.sizes = models, options, sizes
        super().__init__(models[0], device)
        self.cache = _EveryModel()

    def _check(self) -> None:
        from inpaintstudio.evaluation.benchmark import split_variant

        for entry in self.models:
            common.check_can_run(split_variant(entry)[0], self.device)

    def evaluate(self, job: dict[str, Any]) -> dict[str, Any]:
        from inpaintstudio.evaluation import benchmark

        with tempfile.TemporaryDirectory(prefix="inpaintstudio-ray-") as tmp:
            folder = Path(tmp)
            _write_inputs(folder, job["files"])
            masks = folder / "masks"
            masks.mkdir(exist_ok=True)
            try:
                cases = benchmark.load_cases(folder / "images", masks, extend_fraction=self.options["extend_fraction"])
            except (ValueError, InpaintStudioError) as exc:
                return {"error": _as_seen_by_the_user(str(exc), folder, job["origins"])}
            rows = benchmark.evaluate(
                cases,
                self.models,
                sketch=self.options["sketch"],
                device=self.device,
                cache=self.cache,
                sizes=self.sizes,
            )
            return {"rows": rows}


# -- batch ---------------------------------------------------------------------------------------------


def _read(path: Path | None) -> tuple[str, bytes] | None:
    return None if path is None else (path.name, path.read_bytes())


@contextlib.contextmanager
def fill_pool(args: argparse.Namespace, model: str) -> Iterator[Callable[..., list[tuple[Path, str]]]]:
    """``batch``'s fill-everything function, run on Ray; see :func:`inpaintstudio.commands.batch.run`."""
    wants_gpu = registry.get(model).learned and args.device != "cpu"
    with connect(args, (model, args.device), wants_gpu=wants_gpu) as pool:
        yield lambda *rest: _fill_all(pool, *rest)


def _fill_all(
    pool: Pool,
    args: argparse.Namespace,
    images: list[Path],
    masks: dict[str, list[Path]],
    excludes: dict[str, list[Path]],
    model: str,
    bar: tqdm,
    done: list[Path],
) -> list[tuple[Path, str]]:
    from inpaintstudio.atomic import atomic_write_bytes
    from inpaintstudio.commands.batch import _by_stem, mask_for, output_for

    failures: list[tuple[Path, str]] = []
    said: set[str] = set()
    in_order = _InOrder()
    options = {
        "strategy": args.strategy,
        "max_pixels": common.pixel_limit(args),
        "quality": args.quality,
        "overwrite": args.overwrite,
    }

    def skip(index: int, image: Path, reason: str) -> None:
        bar.update(1)

        def say() -> None:
            common.say(f"{image.name}: skipped: {reason}")
            failures.append((image, reason))

        in_order.report(index, say)

    def jobs() -> Iterator[dict[str, Any]]:
        for index, image in enumerate(images):
            out = output_for(image, args.out, args.format)
            try:
                mask, exclude = mask_for(image, masks), _by_stem(image, excludes)
                common.check_output_path(out, (image, mask, exclude), overwrite=args.overwrite)
                files = {"image": _read(image), "mask": _read(mask), "exclude": _read(exclude)}
            except InpaintStudioError as exc:
                skip(index, image, str(exc))
                continue
            except OSError as exc:  # the worker would have said the same of the file it could not read
                skip(index, image, f"cannot read {exc.filename}: {exc.strerror}")
                continue
            origins = {"image": str(image.parent), "mask": str(mask.parent), "out": str(args.out)}
            if exclude is not None:
                origins["exclude"] = str(exclude.parent)
            task = {"files": files, "out": out.name, "origins": origins, "options": options}
            yield {"index": index, "image": image, "target": out, "task": task}

    def submit(actor: Any, job: dict[str, Any]) -> ray.ObjectRef:
        bar.set_postfix_str(job["image"].name)
        return actor.fill.remote(job["task"])

    def finished(job: dict[str, Any], result: dict[str, Any]) -> None:
        image = job["image"]
        if "error" in result:
            skip(job["index"], image, result["error"])
            return
        atomic_write_bytes(job["target"], result["data"])
        done.append(image)
        bar.update(1)

        def say() -> None:  # a note that holds for many images is said once, at the first (as locally)
            for notice in result["notices"]:
                if notice not in said:
                    said.add(notice)
                    common.say(f"{image.name}: note: {notice}")

        in_order.report(job["index"], say)

    _stream(pool, jobs(), submit, finished)
    return failures


# -- eval ----------------------------------------------------------------------------------------------


def evaluate(args: argparse.Namespace, models: list[str], sizes: dict[str, int], bar: tqdm) -> tuple[list[Row], int]:
    """``eval``'s rows in the local run's order (model by model, photo by photo) and the number of photos
    skipped for an error (each reported)."""
    from inpaintstudio.evaluation import benchmark

    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() in benchmark.IMAGE_SUFFIXES)[: args.limit]
    options = {"extend_fraction": args.extend_fraction, "sketch": args.sketch}
    wants_gpu = args.device != "cpu" and any(registry.get(benchmark.split_variant(m)[0]).learned for m in models)
    rows: dict[int, list[Row]] = {}
    skipped: list[str] = []
    bar.total = len(files) * len(models)
    bar.refresh()

    def jobs() -> Iterator[tuple[int, Path, dict[str, Any]]]:
        for index, image in enumerate(files):
            mask = args.masks / f"{image.stem}.png" if args.extend_fraction <= 0 else None
            try:
                files_ = {"image": _read(image), "mask": _read(mask) if mask and mask.is_file() else None}
            except OSError as exc:
                common.say(f"{image.name}: skipped: cannot read {exc.filename}: {exc.strerror}")
                skipped.append(image.name)
                continue
            origins = {"images": str(args.images), "masks": str(args.masks)}
            yield index, image, {"files": {"images": files_["image"], "masks": files_["mask"]}, "origins": origins}

    def submit(actor: Any, job: tuple[int, Path, dict[str, Any]]) -> ray.ObjectRef:
        return actor.evaluate.remote(job[2])

    def finished(job: tuple[int, Path, dict[str, Any]], result: dict[str, Any]) -> None:
        index, image, _ = job
        if "error" in result:
            common.say(f"{image.name}: skipped: {result['error']}")
            skipped.append(image.name)
        else:
            rows[index] = result["rows"]
        common.advance(bar, bar.n + len(models), image.name)

    worker_args = (models, args.device, sizes, options)
    with connect(args, worker_args, wants_gpu=wants_gpu, kind=EvalWorker) as pool:
        _stream(pool, jobs(), submit, finished)
    ordered = [row for entry in models for index in sorted(rows) for row in rows[index] if row.model == entry]
    return ordered, len(skipped)
