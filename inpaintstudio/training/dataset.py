"""Image-folder dataset producing (image, mask, sketch) training samples, plus a stable hold-out split.

Samples are fully determined by ``(seed, epoch, index)``: every item builds its own numpy Generator from
those three numbers, so a run can be resumed mid-epoch and reproduces exactly, while different epochs still
see different crops, flips, masks and sketches.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

from inpaintstudio.training.masks import border_mask, free_form_mask, painted_mask
from inpaintstudio.training.sketch import synthetic_sketch

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageFolderDataset",
    "check_augmentation",
    "list_image_files",
    "read_split",
    "split_holdout",
    "write_split",
]

# Share of inpainting samples whose hole is drawn like a person paints (training/masks.py).
PAINTED_FRACTION = 0.5

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})

PathT = TypeVar("PathT", str, Path)


def list_image_files(root: Path | str | Sequence[Path | str]) -> list[Path]:
    """List image files (by extension, case-insensitive) under directories (recursively) or given files.

    Sorted and de-duplicated so the order, and hence every ``index``, is the same on every machine.
    """
    roots = [Path(root)] if isinstance(root, (str, Path)) else [Path(r) for r in root]
    found: set[Path] = set()
    for entry in roots:
        candidates = entry.rglob("*") if entry.is_dir() else [entry]
        found.update(p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    return sorted(found, key=lambda p: (p.name, str(p)))


class ImageFolderDataset(Dataset):
    """Random crops of the photos in one or more folders, each with a random hole mask and sketch.

    Items are dicts of tensors: ``image`` float32 3xHxW RGB in [-1, 1]; ``mask`` float32 1xHxW (1 = hole);
    ``sketch`` float32 1xHxW in {0, 1} (inside the hole only; zeros without ``with_sketch``); in
    ``'outpaint'`` mode also ``known_box`` int64 (4,) = unknown widths (left, top, right, bottom).

    Decoded images are cached in memory, downscaled to the largest short side a crop can need. With
    DataLoader workers, call :meth:`preload` first so forked workers share the cache, and call
    :meth:`set_epoch` before each epoch without ``persistent_workers`` (workers copy the epoch counter).
    """

    def __init__(
        self,
        root: Path | str | Sequence[Path | str],
        size: int = 256,
        *,
        scales: Sequence[float] = (1.0, 0.75, 0.5),
        mode: Literal["inpaint", "outpaint"] = "inpaint",
        with_sketch: bool = True,
        exclude: Iterable[str] = (),
        seed: int = 0,
        epoch_length: int | None = None,
        cache_bytes: int = 2 * 1024**3,
        rotate: float = 0.0,
        colour: float = 0.0,
    ) -> None:
        if mode not in ("inpaint", "outpaint"):
            raise ValueError(f"mode must be 'inpaint' or 'outpaint', got {mode!r}")
        if not scales or min(scales) <= 0:
            raise ValueError(f"scales must be positive, got {scales}")
        if epoch_length is not None and epoch_length <= 0:
            raise ValueError(f"epoch_length must be positive, got {epoch_length}")
        check_augmentation(rotate, colour)
        self.size = int(size)
        self.scales = tuple(float(s) for s in scales)
        self.mode = mode
        self.with_sketch = with_sketch
        self.seed = int(seed)
        self.epoch = 0
        self.epoch_length = epoch_length
        self.cache_bytes = int(cache_bytes)
        self.rotate = float(rotate)
        self.colour = float(colour)
        # Largest short side any crop can ask for; the cache never needs more resolution than this.
        self._max_short = math.ceil(_turned_side(self.size, self.rotate) / min(self.scales))
        self._cache: dict[int, np.ndarray] = {}
        self._cached_bytes = 0
        self._bad: set[int] = set()

        excluded = {Path(name).name.casefold() for name in exclude}
        files = [p for p in list_image_files(root) if p.name.casefold() not in excluded]
        self.files: list[Path] = []
        skipped: list[str] = []
        for path in files:
            try:
                with Image.open(path) as im:
                    im.size  # noqa: B018 - opening parses the header; a broken file raises here
                self.files.append(path)
            except (OSError, ValueError, Image.DecompressionBombError):
                skipped.append(path.name)
        if skipped:
            warnings.warn(f"skipping {len(skipped)} unreadable image(s): {', '.join(skipped)}", stacklevel=2)
        if not self.files:
            raise ValueError(f"no readable images found in {root}")

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch; it is part of every item's seed, so each epoch gets new augmentations."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.epoch_length if self.epoch_length is not None else len(self.files)

    def preload(self) -> None:
        """Decode every image into the cache now (e.g. before forking DataLoader workers)."""
        for i in range(len(self.files)):
            self._load(i)

    def _decode(self, file_index: int) -> np.ndarray:
        """Decode one file to RGB uint8 (EXIF orientation applied), downscaled to the cache resolution."""
        with Image.open(self.files[file_index]) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            short = min(im.size)
            if short > self._max_short:
                factor = self._max_short / short
                new_size = (max(1, round(im.width * factor)), max(1, round(im.height * factor)))
                im = im.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            return np.array(im, dtype=np.uint8)

    def _load(self, file_index: int) -> np.ndarray:
        """Return the cached image, decoding it on a miss; unreadable files are replaced by the next one."""
        n_files = len(self.files)
        for offset in range(n_files):
            idx = (file_index + offset) % n_files
            if idx in self._bad:
                continue
            cached = self._cache.get(idx)
            if cached is not None:
                return cached
            try:
                image = self._decode(idx)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                self._bad.add(idx)
                warnings.warn(f"cannot decode {self.files[idx].name} ({exc}); using another image", stacklevel=3)
                continue
            if self._cached_bytes + image.nbytes <= self.cache_bytes:
                self._cache[idx] = image
                self._cached_bytes += image.nbytes
            return image
        raise RuntimeError("none of the dataset images can be decoded")

    def _random_crop(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Resize so the short side is U(size / max(scales), size / min(scales)) (>= size), crop, flip.

        With ``rotate`` the crop is turned by U(-rotate, rotate) degrees (cut from a larger square, so no
        corner is padding); with ``colour`` its brightness, contrast and saturation are each scaled by
        U(1 - colour, 1 + colour). Both are off by default, and then draw nothing from ``rng``: the samples
        of a run started without them stay what they were.
        """
        size = self.size
        angle = float(rng.uniform(-self.rotate, self.rotate)) if self.rotate > 0 else 0.0
        side = _turned_side(size, angle)
        height, width = image.shape[:2]
        short = max(float(side), rng.uniform(side / max(self.scales), side / min(self.scales)))
        factor = short / min(height, width)
        new_h, new_w = max(side, round(height * factor)), max(side, round(width * factor))
        if (new_h, new_w) != (height, width):
            interp = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_CUBIC
            image = cv2.resize(image, (new_w, new_h), interpolation=interp)
        top = int(rng.integers(0, new_h - side, endpoint=True))
        left = int(rng.integers(0, new_w - side, endpoint=True))
        crop = image[top : top + side, left : left + side]
        if angle:
            turn = cv2.getRotationMatrix2D(((side - 1) / 2, (side - 1) / 2), angle, 1.0)
            turn[:, 2] -= (side - size) / 2  # centre the size x size window on the square's centre
            crop = cv2.warpAffine(crop, turn, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if self.colour > 0:
            crop = _jitter_colour(crop, rng.uniform(1 - self.colour, 1 + self.colour, size=3))
        return np.ascontiguousarray(crop)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, int(index)]))
        crop = self._random_crop(self._load(index % len(self.files)), rng)
        sample: dict[str, torch.Tensor] = {}
        if self.mode == "inpaint":
            # half DeepFill's free-form strokes, half what people paint (object blobs, thick strokes)
            if rng.random() < PAINTED_FRACTION:
                mask = painted_mask(self.size, self.size, rng)
            else:
                mask = free_form_mask(self.size, self.size, rng)
        else:
            mask, box = border_mask(self.size, self.size, rng)
            sample["known_box"] = torch.tensor(box, dtype=torch.int64)
        sketch = synthetic_sketch(crop, mask, rng) if self.with_sketch else np.zeros_like(mask)
        image = torch.from_numpy(crop).permute(2, 0, 1).float().div_(127.5).sub_(1.0)
        sample["image"] = image.contiguous()
        sample["mask"] = torch.from_numpy(mask.astype(np.float32))[None]
        sample["sketch"] = torch.from_numpy(sketch.astype(np.float32))[None]
        return sample


