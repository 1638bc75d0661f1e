"""Tests for ImageFolderDataset and the hold-out split helpers (small temporary images only)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from inpaintstudio.training.dataset import (
    ImageFolderDataset,
    list_image_files,
    read_split,
    split_holdout,
    write_split,
)

SIZE = 64


def _photo(width: int, height: int, seed: int) -> Image.Image:
    """A smooth gradient plus a few blocks, so crops and flips are distinguishable."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    arr = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1), (xx + yy) % 256], axis=2)
    arr = arr.astype(np.uint8)
    for _ in range(6):
        x, y = int(rng.integers(0, width - 10)), int(rng.integers(0, height - 10))
        arr[y : y + 10 + seed, x : x + 12] = rng.integers(0, 256, 3)
    return Image.fromarray(arr)


@pytest.fixture()
def image_dir(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "nested").mkdir(parents=True)
    _photo(160, 120, 1).save(root / "a.jpg", quality=90)
    _photo(120, 150, 2).save(root / "b.PNG")
    _photo(48, 40, 3).save(root / "nested" / "c.JPEG", quality=90)  # smaller than SIZE: upscaled
    _photo(100, 80, 4).save(root / "skip_me.png")
    (root / "notes.txt").write_text("not an image")
    (root / "broken.jpg").write_bytes(b"definitely not a jpeg")
    return root


def _dataset(root: Path | list[Path], **kwargs: object) -> ImageFolderDataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ImageFolderDataset(root, SIZE, **kwargs)  # type: ignore[arg-type]


def test_lists_images_case_insensitively_and_skips_unreadable(image_dir: Path) -> None:
    names = {p.name for p in list_image_files(image_dir)}
    assert names == {"a.jpg", "b.PNG", "c.JPEG", "skip_me.png", "broken.jpg"}
    with pytest.warns(UserWarning, match="broken.jpg"):
        ds = ImageFolderDataset(image_dir, SIZE, exclude=["skip_me.png"])
    assert sorted(p.name for p in ds.files) == ["a.jpg", "b.PNG", "c.JPEG"]
    assert len(ds) == 3


def test_item_shapes_dtypes_and_ranges(image_dir: Path) -> None:
    ds = _dataset(image_dir)
    for index in range(len(ds)):
        item = ds[index]
        assert set(item) == {"image", "mask", "sketch"}
        assert item["image"].shape == (3, SIZE, SIZE) and item["image"].dtype == torch.float32
        assert item["mask"].shape == (1, SIZE, SIZE) and item["mask"].dtype == torch.float32
        assert item["sketch"].shape == (1, SIZE, SIZE) and item["sketch"].dtype == torch.float32
        assert item["image"].min() >= -1.0 and item["image"].max() <= 1.0
        assert set(item["mask"].unique().tolist()) <= {0.0, 1.0} and item["mask"].sum() > 0
        assert set(item["sketch"].unique().tolist()) <= {0.0, 1.0}
        assert (item["sketch"] <= item["mask"]).all()


def test_image_is_rgb_scaled_to_minus_one_one(tmp_path: Path) -> None:
    Image.new("RGB", (SIZE, SIZE), (255, 0, 128)).save(tmp_path / "solid.png")
    item = _dataset(tmp_path, scales=(1.0,))[0]
    expected = torch.tensor([1.0, -1.0, 128 / 127.5 - 1.0])
    assert torch.allclose(item["image"].mean(dim=(1, 2)), expected, atol=1e-5)


def test_determinism_per_seed_epoch_index(image_dir: Path) -> None:
    a, b = _dataset(image_dir, seed=3), _dataset(image_dir, seed=3)
    for key in ("image", "mask", "sketch"):
        assert torch.equal(a[1][key], b[1][key])
    first = a[1]["mask"]
    a.set_epoch(1)
    assert not torch.equal(a[1]["mask"], first)
    a.set_epoch(0)
    assert torch.equal(a[1]["mask"], first)
    assert not torch.equal(_dataset(image_dir, seed=4)[1]["mask"], first)


def test_epoch_length_wraps_files(image_dir: Path) -> None:
    ds = _dataset(image_dir, epoch_length=10, exclude=["skip_me.png"])
    assert len(ds) == 10
    masks = [ds[i]["mask"] for i in (0, 3, 9)]
    assert not torch.equal(masks[0], masks[1])  # same file, different index -> different sample
    with pytest.raises(IndexError):
        ds[10]


def test_outpaint_mode_returns_consistent_known_box(image_dir: Path) -> None:
    ds = _dataset(image_dir, mode="outpaint")
    for index in range(len(ds)):
        item = ds[index]
        box = item["known_box"]
        assert box.dtype == torch.int64 and box.shape == (4,)
        left, top, right, bottom = box.tolist()
        assert sum(box.tolist()) > 0
        known = item["mask"][0] == 0
        assert known.sum() == (SIZE - top - bottom) * (SIZE - left - right)
        assert known[top : SIZE - bottom, left : SIZE - right].all()


def test_without_sketch_gives_zeros(image_dir: Path) -> None:
    item = _dataset(image_dir, with_sketch=False)[0]
    assert item["sketch"].abs().sum() == 0


def test_exif_orientation_and_cache_downscale(tmp_path: Path) -> None:
    image = _photo(300, 100, 5)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    _photo(640, 480, 6).save(tmp_path / "large.png")
    ds = _dataset(tmp_path, scales=(1.0, 0.5))  # crops never need a short side above 128
    names = [p.name for p in ds.files]
    ds.preload()
    rotated = ds._cache[names.index("rotated.jpg")]
    large = ds._cache[names.index("large.png")]
    assert rotated.shape == (300, 100, 3)
    assert large.shape == (128, 171, 3)
    assert ds[0]["image"].shape == (3, SIZE, SIZE)


