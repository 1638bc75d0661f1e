"""The validation set: photos kept out of training, with masks like the ones people paint.

Used to choose between checkpoints, working sizes and post-processing, and to decide whether a training
run's weights replace the shipped ones. The photos are named in ``models/validation.txt``; each gets a
deterministic mask from :func:`~inpaintstudio.training.masks.painted_mask_with_coverage` (object blobs
and thick brush strokes covering 10 to 50 % of the photo), so every machine scores the same cases.
Kept apart from ``models/holdout.txt``, which is never used to choose anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inpaintstudio import paths
from inpaintstudio.document.io import imageio
from inpaintstudio.evaluation.benchmark import Case
from inpaintstudio.geometry import Rect

MASK_SEED = 2026
# Scores decide what ships and what auto picks: three masks per photo (24 cases on the 8 photos) halve
# the noise of one mask each, which had let a 0.2 dB "gain" through that the held-out photos did not see.
SCORING_SEEDS = (2026, 11, 12)
LOW, HIGH = 0.10, 0.50


def validation_names() -> list[str]:
    """The photo names of ``models/validation.txt`` (blank lines and ``#`` comments skipped). Read here
    rather than with training.dataset, which the app's bundle leaves out."""
    text = (paths.shipped_models_dir() / "validation.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def painted_hole(height: int, width: int, index: int, seed: int = MASK_SEED) -> np.ndarray:
    from inpaintstudio.training.masks import painted_mask_with_coverage

    rng = np.random.default_rng([seed, index])
    return painted_mask_with_coverage(height, width, rng, LOW, HIGH)


def _photo(photos: Path, name: str) -> np.ndarray:
    """A validation photo as 8-bit RGB (grey photos repeated into three channels, alpha dropped)."""
    path = photos / name
    if not path.is_file():
        raise FileNotFoundError(f"validation photo {name} is not in {photos}")
    image = imageio.to_uint8(imageio.load_image(path).pixels)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def scoring_cases(photos: Path, names: list[str] | None = None) -> list[Case]:
    """The cases scores are recorded on: every photo with each of :data:`SCORING_SEEDS`' masks."""
    cases = []
    for seed in SCORING_SEEDS:
        cases += [Case(f"{c.name}#{seed}", c.image, c.hole, c.known) for c in hole_cases(photos, names, seed)]
    return cases


def hole_cases(photos: Path, names: list[str] | None = None, seed: int = MASK_SEED) -> list[Case]:
    """One case per named photo found in ``photos``: the photo and its painted mask."""
    names = validation_names() if names is None else names
    cases = []
    for index, name in enumerate(names):
        image = _photo(photos, name)
        h, w = image.shape[:2]
        cases.append(Case(Path(name).stem, image, painted_hole(h, w, index, seed), Rect(0, 0, w, h)))
    return cases


def border_cases(photos: Path, names: list[str] | None = None) -> list[Case]:
    """Border restoration: the centre two thirds of the width kept, both side bands to restore."""
    names = validation_names() if names is None else names
    cases = []
    for name in names:
        image = _photo(photos, name)
        h, w = image.shape[:2]
        band = w // 6
        known = Rect(band, 0, w - 2 * band, h)
        hole = np.ones((h, w), bool)
        hole[known.slices()] = False
        cases.append(Case(Path(name).stem, image, hole, known))
    return cases
