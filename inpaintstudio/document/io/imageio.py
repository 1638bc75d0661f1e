"""Reading and writing photos, masks and sketches, keeping what the user's file carried.

Every input is turned into H x W x 3 RGB pixels (uint8, or uint16 for 16-bit files) plus an optional
alpha channel, with the EXIF orientation applied. What is needed to write the result back faithfully is
kept in :class:`ImageMeta`: EXIF (orientation reset to "normal", since the pixels are now upright), the
ICC profile, XMP (its orientation reset too), IPTC / Photoshop resources, PNG text chunks and comments,
whether the source was grayscale, and its bit depth. Saving writes each where the format can carry it
(XMP and EXIF then state the output's pixel size) and names what it could not in one note (see
:func:`save_image`). Every failure is an
:class:`~inpaintstudio.errors.ImageLoadError` / :class:`~inpaintstudio.errors.ImageSaveError` whose
message names the file and the reason; nothing is ever written in place of a good file.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, TiffImagePlugin, TiffTags, UnidentifiedImageError

from inpaintstudio.atomic import atomic_write_bytes
from inpaintstudio.document.io import metadata
from inpaintstudio.document.io.metadata import TextChunk
from inpaintstudio.errors import ImageLoadError, ImageSaveError

# The decompression-bomb guard is ours (checked from the header, before decoding, and overridable);
# Pillow's own global guard would refuse legitimate 100-megapixel panoramas with a less clear message.
Image.MAX_IMAGE_PIXELS = None
# OpenCV's own warnings (e.g. about TIFF extra samples) would reach the user's terminal; errors still do.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
DEFAULT_MAX_PIXELS = 120_000_000
# Only the formats the app offers to open are decoded, whatever a file's name: Pillow's other readers are
# never reached by a file's content (EPS would hand PostScript to Ghostscript; PSD, FITS, ... are needless
# attack surface). A file in another format is "not an image file in a format InpaintStudio can read".
READ_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP")
# Pillow warns about damaged metadata ("Corrupt EXIF data", "Truncated File Read") on stderr; a damaged file
# gets its one clear ImageLoadError instead (or opens, without the damaged metadata).
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

EXIF_ORIENTATION = 0x0112
# TIFF tags that describe how a file stores its pixels (size, samples, colour model, compression, strips
# and tiles, colour map, embedded ICC and layers). Pillow's EXIF of a TIFF is the file's whole first IFD,
# and a TIFF written with EXIF takes those tags over its own: a CMYK or float source's tags would describe
# pixels the new file does not have. They are never kept as EXIF; the descriptive tags are.
TIFF_LAYOUT_TAGS = frozenset(
    [254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 277, 278, 279, 280, 281, 284, 288, 289]
    + [290, 291, 292, 293, 301, 317, 318, 319, 320, 321, 322, 323, 324, 325, 330, 332, 333, 334, 336, 337]
    + [338, 339, 340, 341, 342, 347, *range(512, 522), 529, 530, 531, 532, 32995, 32996, 32997, 32998]
    + [34675, 37724]
)
XMP_TAG, IPTC_TAG, PHOTOSHOP_TAG = 700, 33723, 34377  # TIFF tags kept in ImageMeta's own fields, not as EXIF
SEPARATE_TAGS = frozenset([XMP_TAG, IPTC_TAG, PHOTOSHOP_TAG])
EXIF_IFD, EXIF_WIDTH, EXIF_HEIGHT = 0x8769, 0xA002, 0xA003
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT, ICC_TAG = 282, 283, 296, 34675
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
OPEN_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif)"
SizeCheck = Callable[[int, int], None]  # called with a file's declared (width, height) before decoding
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, zlib.error)


@dataclass(frozen=True)
class ImageMeta:
    format: str | None = None  # "JPEG", "PNG", ... of the source file
    mode: str = "RGB"  # the source's pixel layout, e.g. "L", "P", "CMYK", "RGB;16"
    exif: bytes | None = None  # with orientation already reset to 1
    icc: bytes | None = None
    gray: bool = False  # write back as grayscale
    bit_depth: int = 8
    dpi: tuple[float, float] | None = None
    orientation: int = 1  # the EXIF orientation the stored pixels had (already applied)
    xmp: bytes | None = None  # the XMP packet, with tiff:Orientation already reset to 1
    photoshop: bytes | None = None  # Photoshop image resources (8BIM blocks; IPTC is 0x0404), thumbnails dropped
    text: tuple[TextChunk, ...] = ()  # PNG tEXt / zTXt / iTXt chunks but XMP; JPEG and GIF comments as "Comment"


@dataclass(frozen=True)
class LoadedImage:
    pixels: np.ndarray  # H x W x 3, uint8 or uint16, RGB
    alpha: np.ndarray | None  # H x W of the same dtype, or None
    meta: ImageMeta


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Make pixels stored with an EXIF orientation upright (same results as Pillow's exif_transpose)."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return array if op is None else np.ascontiguousarray(op(array))


def _sixteen_bit_colour(im: Image.Image, data: bytes) -> bool:
    """Pillow reads 16-bit RGB(A) PNG and TIFF as 8-bit; detect them so OpenCV decodes them instead."""
    if im.mode not in ("RGB", "RGBA"):
        return False
    if im.format == "PNG":
        return len(data) > 24 and data[24] == 16  # IHDR bit depth
    if im.format == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258)
        return bool(bits) and max(bits if isinstance(bits, tuple) else (bits,)) == 16
    return False


def _clean_exif(im: Image.Image) -> bytes | None:
    try:
        exif = im.getexif()
        for tag in (TIFF_LAYOUT_TAGS | SEPARATE_TAGS).intersection(exif):
            del exif[tag]
        if not exif:
            return None
        if EXIF_ORIENTATION in exif:
            exif[EXIF_ORIENTATION] = 1
        return exif.tobytes()
    except Exception:  # broken EXIF must not stop the photo from opening; it is simply not kept
        return None


def _tag_bytes(value: object, endian: str = "<") -> bytes | None:
    """A TIFF / EXIF tag's value as bytes (BYTE and UNDEFINED come as bytes, LONG as a tuple of ints)."""
    if isinstance(value, bytes):
        return value or None
    if isinstance(value, str):
        return value.encode("utf-8") or None
    if isinstance(value, tuple) and value and all(isinstance(v, int) and 0 <= v < 1 << 32 for v in value):
        return struct.pack(f"{endian}{len(value)}I", *value)
    return None


