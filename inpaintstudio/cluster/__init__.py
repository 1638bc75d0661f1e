"""Running ``batch`` and ``eval`` as a Ray job (``--ray [ADDRESS]``), on this machine or a cluster.

This module is light (no Ray import): it adds the options and says how to install Ray when it is
missing. The Ray code itself is :mod:`inpaintstudio.cluster.ray_jobs`, imported only when ``--ray`` is
given, so the command line starts as fast as before and the app bundle leaves Ray out.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from types import ModuleType

from inpaintstudio.errors import InputError

JOBS = "inpaintstudio.cluster.ray_jobs"
LOCAL = "local"  # --ray without an address: start a Ray instance on this machine
DEFAULT_WORKERS = 2
INSTALL_HINT = (
    "--ray needs Ray, which is not installed: pip install 'inpaintstudio[cluster]' "
    "(in a checkout: pip install -e '.[cluster]')"
)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number above zero, got '{text}'")
    return value


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number of GPUs, 0 or more, got '{text}'")
    return value


def add_ray_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running on Ray (pip install 'inpaintstudio[cluster]')")
    group.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL,
        default=None,
        metavar="ADDRESS",
        help="run as a Ray job: without ADDRESS on a Ray instance started on this machine, with 'auto' or "
        "an address (HOST:6379) on that cluster",
    )
    group.add_argument(
        "--ray-workers",
        type=positive_int,
        metavar="N",
        help=f"model-holding workers (default: {DEFAULT_WORKERS} on this machine; on a cluster one per GPU, "
        "or one per CPU without GPUs)",
    )
    group.add_argument(
        "--gpus-per-worker",
        type=non_negative,
        metavar="G",
        help="GPUs each worker holds (default: 1 for learned models where the cluster has GPUs, else 0; "
        "0.5 puts two workers on a GPU)",
    )


def require_ray() -> ModuleType:
    """The Ray code (imported by name: the app bundle leaves it out), or a one-line error saying how to
    install Ray."""
    if importlib.util.find_spec(JOBS) is None:
        raise InputError(
            "--ray is not available in this build of InpaintStudio; install InpaintStudio with pip to use Ray"
        )
    try:
        import ray  # noqa: F401 - only to see whether it is there
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return importlib.import_module(JOBS)