def test_truncated_file_is_replaced_with_warning(tmp_path: Path) -> None:
    _photo(100, 100, 7).save(tmp_path / "good.jpg", quality=90)
    data = (tmp_path / "good.jpg").read_bytes()
    (tmp_path / "a_truncated.jpg").write_bytes(data[: len(data) // 3])
    ds = _dataset(tmp_path)
    assert len(ds.files) == 2  # the header is fine, so it is only caught when decoding
    with pytest.warns(UserWarning, match="a_truncated.jpg"):
        item = ds[0]
    assert item["image"].shape == (3, SIZE, SIZE)


def test_dataloader_collates_batches(image_dir: Path) -> None:
    loader = DataLoader(_dataset(image_dir, mode="outpaint"), batch_size=2, num_workers=0)
    batch = next(iter(loader))
    assert batch["image"].shape == (2, 3, SIZE, SIZE)
    assert batch["known_box"].shape == (2, 4)


def test_split_holdout_is_stable_and_exact() -> None:
    names = [f"img_{i:03d}.jpg" for i in range(100)]
    train, holdout = split_holdout(names)
    assert len(holdout) == 15 and len(train) == 85
    assert set(train).isdisjoint(holdout) and set(train) | set(holdout) == set(names)
    shuffled = [Path("/elsewhere/dir") / n for n in reversed(names)]
    _, holdout_paths = split_holdout(shuffled)
    assert [p.name for p in holdout_paths] == holdout  # order- and folder-independent
    assert split_holdout(names, seed=99)[1] != holdout
    assert len(split_holdout(names[:3], 0.15)[1]) == 1


def test_split_file_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "holdout.txt"
    write_split(path, [Path("/x/b.jpg"), "a.png"])
    assert path.read_text() == "a.png\nb.jpg\n"
    path.write_text("# held out\na.png\n\nb.jpg\n")
    assert read_split(path) == ["a.png", "b.jpg"]


def _orientation(image: torch.Tensor) -> float:
    """Dominant direction of the gradients (degrees from horizontal), from the structure tensor."""
    grey = image.mean(dim=0).numpy().astype(np.float64)
    gy, gx = np.gradient(grey)
    return float(np.degrees(0.5 * np.arctan2(2 * (gx * gy).sum(), (gx * gx).sum() - (gy * gy).sum())))


def test_rotation_turns_crops_by_up_to_the_limit(tmp_path: Path) -> None:
    xx = np.arange(400)[None, :].repeat(400, axis=0)
    Image.fromarray(((xx // 25 % 2) * 255).astype(np.uint8)).convert("RGB").save(tmp_path / "stripes.png")
    straight = _dataset(tmp_path, scales=(1.0,), epoch_length=12)
    assert all(abs(_orientation(straight[i]["image"])) < 1 for i in range(12))
    turned = _dataset(tmp_path, scales=(1.0,), epoch_length=12, rotate=20)
    angles = [abs(_orientation(turned[i]["image"])) for i in range(12)]
    assert max(angles) > 5 and max(angles) < 24  # the stripes, resized, measure a little steeper


def test_a_turned_window_lies_inside_the_square_it_is_cut_from() -> None:
    from inpaintstudio.training.dataset import _turned_side

    for degrees in (0.0, 3.0, 17.5, 30.0, 45.0, -12.0):
        side = _turned_side(SIZE, degrees)
        turn = np.radians(degrees)
        corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]]) * SIZE / 2
        rotated = corners @ np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        assert np.abs(rotated).max() <= side / 2 + 1e-9
        assert side <= np.abs(rotated).max() * 2 + 1  # and no larger than needed
    assert _turned_side(SIZE, 0) == SIZE


def test_colour_jitter_varies_each_crop_and_keeps_grey_photos_grey(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    texture = rng.integers(-20, 21, (200, 200, 1))
    Image.fromarray((np.array([150, 110, 70]) + texture).clip(0, 255).astype(np.uint8)).save(tmp_path / "warm.png")
    plain = _dataset(tmp_path, scales=(1.0,), epoch_length=8)
    assert np.ptp([plain[i]["image"].mean().item() for i in range(8)]) < 0.02
    jittered = _dataset(tmp_path, scales=(1.0,), epoch_length=8, colour=0.3)
    items = [jittered[i]["image"] for i in range(8)]
    assert np.ptp([x.mean().item() for x in items]) > 0.1  # brightness
    assert np.ptp([x.std().item() for x in items]) > 0.01  # contrast and saturation
    assert all(x.min() >= -1 and x.max() <= 1 for x in items)

    grey = tmp_path / "grey"
    grey.mkdir()
    Image.fromarray((120 + texture[..., 0]).astype(np.uint8)).convert("RGB").save(grey / "grey.png")
    for i in range(8):
        image = _dataset(grey, scales=(1.0,), epoch_length=8, colour=0.3)[i]["image"]
        assert (image.max(dim=0).values - image.min(dim=0).values).max() <= 1.5 / 127.5


def test_augmentation_limits_are_checked(image_dir: Path) -> None:
    with pytest.raises(ValueError, match="rotate"):
        _dataset(image_dir, rotate=60)
    with pytest.raises(ValueError, match="colour"):
        _dataset(image_dir, colour=1.5)
