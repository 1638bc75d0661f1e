"""Build the evaluation set: the held-out photos and deterministic free-form masks for them.

    python scripts/make_eval_set.py --photos ../shared/data/photos --holdout models/holdout.txt --out eval-set

writes eval-set/images/NAME.jpg (links to, or copies of, the held-out photos) and eval-set/masks/NAME.png
(white = hole, 10 to 40 % of the photo, the DeepFillv2 paper's free-form generator). The same seed gives
the same masks on every machine, so the table in the README can be reproduced with `inpaintstudio eval`.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from inpaintstudio.training.dataset import read_split
from inpaintstudio.training.masks import mask_with_coverage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--holdout", type=Path, default=Path("models/holdout.txt"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--low", type=float, default=0.10)
    parser.add_argument("--high", type=float, default=0.40)
    args = parser.parse_args()
    images, masks = args.out / "images", args.out / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(read_split(args.holdout)):
        src = args.photos / name
        shutil.copyfile(src, images / name)
        width, height = Image.open(src).size
        rng = np.random.default_rng([args.seed, index])
        hole = mask_with_coverage(height, width, rng, args.low, args.high)
        Image.fromarray(hole.astype(np.uint8) * 255).save(masks / f"{Path(name).stem}.png")
        print(f"{name}: {width}x{height}, hole {hole.mean() * 100:.1f} %")


if __name__ == "__main__":
    main()
