"""Fuzzing the image loader with a fixed seed: truncated, bit-flipped, overwritten and mis-labelled files,
non-images with image extensions, decompression bombs and empty files, made from the real fixture photos in
eight encodings. Every case must either load as a valid image or raise ImageLoadError; anything else (another
exception type) is a failure. A few also go through Document.open and the `fill` command."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaintstudio.cli import main
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import imageio
from inpaintstudio.errors import ImageLoadError

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEED = 20240611
FUZZ_LIMIT = 4_000_000  # pixels: a flipped size field may not make a case decode a huge image
EXTENSIONS = (".jpg", ".png", ".webp", ".tif", ".gif", ".bmp")


@cache
def bases() -> dict[str, tuple[str, bytes]]:
    """name -> (extension, bytes): each fixture photo in eight encodings (small, so decoding is fast)."""
    out: dict[str, tuple[str, bytes]] = {}
    for photo in sorted(FIXTURES.glob("*.jpg")):
        stem = photo.stem
        out[f"{stem}.jpg"] = (".jpg", photo.read_bytes())
        im = Image.open(photo).convert("RGB")
        im.thumbnail((72, 72))
        rgb = np.asarray(im)

        def encode(image: Image.Image, fmt: str, **options) -> bytes:
            buffer = io.BytesIO()
            image.save(buffer, fmt, **options)
            return buffer.getvalue()

        rgba = np.dstack([rgb, np.linspace(0, 255, rgb.shape[1], dtype=np.uint8)[None].repeat(rgb.shape[0], 0)])
        out[f"{stem}.png"] = (".png", encode(im, "PNG"))
        out[f"{stem}-rgba.png"] = (".png", encode(Image.fromarray(rgba, "RGBA"), "PNG"))
        ok, png16 = cv2.imencode(".png", (rgb[..., ::-1].astype(np.uint16) * 257))
        assert ok
        out[f"{stem}-16.png"] = (".png", png16.tobytes())
        out[f"{stem}.webp"] = (".webp", encode(im, "WEBP", quality=80))
        out[f"{stem}.tif"] = (".tif", encode(im, "TIFF", compression="tiff_lzw"))
        out[f"{stem}.gif"] = (".gif", encode(im.convert("P"), "GIF"))
        out[f"{stem}.bmp"] = (".bmp", encode(im, "BMP"))
    return out


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _jpeg_claiming(jpeg: bytes, width: int, height: int) -> bytes:
    data = bytearray(jpeg)
    for marker in (b"\xff\xc0", b"\xff\xc2"):  # baseline or progressive frame header
        at = data.find(marker)
        if at > 0:
            struct.pack_into(">HH", data, at + 5, height, width)
            return bytes(data)
    raise AssertionError("no SOF marker")


def truncations() -> Iterator[tuple[str, str, bytes]]:
    for name, (ext, data) in bases().items():
        for cut in sorted({1, 8, 24, 57, len(data) // 4, len(data) // 2, len(data) - 40, len(data) - 1}):
            yield f"{name} cut at {cut}", ext, data[:cut]


def bit_flips() -> Iterator[tuple[str, str, bytes]]:
    rng = np.random.default_rng(SEED)
    for name, (ext, data) in bases().items():
        for flips in (1, 1, 2, 3, 4, 8, 16, 64):
            mutated = bytearray(data)
            # Half the flips hit the first 512 bytes, where the headers are.
            for _ in range(flips):
                span = 512 if rng.random() < 0.5 else len(data)
                at = int(rng.integers(0, min(span, len(data))))
                mutated[at] ^= 1 << int(rng.integers(0, 8))
            yield f"{name} with {flips} bit flips", ext, bytes(mutated)


def overwrites() -> Iterator[tuple[str, str, bytes]]:
    rng = np.random.default_rng(SEED + 1)
    for name, (ext, data) in bases().items():
        for length in (1, 4, 32, 300):
            mutated = bytearray(data)
            at = int(rng.integers(0, max(1, len(data) - length)))
            mutated[at : at + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()[: len(data) - at]
            yield f"{name} overwritten at {at} ({length} bytes)", ext, bytes(mutated)
            mutated = bytearray(data)
            mutated[at : at + length] = b"\xff" * len(mutated[at : at + length])
            yield f"{name} 0xff at {at} ({length} bytes)", ext, bytes(mutated)


def mislabelled() -> Iterator[tuple[str, str, bytes]]:
    """Real images under another format's extension: they load (the content decides), or fail cleanly."""
    rng = np.random.default_rng(SEED + 2)
    for name, (ext, data) in bases().items():
        if name.startswith("chickens"):
            for other in EXTENSIONS:
                if other != ext:
                    yield f"{name} named {other}", other, data
    junk = {
        "text": b"hello, this is not a photo\n" * 20,
        "html": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(60),
        "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "elf": b"\x7fELF\x02\x01\x01" + bytes(57),
        "random": rng.integers(0, 256, 2000, dtype=np.uint8).tobytes(),
        "png signature only": b"\x89PNG\r\n\x1a\n",
        "jpeg markers only": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\xff\xd9",
        "gif header only": b"GIF89a\x10\x00\x10\x00",
        "bmp header only": b"BM" + bytes(12),
        "tiff header only": b"II*\x00\x08\x00\x00\x00",
        "riff webp header only": b"RIFF\x10\x00\x00\x00WEBPVP8 ",
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "nul bytes": bytes(4096),
    }
    for i, (what, content) in enumerate(junk.items()):
        ext = EXTENSIONS[i % len(EXTENSIONS)]
        yield f"{what} as {ext}", ext, content
        yield f"{what} as {EXTENSIONS[(i + 3) % len(EXTENSIONS)]}", EXTENSIONS[(i + 3) % len(EXTENSIONS)], content


