"""Reading and writing images: modes, depths, metadata, orientation, damage, limits, atomic saves."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from inpaintstudio.document.io import imageio
from inpaintstudio.errors import ImageLoadError, ImageSaveError


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_exif_orientation_is_applied_and_reset(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCamera"
    src = tmp_path / "rotated.jpg"
    Image.fromarray(photo).save(src, exif=exif.tobytes(), icc_profile=_srgb_icc(), quality=95)
    loaded = imageio.load_image(src)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(src)).convert("RGB"))
    assert np.array_equal(loaded.pixels, expected)
    assert loaded.meta.orientation == 6
    for suffix in (".png", ".jpg", ".webp", ".tiff"):
        out = tmp_path / f"out{suffix}"
        imageio.save_image(out, loaded.pixels, None, loaded.meta)
        reread = Image.open(out)
        assert reread.size == (photo.shape[0], photo.shape[1])
        assert reread.getexif().get(0x010F) == "TestCamera", suffix
        assert reread.getexif().get(0x0112) == 1, "pixels are upright now, so the orientation must say so"
        assert reread.info.get("icc_profile") == loaded.meta.icc, suffix


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path, orientation):
    pixels = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    Image.fromarray(pixels).save(path, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    assert np.array_equal(imageio.load_image(path).pixels, expected)


@pytest.mark.parametrize(
    "mode,gray,alpha",
    [
        ("L", True, False),
        ("LA", True, True),
        ("P", False, False),
        ("RGBA", False, True),
        ("1", True, False),
        ("CMYK", False, False),
        ("I;16", True, False),
    ],
)
def test_modes_are_read_and_written_back(tmp_path, photo, mode, gray, alpha):
    src = Image.fromarray(photo)
    if mode == "I;16":
        src = Image.fromarray(np.asarray(src.convert("L"), np.uint16) * 257)
    elif mode == "RGBA":
        src = src.convert("RGBA")
        src.putalpha(Image.fromarray(np.tile(np.arange(src.width, dtype=np.uint8), (src.height, 1))))
    else:
        src = src.convert(mode)
    path = tmp_path / ("in.jpg" if mode == "CMYK" else "in.png")
    src.save(path)
    loaded = imageio.load_image(path)
    assert loaded.pixels.shape == (photo.shape[0], photo.shape[1], 3)
    assert loaded.meta.gray == gray
    assert (loaded.alpha is not None) == alpha
    out = tmp_path / "out.png"
    imageio.save_image(out, loaded.pixels, loaded.alpha, loaded.meta)
    back = imageio.load_image(out)
    assert np.array_equal(back.pixels, loaded.pixels), "a lossless round trip keeps every pixel"
    if alpha:
        assert np.array_equal(back.alpha, loaded.alpha)
    if mode in ("L", "I;16"):
        assert Image.open(out).mode == ("L" if mode == "L" else "I;16"), "grayscale stays grayscale"


def test_sixteen_bit_colour_round_trips(tmp_path):
    import cv2

    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 65535, (30, 40, 3), dtype=np.uint16)
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), bgr)
    loaded = imageio.load_image(path)
    assert loaded.pixels.dtype == np.uint16 and np.array_equal(loaded.pixels, bgr[..., ::-1])
    meta = imageio.ImageMeta(icc=_srgb_icc(), bit_depth=16, mode="RGB;16")
    out = tmp_path / "deep-out.png"
    imageio.save_image(out, loaded.pixels, None, meta)
    again = imageio.load_image(out)
    assert np.array_equal(again.pixels, loaded.pixels)
    assert again.meta.icc == meta.icc


@pytest.mark.parametrize(
    "content,reason",
    [(b"", "empty"), (b"this is not a picture", "not an image"), (None, "damaged or truncated")],
)
def test_bad_files_give_clear_errors(tmp_path, photo_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content if content is not None else photo_path.read_bytes()[:2000])
    with pytest.raises(ImageLoadError, match=reason):
        imageio.load_image(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        imageio.load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        imageio.load_image(tmp_path)


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    Image.new("L", (3000, 2000)).save(path)
    with pytest.raises(ImageLoadError, match="megapixels"):
        imageio.load_image(path, max_pixels=5_000_000)
    assert imageio.load_image(path, max_pixels=None).pixels.shape == (2000, 3000, 3)


def test_binary_map_threshold_and_size(tmp_path):
    values = np.array([[0, 127, 128, 255]], np.uint8)
    path = tmp_path / "m.png"
    Image.fromarray(values).save(path)
    assert imageio.load_binary_map(path, (4, 1), "mask").tolist() == [[False, False, True, True]]
    with pytest.raises(ImageLoadError, match="same size"):
        imageio.load_binary_map(path, (5, 1), "mask")


def test_save_refuses_unknown_formats_and_missing_folders(tmp_path, photo):
    with pytest.raises(ImageSaveError, match="cannot save as"):
        imageio.save_image(tmp_path / "x.xyz", photo)
    with pytest.raises(ImageSaveError, match="does not exist"):
        imageio.save_image(tmp_path / "missing" / "x.png", photo)


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, photo, monkeypatch):
    out = tmp_path / "keep.png"
    out.write_bytes(b"old content")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(imageio, "_encode", broken)
    with pytest.raises(ImageSaveError, match="No space left"):
        imageio.save_image(out, photo)
    assert out.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def _zero_a_block(data: bytes, at: float = 0.5, size: int = 4096) -> bytes:
    damaged = bytearray(data)
    start = int(len(damaged) * at)
    damaged[start : start + size] = bytes(size)
    return bytes(damaged)


def test_a_png_with_a_corrupt_data_stream_is_an_error_not_a_partial_picture(tmp_path, photo):
    # Reading EXIF makes Pillow decode a PNG; the decode error must not be swallowed there and leave a
    # picture whose lower rows are black.
    path = tmp_path / "good.png"
    Image.fromarray(photo).save(path)
    damaged = _zero_a_block(path.read_bytes())
    with pytest.raises(ImageLoadError, match="damaged"):
        imageio.decode_image(damaged, name="damaged.png")
    mask = tmp_path / "mask.png"
    mask.write_bytes(damaged)
    with pytest.raises(ImageLoadError, match="damaged"):
        imageio.load_binary_map(mask, (photo.shape[1], photo.shape[0]), "the mask")


@pytest.mark.parametrize("kind", ["CMYK", "F"])
def test_cmyk_and_float_tiffs_give_tiffs_that_open(tmp_path, photo, kind):
    # Pillow's EXIF of a TIFF is its whole first IFD: the source's layout tags (bits per sample, colour
    # model, sample format, strip offsets) must not be copied into a new file of another layout.
    src = tmp_path / f"{kind}.tif"
    exif = Image.Exif()
    exif[0x010F] = "TestCamera"
    if kind == "F":
        Image.fromarray(photo[..., 1].astype(np.float32), "F").save(src, exif=exif.tobytes())
    else:
        Image.fromarray(photo).convert("CMYK").save(src, exif=exif.tobytes())
    loaded = imageio.load_image(src)
    out = tmp_path / "out.tif"
    imageio.save_image(out, loaded.pixels, loaded.alpha, loaded.meta)
    with Image.open(out) as reread:
        assert np.array_equal(np.asarray(reread.convert("RGB")), imageio.load_image(out).pixels)
        assert reread.getexif().get(0x010F) == "TestCamera", "descriptive tags are kept"
    assert np.array_equal(imageio.load_image(out).pixels, loaded.pixels)


def test_a_mask_of_another_declared_size_is_refused_before_decoding(tmp_path, monkeypatch):
    # A few kilobytes can declare 20000 x 20000 pixels; masks and sketches have no pixel limit of their
    # own, so their declared size is checked against the photo's before anything is decoded.
    path = tmp_path / "bomb.png"
    Image.new("1", (3000, 2000)).save(path)
    Image.new("1", (20, 30)).save(tmp_path / "rotated.png")

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the mask was decoded")

    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    with pytest.raises(ImageLoadError, match="3000x2000 but the image is 40x30; they must be the same size"):
        imageio.load_binary_map(path, (40, 30), "the mask")
    with pytest.raises(AssertionError):  # a map of the photo's size, or of its rotated size, is decoded
        imageio.load_binary_map(tmp_path / "rotated.png", (30, 20), "the mask")