def _extra_metadata(im: Image.Image, data: bytes) -> tuple[bytes | None, bytes | None, tuple[TextChunk, ...]]:
    """(XMP, Photoshop resources, text chunks) of an open image whose file is ``data``; damaged parts are
    left out. Call before :func:`_clean_exif`, which removes the tags read here from the EXIF."""
    try:
        exif = im.getexif()
    except Exception:
        exif = Image.Exif()
    endian = getattr(exif, "endian", None) or "<"
    xmp: bytes | None = None
    text: list[TextChunk] = []
    if im.format == "PNG":
        raw_xmp = None
        for chunk, raw in metadata.read_png_text(data):
            profile = chunk.key.lower()
            if chunk.key == metadata.XMP_KEY:
                xmp = xmp or raw or None
            elif profile == "raw profile type xmp" and (decoded := metadata.raw_profile(chunk.value)):
                raw_xmp = raw_xmp or decoded
            elif profile != "raw profile type exif":  # Pillow reads that as the EXIF, kept (upright) there
                text.append(chunk)
        xmp = xmp or raw_xmp
    else:
        xmp = _tag_bytes(im.info.get("xmp"))
        applist = getattr(im, "applist", [])
        comments = [s for marker, s in applist if marker == "COM"] if im.format == "JPEG" else [im.info.get("comment")]
        text = [metadata.text_from_comment(c) for c in comments if isinstance(c, bytes) and c]
    xmp = xmp or _tag_bytes(exif.get(XMP_TAG), endian)
    if xmp is not None:
        xmp = metadata.xmp_with(xmp, orientation=1)
    header = metadata.PHOTOSHOP_HEADER  # JPEG APP13 segments, one resource stream across them
    app13 = [s[len(header) :] for marker, s in getattr(im, "applist", []) if marker == "APP13" and s.startswith(header)]
    resources = b"".join(app13) or _tag_bytes(exif.get(PHOTOSHOP_TAG), endian) or b""
    photoshop = metadata.photoshop_resources(resources, _tag_bytes(exif.get(IPTC_TAG), endian))
    return xmp, photoshop, tuple(text)