OTHER_FORMATS = ("EPS", "ICO", "TGA", "PPM", "PCX", "SGI", "MSP", "DDS", "QOI", "JPEG2000", "BLP")


def other_formats() -> Iterator[tuple[str, str, bytes]]:
    """Formats Pillow reads but the app does not offer (EPS would run Ghostscript): refused by content."""
    im = Image.open(FIXTURES / "chickens.jpg").convert("RGB")
    im.thumbnail((40, 40))
    for fmt in OTHER_FORMATS:
        buffer = io.BytesIO()
        try:
            (im.convert("1") if fmt == "MSP" else im).save(buffer, fmt)
        except (OSError, KeyError, ValueError):  # pragma: no cover - a writer this Pillow lacks
            continue
        for ext in (".jpg", ".png"):
            yield f"{fmt} named {ext}", ext, buffer.getvalue()


def bombs() -> Iterator[tuple[str, str, bytes]]:
    """Headers claiming enormous sizes: refused from the header under the default pixel limit."""
    jpeg = bases()["chickens.jpg"][1]
    yield "png 100000 x 100000", ".png", _png_claiming(100_000, 100_000)
    yield "png 2^31-1 wide", ".png", _png_claiming(2**31 - 1, 1)
    yield "png 0 x 0", ".png", _png_claiming(0, 0)
    yield "jpeg 65500 x 65500", ".jpg", _jpeg_claiming(jpeg, 65_500, 65_500)
    yield "jpeg 0 x 0", ".jpg", _jpeg_claiming(jpeg, 0, 0)
    yield "gif 65535 x 65535", ".gif", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00" + b"\x3b"
    bmp_header = b"BM" + struct.pack("<IHHI", 0, 0, 0, 54)
    yield (
        "bmp 60000 x 60000",
        ".bmp",
        bmp_header + struct.pack("<IiiHHIIiiII", 40, 60000, 60000, 1, 24, 0, 0, 0, 0, 0, 0),
    )
    tiff = bytearray(bases()["chickens.tif"][1])
    yield "tiff original", ".tif", bytes(tiff)


def empties() -> Iterator[tuple[str, str, bytes]]:
    for ext in (*EXTENSIONS, ".jpeg", ".tiff", ""):
        yield f"zero bytes {ext or 'no extension'}", ext, b""
        yield f"one byte {ext or 'no extension'}", ext, b"\xff"


CATEGORIES = {
    "truncated": truncations,
    "bit flips": bit_flips,
    "overwritten": overwrites,
    "mislabelled": mislabelled,
    "other formats": other_formats,
    "bombs": bombs,
    "empty": empties,
}