def check_augmentation(rotate: float, colour: float) -> None:
    """ValueError unless the crops' turn (degrees) and colour jitter are within what they are made for."""
    if not 0 <= rotate <= 45:
        raise ValueError(f"rotate must be between 0 and 45 degrees, got {rotate}")
    if not 0 <= colour < 1:
        raise ValueError(f"colour must be at least 0 and below 1, got {colour}")


def _turned_side(size: int, degrees: float) -> int:
    """The side of the square that holds a size x size square turned by ``degrees`` (its corners included)."""
    turn = math.radians(abs(degrees))
    return math.ceil(size * (math.cos(turn) + math.sin(turn)) - 1e-9)


def _jitter_colour(crop: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Brightness, contrast, saturation scaled by ``scale`` (3 factors), in that order, kept in 0..255."""
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    rgb = crop.astype(np.float32) * scale[0]
    mean = float((rgb @ luma).mean())
    rgb = (rgb - mean) * scale[1] + mean
    grey = (rgb @ luma)[..., None]
    rgb = grey + (rgb - grey) * scale[2]
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _name_hash(name: str, seed: int) -> str:
    """Platform-independent hash of a file name (Python's ``hash`` is salted per process)."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def split_holdout(
    files: Sequence[PathT], holdout_fraction: float = 0.15, seed: int = 1234
) -> tuple[list[PathT], list[PathT]]:
    """Split files into ``(train, holdout)`` by ranking their *names* by a SHA-256 hash.

    Only the file name matters, so the same photos are held out on every machine and folder layout.
    The hold-out gets ``round(fraction * n)`` files (at least one when the fraction is positive and there
    are two or more files). Both lists come back sorted by name.
    """
    if not 0.0 <= holdout_fraction <= 1.0:
        raise ValueError(f"holdout_fraction must be in [0, 1], got {holdout_fraction}")
    items = sorted(files, key=lambda f: (Path(f).name, str(f)))
    n_hold = round(holdout_fraction * len(items))
    if holdout_fraction > 0 and n_hold == 0 and len(items) >= 2:
        n_hold = 1
    ranked = sorted(range(len(items)), key=lambda i: (_name_hash(Path(items[i]).name, seed), i))
    held = set(ranked[:n_hold])
    train = [f for i, f in enumerate(items) if i not in held]
    holdout = [f for i, f in enumerate(items) if i in held]
    return train, holdout


def write_split(path: Path | str, holdout: Iterable[Path | str]) -> None:
    """Write the held-out file names, one per line (sorted), so training can exclude them later."""
    names = sorted({Path(f).name for f in holdout})
    Path(path).write_text("".join(f"{name}\n" for name in names), encoding="utf-8")


def read_split(path: Path | str) -> list[str]:
    """Read a split file written by :func:`write_split`; blank lines and ``#`` comments are ignored."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