def _pixels_from_pil(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None, bool, int, str]:
    """(rgb, alpha, gray, bit_depth, mode) from any Pillow mode."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.clip(np.asarray(im, dtype=np.int64), 0, 65535).astype(np.uint16)
        return np.repeat(arr[..., None], 3, axis=2), None, True, 16, mode
    if mode == "F":
        arr = np.clip(np.asarray(im, dtype=np.float32), 0, 255).round().astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2), None, True, 8, mode
    if mode in ("1", "L"):
        arr = np.asarray(im.convert("L"))
        return np.repeat(arr[..., None], 3, axis=2), None, True, 8, mode
    if mode in ("LA", "La"):
        arr = np.asarray(im.convert("LA"))
        return np.repeat(arr[..., :1], 3, axis=2), arr[..., 1].copy(), True, 8, mode
    has_alpha = mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in im.info)
    arr = np.asarray(im.convert("RGBA" if has_alpha else "RGB"))
    if has_alpha:
        return np.ascontiguousarray(arr[..., :3]), arr[..., 3].copy(), False, 8, mode
    return arr, None, False, 8, mode


def megapixels(pixels: int) -> str:
    """'120', '3', '0.25': a pixel count in megapixels, for messages."""
    value = pixels / 1e6
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def check_pixel_limit(name: str, width: int, height: int, max_pixels: int | None) -> None:
    """Refuse a picture of ``width`` x ``height`` above ``max_pixels`` (None: no limit), before decoding."""
    if max_pixels and width * height > max_pixels:
        raise ImageLoadError(
            f"{name} is {width}x{height} ({megapixels(width * height)} megapixels), above the limit of "
            f"{megapixels(max_pixels)} megapixels (raise it with --max-pixels, or --no-pixel-limit)"
        )


def load_image(
    path: Path | str, *, max_pixels: int | None = DEFAULT_MAX_PIXELS, check_size: SizeCheck | None = None
) -> LoadedImage:
    """Read any common image file; raise ImageLoadError with a clear reason otherwise.

    ``check_size(width, height)`` is called with the size the file declares, before anything is decoded.
    """
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageLoadError(f"{path} is a folder, not an image")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageLoadError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    return decode_image(data, name=str(path), max_pixels=max_pixels, check_size=check_size)


def decode_image(
    data: bytes,
    *,
    name: str = "image",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    check_size: SizeCheck | None = None,
) -> LoadedImage:
    if not data:
        raise ImageLoadError(f"{name} is empty (0 bytes)")
    try:
        im = Image.open(io.BytesIO(data), formats=READ_FORMATS)
    except UnidentifiedImageError:
        raise ImageLoadError(f"{name} is not an image file in a format InpaintStudio can read") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(f"{name} is damaged: {exc}") from exc
    with im:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise ImageLoadError(f"{name} has no pixels ({width}x{height})")
        check_pixel_limit(name, width, height, max_pixels)
        if check_size is not None:
            check_size(width, height)
        try:
            # Decode first: reading a PNG's EXIF decodes its pixels too, and a decode error raised there
            # would be swallowed below with the broken EXIF, leaving a partly black picture behind.
            im.load()
            if _sixteen_bit_colour(im, data):
                rgb, alpha, gray, depth, mode = _decode_16bit_colour(data, name)
            else:
                rgb, alpha, gray, depth, mode = _pixels_from_pil(im)
        except MemoryError as exc:
            raise ImageLoadError(f"{name} is too large to fit in memory ({width}x{height})") from exc
        except _DECODE_ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            raise ImageLoadError(f"{name} is damaged or truncated: {reason}") from exc
        try:
            orientation = int(im.getexif().get(EXIF_ORIENTATION, 1) or 1)
        except Exception:  # broken EXIF: the pixels are stored upright as far as anyone can tell
            orientation = 1
        icc = im.info.get("icc_profile") if mode != "CMYK" else None  # a CMYK profile does not fit RGB
        dpi = im.info.get("dpi")
        xmp, photoshop, text = _extra_metadata(im, data)
        meta = ImageMeta(
            format=im.format,
            mode=mode,
            exif=_clean_exif(im),
            icc=icc,
            gray=gray,
            bit_depth=depth,
            dpi=tuple(float(v) for v in dpi) if isinstance(dpi, tuple) and len(dpi) == 2 else None,
            orientation=orientation,
            xmp=xmp,
            photoshop=photoshop,
            text=text,
        )
    rgb = apply_orientation(rgb, orientation)
    alpha = None if alpha is None else apply_orientation(alpha, orientation)
    return LoadedImage(rgb, alpha, meta)


def _decode_16bit_colour(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray | None, bool, int, str]:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 3:
        raise ImageLoadError(f"{name} is a 16-bit image that could not be decoded")
    if arr.shape[2] == 4:
        return np.ascontiguousarray(arr[..., 2::-1]), arr[..., 3].copy(), False, 16, "RGBA;16"
    return np.ascontiguousarray(arr[..., ::-1]), None, False, 16, "RGB;16"


def load_binary_map(path: Path | str, size: tuple[int, int], what: str, orientation: int = 1) -> np.ndarray:
    """Read a mask or sketch image: white (>= 50 %) is set. ``size`` is the photo's (width, height).

    A map drawn on the stored (un-rotated) photo is rotated like the photo, so both conventions work.
    A map that declares another size is refused before it is decoded (a small file can declare billions
    of pixels, and maps have no pixel limit of their own).
    """
    w, h = size

    def wrong_size(map_w: int, map_h: int) -> ImageLoadError:
        return ImageLoadError(f"{what} {path} is {map_w}x{map_h} but the image is {w}x{h}; they must be the same size")

    def check_size(map_w: int, map_h: int) -> None:
        if (map_w, map_h) not in ((w, h), (h, w)):  # either orientation may fit, once its own EXIF is applied
            raise wrong_size(map_w, map_h)

    loaded = load_image(path, max_pixels=None, check_size=check_size)
    pixels = loaded.pixels.astype(np.float32)
    if loaded.alpha is not None:  # transparent areas of a mask painted on a layer count as "not set"
        pixels *= loaded.alpha[..., None].astype(np.float32) / (65535.0 if loaded.meta.bit_depth == 16 else 255.0)
    full = 65535.0 if loaded.meta.bit_depth == 16 else 255.0
    binary = pixels.mean(axis=2) >= 0.5 * full
    if binary.shape == (h, w):
        return binary
    raw = apply_orientation(binary, orientation) if orientation != 1 else binary
    if raw.shape == (h, w):
        return raw
    raise wrong_size(binary.shape[1], binary.shape[0])


# -- saving -----------------------------------------------------------------------------------------


def format_for(path: Path | str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SAVE_FORMATS:
        allowed = ", ".join(sorted(SAVE_FORMATS))
        raise ImageSaveError(f"cannot save as '{suffix or Path(path).name}': use one of {allowed}")
    return SAVE_FORMATS[suffix]


def to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)


FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "TIFF": "TIFF"}


@dataclass(frozen=True)
class _Outgoing:
    """The metadata one file gets: what ``fmt`` can carry of ``meta``, brought up to date, and what not."""

    exif: bytes | None
    xmp: bytes | None
    photoshop: bytes | None
    text: tuple[TextChunk, ...]  # PNG text chunks, or a JPEG's comments
    left_out: tuple[str, ...]  # what the file cannot carry, in words


def _exif_sized(exif: bytes, size: tuple[int, int]) -> bytes:
    """EXIF whose PixelXDimension / PixelYDimension, where it has them, are ``size``."""
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        ifd = parsed.get_ifd(EXIF_IFD)
        wanted = {EXIF_WIDTH: size[0], EXIF_HEIGHT: size[1]}
        stale = {tag: value for tag, value in wanted.items() if tag in ifd and ifd[tag] != value}
        if not stale:
            return exif
        ifd.update(stale)
        return parsed.tobytes()
    except Exception:  # EXIF Pillow cannot rewrite is kept as it was
        return exif


def _keys(chunks: list[TextChunk] | tuple[TextChunk, ...]) -> str:
    keys = list(dict.fromkeys(c.key for c in chunks))
    if keys == ["Comment"]:
        return "comment"
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return f"text chunks ({shown})"


def _outgoing(meta: ImageMeta, fmt: str, size: tuple[int, int]) -> _Outgoing:
    exif = _exif_sized(meta.exif, size) if meta.exif else None
    xmp = metadata.xmp_with(meta.xmp, size=size) if meta.xmp else None
    photoshop, text, left_out = meta.photoshop, meta.text, []
    if fmt == "JPEG":  # every segment holds at most 64 KB; JPEG has comments but no other text
        if exif and len(exif) > metadata.JPEG_SEGMENT_DATA:
            exif = None
            left_out.append("EXIF (larger than a JPEG segment)")
        if xmp and len(xmp) > metadata.JPEG_SEGMENT_DATA - len(metadata.JPEG_XMP_HEADER):
            xmp = None
            left_out.append("XMP (larger than a JPEG segment; extended XMP is not written)")
        comments = tuple(c for c in text if c.key == "Comment")
        fitting = tuple(c for c in comments if len(metadata.comment_bytes(c)) <= metadata.JPEG_SEGMENT_DATA)
        others = [c for c in text if c not in fitting]
        if others:
            left_out.append(_keys(others))
        text = fitting
    elif fmt == "PNG":
        if photoshop:
            left_out.append("IPTC / Photoshop data")
        photoshop = None
    else:  # WebP and TIFF have no text chunks; WebP has no IPTC / Photoshop data and no DPI of its own
        if text:
            left_out.append(_keys(text))
        text = ()
        if fmt == "WEBP":
            if photoshop:
                left_out.append("IPTC / Photoshop data")
            photoshop = None
            if meta.dpi and not (exif and X_RESOLUTION in _exif_tags(exif)):
                left_out.append("the resolution (DPI)")
    return _Outgoing(exif, xmp, photoshop, text, tuple(left_out))


def _exif_tags(exif: bytes) -> Image.Exif:
    parsed = Image.Exif()
    try:
        parsed.load(exif)
    except Exception:
        pass
    return parsed


def metadata_note(meta: ImageMeta, fmt: str, left_out: tuple[str, ...] | list[str]) -> str | None:
    """One sentence naming what a ``fmt`` file could not carry of ``meta`` (None: it carries everything),
    with a format that would have kept it all, when there is one."""
    if not left_out:
        return None
    items = list(left_out)
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    keeps = [  # the size given does not change what a format can carry
        FORMAT_NAMES[other]
        for other in ("PNG", "TIFF", "JPEG", "WEBP")
        if other != fmt and not _outgoing(meta, other, (1, 1)).left_out
    ]
    hint = f" ({keeps[0]} would keep all of it)" if keeps else ""
    return f"{FORMAT_NAMES.get(fmt, fmt)} cannot carry the input's {listed}: left out{hint}"


def _encode(
    pixels: np.ndarray, alpha: np.ndarray | None, meta: ImageMeta, fmt: str, *, quality: int = 95
) -> tuple[bytes, tuple[str, ...]]:
    """The encoded file and what of ``meta`` it could not carry (see :func:`metadata_note`)."""
    sixteen = pixels.dtype == np.uint16 and fmt in ("PNG", "TIFF")
    if not sixteen:
        pixels = to_uint8(pixels)
        alpha = None if alpha is None else to_uint8(alpha)
    if fmt == "JPEG":
        alpha = None  # JPEG has no alpha channel
    if meta.gray:
        # Unchanged gray pixels have R = G = B, so this gives back exactly their original value.
        lum = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        channels = [np.clip(lum.round(), 0, 65535 if sixteen else 255).astype(pixels.dtype)]
    else:
        channels = [pixels[..., i] for i in range(3)]
    if alpha is not None:
        channels.append(alpha)
    stacked = np.dstack(channels) if len(channels) > 1 else channels[0]
    out = _outgoing(meta, fmt, (int(pixels.shape[1]), int(pixels.shape[0])))
    if sixteen and stacked.ndim == 3:
        return _encode_16bit_colour(stacked, meta, out, fmt)
    im = Image.fromarray(stacked)  # 2-D uint16 becomes Pillow's "I;16", which PNG and TIFF store
    options: dict[str, object] = {}
    if meta.icc:
        options["icc_profile"] = meta.icc
    if out.exif and fmt != "TIFF":
        options["exif"] = out.exif
    if meta.dpi and fmt in ("JPEG", "PNG", "TIFF"):
        options["dpi"] = meta.dpi
    if fmt == "JPEG":
        options.update(quality=int(quality), subsampling=0 if quality >= 90 else 2, optimize=True)
        if out.xmp:
            options["xmp"] = out.xmp
        extra = metadata.photoshop_app13(out.photoshop) if out.photoshop else b""
        options["extra"] = extra + b"".join(metadata.jpeg_segment(0xFFFE, metadata.comment_bytes(c)) for c in out.text)
    elif fmt == "PNG":
        options["pnginfo"] = _png_info(out)
    elif fmt == "WEBP":
        options.update(quality=int(quality), method=4)
        if out.xmp:
            options["xmp"] = out.xmp
    elif fmt == "TIFF":
        options["compression"] = "tiff_lzw"
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    if fmt == "TIFF":  # libtiff cannot write EXIF's sub-directories: the tags are added afterwards
        return _tiff_with_metadata(buffer.getvalue(), out, {})
    return buffer.getvalue(), out.left_out


def _png_text_chunks(out: _Outgoing) -> list[tuple[bytes, bytes]]:
    """The XMP packet (uncompressed iTXt, as the XMP specification asks) and the text chunks."""
    chunks = [metadata.png_text_payload(c) for c in out.text]
    if out.xmp:
        head = metadata.XMP_KEY.encode("latin-1") + b"\x00\x00\x00\x00\x00"
        chunks.insert(0, (b"iTXt", head + out.xmp))
    return chunks


def _png_info(out: _Outgoing) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    for kind, payload in _png_text_chunks(out):
        info.add(kind, payload)
    return info


def _tiff_tags(out: _Outgoing) -> Image.Exif:
    """The EXIF tags with XMP, IPTC and Photoshop resources as the TIFF tags that carry them."""
    tags = _exif_tags(out.exif) if out.exif else Image.Exif()
    if out.xmp:
        tags[XMP_TAG] = out.xmp
    if out.photoshop:
        tags[PHOTOSHOP_TAG] = out.photoshop
        iptc = metadata.iptc_of(out.photoshop)
        if iptc:
            tags[IPTC_TAG] = iptc
    return tags


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _encode_16bit_colour(
    stacked: np.ndarray, meta: ImageMeta, out: _Outgoing, fmt: str
) -> tuple[bytes, tuple[str, ...]]:
    """16-bit RGB(A) through OpenCV (Pillow cannot write it); the metadata is added to OpenCV's file."""
    bgr = stacked[..., [2, 1, 0, 3][: stacked.shape[2]]]
    ok, encoded = cv2.imencode(".png" if fmt == "PNG" else ".tiff", np.ascontiguousarray(bgr))
    if not ok:
        raise ImageSaveError("OpenCV could not encode the 16-bit image")
    data = encoded.tobytes()
    if fmt != "PNG":
        more: dict[int, object] = {}
        if meta.dpi:
            more = {RESOLUTION_UNIT: 2, X_RESOLUTION: meta.dpi[0], Y_RESOLUTION: meta.dpi[1]}  # inches
        if meta.icc:
            more[ICC_TAG] = meta.icc
        return _tiff_with_metadata(data, out, more)
    extra = b""
    if meta.icc:
        extra += _png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(meta.icc))
    if out.exif:
        exif = out.exif[6:] if out.exif.startswith(b"Exif\x00\x00") else out.exif
        extra += _png_chunk(b"eXIf", exif)
    if meta.dpi:
        extra += _png_chunk(b"pHYs", struct.pack(">IIB", *(round(v / 0.0254) for v in meta.dpi), 1))
    for kind, payload in _png_text_chunks(out):
        extra += _png_chunk(kind, payload)
    end_of_ihdr = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return data[:end_of_ihdr] + extra + data[end_of_ihdr:], out.left_out