def _check_loaded(loaded: imageio.LoadedImage) -> str | None:
    pixels, alpha = loaded.pixels, loaded.alpha
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
        return f"bad pixel array {getattr(pixels, 'shape', None)}"
    if pixels.dtype not in (np.uint8, np.uint16) or min(pixels.shape[:2]) < 1:
        return f"bad pixel dtype or size {pixels.dtype} {pixels.shape}"
    if alpha is not None and (alpha.shape != pixels.shape[:2] or alpha.dtype != pixels.dtype):
        return f"alpha {alpha.shape} {alpha.dtype} does not match {pixels.shape} {pixels.dtype}"
    if not isinstance(loaded.meta, imageio.ImageMeta):
        return "no metadata"
    return None


def run_cases(tmp_path: Path, cases, max_pixels: int | None) -> tuple[int, int, list[str]]:
    loaded = refused = 0
    failures: list[str] = []
    for index, (name, ext, data) in enumerate(cases):
        path = tmp_path / f"case{index}{ext}"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings(record=True) as caught:  # nothing may reach the user's terminal
                result = imageio.load_image(path, max_pixels=max_pixels)
            if caught:
                failures.append(f"{name}: warning {caught[0].category.__name__}: {caught[0].message}")
        except ImageLoadError as exc:
            refused += 1
            if not str(exc) or "\n" in str(exc) or str(path) not in str(exc):
                failures.append(f"{name}: unclear message {str(exc)!r}")
        except BaseException as exc:  # noqa: BLE001 - exactly what the fuzzing looks for
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            loaded += 1
            problem = _check_loaded(result)
            if problem:
                failures.append(f"{name}: {problem}")
        path.unlink()
    return loaded, refused, failures


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_fuzzed_files_load_or_raise_image_load_error(tmp_path, category):
    cases = list(CATEGORIES[category]())
    limit = imageio.DEFAULT_MAX_PIXELS if category == "bombs" else FUZZ_LIMIT
    loaded, refused, failures = run_cases(tmp_path, cases, limit)
    assert not failures, "\n".join(failures)
    assert loaded + refused == len(cases)
    if category in ("bombs", "empty", "other formats"):
        assert loaded == (1 if category == "bombs" else 0)  # of the bombs, only the intact TIFF loads
    if category == "other formats":
        assert refused >= 16
        with pytest.raises(ImageLoadError, match="not an image file in a format InpaintStudio can read"):
            imageio.decode_image(next(d for n, _, d in cases if n.startswith("EPS")), name="eps.jpg")


def test_case_counts():
    counts = {name: len(list(make())) for name, make in CATEGORIES.items()}
    assert sum(counts.values()) >= 300, counts


def test_a_small_file_holding_a_huge_image_is_refused_before_decoding(tmp_path):
    buffer = io.BytesIO()
    Image.new("L", (3000, 3000)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 50_000
    path = tmp_path / "bomb.png"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImageLoadError, match="above the limit"):
        imageio.load_image(path, max_pixels=1_000_000)


def test_hostile_files_through_the_document_and_the_fill_command(tmp_path, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(good)
    mask = tmp_path / "mask.png"
    Image.fromarray(np.full((24, 32), 255, np.uint8)).save(mask)
    jpeg = bases()["chickens.jpg"][1]
    hostile = {
        "truncated.jpg": jpeg[: len(jpeg) // 3],
        "pdf.png": b"%PDF-1.7\n%%EOF\n",
        "bomb.png": _png_claiming(100_000, 100_000),
        "empty.jpg": b"",
        "flipped.png": bytes(bytearray(bases()["chickens.png"][1])[:40]) + b"\x00" * 200,
    }
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, data in hostile.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ImageLoadError):
            Document.open(path)
        out = out_dir / "result.png"
        for argv in (
            ["fill", str(path), "--mask", str(mask), "-o", str(out), "--model", "telea"],
            ["fill", str(good), "--mask", str(path), "-o", str(out), "--model", "telea"],
        ):
            assert main(argv) == 1
            err = capsys.readouterr().err
            assert err.startswith("inpaintstudio: error: ") and err.count("\n") == 1, err
            assert name in err
            assert list(out_dir.iterdir()) == [], "no output and no temporary file is left"
