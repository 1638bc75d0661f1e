"""Classical fills: fast, need no weights, always available as fallbacks and as baselines.

- ``telea``: Telea's fast marching method (OpenCV); smooth, good for thin scratches and small holes.
- ``navier-stokes``: Bertalmio et al.'s fluid-dynamics inpainting (OpenCV); continues isophotes.
- ``patchmatch``: Barnes et al.'s PatchMatch (pypatchmatch); copies texture, can fill a border band, and
  never copies from a sampling exclusion (pypatchmatch's ``global_mask``: pixels neither filled nor used
  as a source). The diffusion fills spread the hole's edge inward and have nothing to exclude.

PatchMatch's native search is one call of several seconds on a large crop, with no way to stop it or
ask how far it is. Above :data:`CHILD_MIN_PIXELS` it therefore runs in a child Python process: a cancel
kills the child at once, and the library's verbose log (one line per pyramid level and EM iteration,
on the child's stderr) moves the progress bar. Smaller crops fill in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, ClassVar

import cv2
import numpy as np

from inpaintstudio.engine.base import Capabilities, Inpainter, ModelStatus
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.registry import register
from inpaintstudio.errors import InputError, ModelUnavailableError

# Crops with more pixels than this fill in a child process (starting it costs about 0.2-0.4 s); a
# smaller one takes at most about half a second in-process, which is then the longest a cancel waits.
CHILD_MIN_PIXELS = 256 * 256
CANCEL_POLL_SECONDS = 0.05

# The child: reads a JSON header line and the raw image, mask (and, when the header says so, the global
# mask of excluded pixels) from stdin, writes the raw result to stdout. It imports only numpy and
# patchmatch (from the folder the parent found them in).
_CHILD_CODE = """
import json, sys
sys.path.append(sys.argv[1])
import numpy as np, patchmatch
header = json.loads(sys.stdin.buffer.readline())
h, w = header["shape"]
data = sys.stdin.buffer.read()
image = np.frombuffer(data, np.uint8, h * w * 3).reshape(h, w, 3)
mask = np.frombuffer(data, np.uint8, h * w, h * w * 3).reshape(h, w)
excluded = np.frombuffer(data, np.uint8, h * w, h * w * 4).reshape(h, w) if header.get("exclude") else None
patchmatch.set_random_seed(header["seed"])
patchmatch.set_verbose(True)
out = patchmatch.inpaint(image, mask, global_mask=excluded, patch_size=header["patch_size"])
sys.stdout.buffer.write(np.ascontiguousarray(out, np.uint8).tobytes())
sys.stdout.buffer.flush()
"""


class _SearchProgress:
    """Turns PatchMatch's verbose log into a fraction. The search runs coarse-to-fine over a pyramid with
    ``2 * level + 1`` EM iterations per level; an iteration's cost relative to one at full size, measured
    on 0.8-2 megapixel crops, is :data:`ITERATION_COST` (the coarser levels quarter it per level)."""

    ITERATION_COST = (1.0, 0.47, 0.32, 0.1)

    def __init__(self) -> None:
        self.total = 0.0
        self.done = 0.0
        self.running = 0.0  # the cost of the iteration under way, counted once it ends
        self.level = 0
        self.errors: list[str] = []  # the lines that are not progress (a failure's message)

    @classmethod
    def cost(cls, level: int) -> float:
        table = cls.ITERATION_COST
        return table[level] if level < len(table) else table[-1] * 4.0 ** (len(table) - 1 - level)

    def feed(self, line: str) -> None:
        key, _, value = line.strip().partition(":")
        if key == "Inpainting level" and value.strip().isdigit():
            self.done, self.running, self.level = self.done + self.running, 0.0, int(value)
            if not self.total:
                self.total = sum(self.cost(n) * (2 * n + 1) for n in range(self.level + 1))
        elif key == "EM Iteration":
            self.done, self.running = self.done + self.running, self.cost(self.level)
        elif line.strip() and not line.startswith(" ") and not line.startswith("Initialization"):
            self.errors.append(line.strip())

    @property
    def fraction(self) -> float:
        return min(0.99, self.done / self.total) if self.total else 0.0


def _read_lines(stream: IO[bytes], progress: _SearchProgress) -> None:
    for raw in stream:
        progress.feed(raw.decode(errors="replace"))


def _patchmatch_in_child(
    patchmatch_dir: Path,
    image: np.ndarray,
    mask: np.ndarray,
    patch_size: int,
    seed: int,
    ctx: JobContext,
    excluded: np.ndarray | None = None,
) -> np.ndarray:
    """Run PatchMatch in a child process that a cancel kills within :data:`CANCEL_POLL_SECONDS`."""
    h, w = mask.shape
    fields = {"shape": [h, w], "seed": seed, "patch_size": patch_size, "exclude": excluded is not None}
    header = json.dumps(fields).encode() + b"\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD_CODE, str(patchmatch_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # no console window on Windows
    )
    progress = _SearchProgress()
    output: list[bytes] = []
    readers = [
        threading.Thread(target=_read_lines, args=(proc.stderr, progress), daemon=True),
        threading.Thread(target=lambda: output.append(proc.stdout.read()), daemon=True),
    ]
    try:
        for reader in readers:
            reader.start()
        try:
            arrays = [image, mask] if excluded is None else [image, mask, excluded]
            proc.stdin.write(header + b"".join(np.ascontiguousarray(a).tobytes() for a in arrays))
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died early; its exit status and stderr say why
        reported = 0.0
        while True:
            try:
                proc.wait(CANCEL_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                ctx.check_cancelled()
                if progress.fraction != reported:
                    reported = progress.fraction
                    ctx.progress(reported, "patchmatch: searching patches")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(5.0)
    result = output[0] if output else b""
    if proc.returncode != 0 or len(result) != h * w * 3:
        why = progress.errors[-1] if progress.errors else f"exit status {proc.returncode}"
        raise RuntimeError(f"patchmatch failed: {why}")
    return np.frombuffer(result, np.uint8).reshape(h, w, 3).copy()


class _OpenCVInpainter(Inpainter):
    flag: ClassVar[int]
    radius: ClassVar[int] = 5  # neighbourhood considered per pixel; 3-7 is the usual range

    def inpaint(self, image: np.ndarray, mask: np.ndarray, sketch: np.ndarray | None, ctx: JobContext) -> np.ndarray:
        ctx.progress(0.0, f"{self.name}: diffusing into the hole")
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        out = cv2.inpaint(bgr, mask.astype(np.uint8) * 255, self.radius, self.flag)
        return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


@register
class TeleaInpainter(_OpenCVInpainter):
    name = "telea"
    label = "Telea (OpenCV)"
    summary = "Fast marching diffusion; quick, smooth, best for small holes and scratches"
    flag = cv2.INPAINT_TELEA


@register
class NavierStokesInpainter(_OpenCVInpainter):
    name = "navier-stokes"
    label = "Navier-Stokes (OpenCV)"
    summary = "Fluid-dynamics diffusion that continues edges into the hole; small holes"
    flag = cv2.INPAINT_NS


@register
class PatchMatchInpainter(Inpainter):
    name = "patchmatch"
    label = "PatchMatch"
    summary = "Copies texture patches from the rest of the image; also extends borders"
    # PatchMatch's cost grows with the hole and the source area; above working_size the crop is filled at
    # that size and scaled up, which keeps a 24-megapixel border extension to seconds.
    caps = Capabilities(outpaint=True, exclude=True, working_size=2048)
    patch_size: ClassVar[int] = 3  # radius: 7 x 7 patches, the library's recommended setting
    seed: ClassVar[int] = 0  # fixed, so the same input gives the same fill

    @classmethod
    def status(cls) -> ModelStatus:
        try:
            import patchmatch
        except ImportError:
            return ModelStatus(False, "unavailable", "the pypatchmatch package is not installed")
        if not patchmatch.patchmatch_available:
            return ModelStatus(False, "unavailable", "pypatchmatch's native library could not be loaded")
        return ModelStatus(True, "no weights needed")

    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        sketch: np.ndarray | None,
        ctx: JobContext,
        exclude: np.ndarray | None = None,
    ) -> np.ndarray:
        try:
            import patchmatch
        except ImportError as exc:
            raise ModelUnavailableError("the pypatchmatch package is not installed") from exc
        ctx.progress(0.0, "patchmatch: searching patches")
        if mask.all():
            # Nothing to copy from: PatchMatch needs known pixels.
            raise ModelUnavailableError("patchmatch needs some known pixels around the hole")
        hole = mask.astype(np.uint8) * 255
        # The global mask must not cover the hole: its pixels are neither filled nor sources.
        excluded = None
        if exclude is not None:
            if not (~mask & ~exclude).any():
                raise InputError("the sampling exclusion covers every known pixel around this hole; erase part of it")
            excluded = (exclude & ~mask).astype(np.uint8) * 255
        # A frozen app's sys.executable is the app, not a Python that can run the child.
        if mask.size > CHILD_MIN_PIXELS and not getattr(sys, "frozen", False):
            try:
                package = Path(patchmatch.__file__).resolve().parent.parent
                return _patchmatch_in_child(package, image, hole, self.patch_size, self.seed, ctx, excluded)
            except OSError:
                pass  # no child process could be started: fill in-process
        patchmatch.set_random_seed(self.seed)
        return patchmatch.inpaint(np.ascontiguousarray(image), hole, global_mask=excluded, patch_size=self.patch_size)