def _tiff_with_metadata(data: bytes, out: _Outgoing, more: dict[int, object]) -> tuple[bytes, tuple[str, ...]]:
    """The TIFF ``data`` (one directory of strips, as Pillow's libtiff writer and OpenCV make it) with the
    metadata tags and ``more`` tags added: a new directory (Pillow's writer, which can write EXIF's
    sub-directories) followed by the unchanged strips. A file this cannot rewrite is kept, the loss named."""
    tags = _tiff_tags(out)
    if not (tags or more):
        return data, out.left_out
    try:
        with Image.open(io.BytesIO(data), formats=["TIFF"]) as tif:
            source = tif.tag_v2
            ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=data[:8])
            for tag, value in source.items():
                ifd[tag] = value
                ifd.tagtype[tag] = source.tagtype[tag]
        offsets, counts = ifd[273], ifd[279]
        start = min(offsets)
        end = max(o + c for o, c in zip(offsets, counts, strict=True))
        ifd[273] = tuple(o - start for o in offsets)  # Pillow adds where the strips follow the directory
        for tag in tags:
            ifd[tag] = tags.get_ifd(tag) if tag in TiffTags.TAGS_V2_GROUPS else tags[tag]
        for tag, value in more.items():
            ifd[tag] = value
        directory = ifd.tobytes(8)
        head = data[:4] + struct.pack("<I" if data[:2] == b"II" else ">I", 8)
        return head + directory + data[start:end], out.left_out
    except Exception:  # a layout this does not know (tiles, ...): the pixels matter more than the tags
        return data, (*out.left_out, "metadata tags (EXIF, XMP, IPTC; the TIFF writer's layout is unknown)")


def save_image(
    path: Path | str,
    pixels: np.ndarray,
    alpha: np.ndarray | None = None,
    meta: ImageMeta | None = None,
    *,
    quality: int = 95,
) -> tuple[str, ...]:
    """Write atomically: the destination is either the complete new file or untouched.

    Returns the notes to show the user: at most one, naming the input's metadata the format cannot carry.
    """
    path = Path(path)
    fmt = format_for(path)
    if not path.parent.is_dir():
        raise ImageSaveError(f"cannot save {path}: the folder {path.parent} does not exist")
    meta = meta or ImageMeta()
    try:
        data, left_out = _encode(pixels, alpha, meta, fmt, quality=quality)
        atomic_write_bytes(path, data)
    except ImageSaveError:
        raise
    except (OSError, ValueError) as exc:
        raise ImageSaveError(f"cannot save {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    note = metadata_note(meta, fmt, left_out)
    return () if note is None else (note,)
