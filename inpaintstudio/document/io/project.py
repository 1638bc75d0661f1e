"""Project files (``.inpaint``): a whole editing session in one zip, saved and reopened exactly.

Members (all written in one atomic replace of the target file):

- ``project.json``: ``{"format": "inpaintstudio-project", "version": 1 | 2, "app_version", "saved_at",
  "width", "height", "dtype" ("uint8" | "uint16"), "alpha" (bool), "extent" [x, y, w, h],
  "original_path" (the photo the document saves to, or null), "meta" {format, mode, gray, bit_depth,
  dpi, orientation, exif (base64), icc (base64), xmp (base64), photoshop (base64), text [{key, value,
  kind, compressed, language, translated_key}]}, "history" (true when the history members exist)}``
  (xmp, photoshop and text may be absent: files of earlier versions lack them);
- ``image.png``: the image layer, lossless, 8 or 16 bits per channel as in the document; the alpha layer,
  when the document has one, is the PNG's fourth channel (RGBA), so the two can never get out of step;
- ``mask.png``, ``sketch.png``: the 8-bit coverage layers exactly as painted (grayscale PNG);
- ``exclude.png``: the sampling exclusion, likewise; only in format 2, which is written only when the
  exclusion is painted or its strokes are in the stored history, so a project that does not use it still
  opens in the versions before it (they refuse a format 2 file with "please update", never as damaged);
- ``history/index.json`` and ``history/blobs.bin``: the undo history (see :mod:`history_io`), optional.

Paths: after :func:`load_project` the document's ``project_path`` is the ``.inpaint`` file and its
``path`` is the photo it was made from (``original_path``), so saving the photo still works; the
document is clean. :func:`save_project` sets ``project_path`` and marks the document saved.

Reading trusts nothing: the zip must have few members with a bounded total uncompressed size (a zip
bomb is refused before anything is inflated, and no member is read past its declared size), the version
must be known, every size, dtype and rectangle must agree, and the image goes through the normal
image loader with its pixel limit. Any problem is an :class:`~inpaintstudio.errors.ImageLoadError`
naming the file and the reason.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import json
import math
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from inpaintstudio import __version__
from inpaintstudio.atomic import atomic_write
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import history_io, imageio, metadata
from inpaintstudio.document.io.history_io import LayerSpec
from inpaintstudio.document.io.metadata import TextChunk
from inpaintstudio.errors import ImageLoadError, ImageSaveError
from inpaintstudio.geometry import Rect

SUFFIX = ".inpaint"
FORMAT_NAME = "inpaintstudio-project"
FORMAT_VERSION = 2  # 2: the sampling exclusion (exclude.png, history steps of the "exclude" layer)
PROJECT_JSON = "project.json"
IMAGE_PNG, MASK_PNG, SKETCH_PNG, EXCLUDE_PNG = "image.png", "mask.png", "sketch.png", "exclude.png"
OPEN_FILTER = "InpaintStudio projects (*.inpaint)"
MAX_MEMBERS = 32
MAX_TEXT_CHUNKS = 10_000  # text chunks in the metadata (their size is bounded by MAX_JSON_BYTES)
MAX_JSON_BYTES = 64 * 1024 * 1024  # project.json with EXIF / ICC, and the history index
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, struct.error, ValueError)


@dataclass(frozen=True)
class ProjectSnapshot:
    """Everything a project file holds, copied out of a document: cheap to take on the GUI thread, and
    safe to write from another thread while editing goes on (:func:`write_snapshot`)."""

    image: np.ndarray
    alpha: np.ndarray | None
    mask: np.ndarray
    sketch: np.ndarray
    exclude: np.ndarray | None  # None: the file does not need the layer (format 1)
    extent: Rect
    meta: imageio.ImageMeta
    original_path: Path | None
    history_index: bytes | None = None
    history_blobs: list[bytes] = field(default_factory=list)
    steps: int = 0  # history steps stored
    project_path: Path | None = None  # the document's project file, if it has one (not stored in the file)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


def capture(
    doc: Document,
    *,
    history: bool = True,
    as_saved: bool = False,
    max_steps: int = history_io.MAX_STEPS,
    max_bytes: int = history_io.MAX_BYTES,
) -> ProjectSnapshot:
    """Copy what a project file holds out of ``doc`` (the history window at most ``max_steps`` steps and
    ``max_bytes`` of patches). ``as_saved`` records the current state as the saved one (a project save);
    otherwise the document's own saved state is recorded (an autosave, restored as dirty as it was)."""
    index, blobs, steps = None, [], 0
    if history and doc.history.edits:
        saved = doc.history.position if as_saved else doc.saved_position()
        index, blobs = history_io.serialise(doc.history, saved, max_steps=max_steps, max_bytes=max_bytes)
        start, end = history_io.window(doc.history, max_steps, max_bytes)
        steps = end - start
    uses_exclusion = bool(doc.exclude.any()) or (
        index is not None and history_io.touches_layer(doc.history, "exclude", max_steps, max_bytes)
    )
    return ProjectSnapshot(
        image=doc.image.copy(),
        alpha=None if doc.alpha is None else doc.alpha.copy(),
        mask=doc.mask.copy(),
        sketch=doc.sketch.copy(),
        exclude=doc.exclude.copy() if uses_exclusion else None,
        extent=doc.extent,
        meta=doc.meta,
        original_path=doc.path,
        history_index=index,
        history_blobs=blobs,
        steps=steps,
        project_path=doc.project_path,
    )


# -- writing -------------------------------------------------------------------------------------------


def _meta_to_json(meta: imageio.ImageMeta) -> dict[str, Any]:
    def b64(data: bytes | None) -> str | None:
        return None if data is None else base64.b64encode(data).decode("ascii")

    return {
        "format": meta.format,
        "mode": meta.mode,
        "gray": meta.gray,
        "bit_depth": meta.bit_depth,
        "dpi": None if meta.dpi is None else [float(v) for v in meta.dpi],
        "orientation": meta.orientation,
        "exif": b64(meta.exif),
        "icc": b64(meta.icc),
        "xmp": b64(meta.xmp),
        "photoshop": b64(meta.photoshop),
        "text": [dataclasses.asdict(chunk) for chunk in meta.text],
    }


def _encode_image(pixels: np.ndarray, alpha: np.ndarray | None, level: int) -> bytes:
    if pixels.dtype == np.uint16:  # Pillow cannot write 16-bit colour; OpenCV can (it wants BGR[A])
        channels = [pixels[..., 2], pixels[..., 1], pixels[..., 0]] + ([alpha] if alpha is not None else [])
        ok, data = cv2.imencode(".png", np.dstack(channels), [cv2.IMWRITE_PNG_COMPRESSION, level])
        if not ok:
            raise ImageSaveError("OpenCV could not encode the 16-bit image")
        return data.tobytes()
    stacked = np.dstack([pixels, alpha]) if alpha is not None else pixels
    return _encode_pil(Image.fromarray(stacked, "RGBA" if alpha is not None else "RGB"), level)


def _encode_pil(im: Image.Image, level: int) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def write_snapshot(snapshot: ProjectSnapshot, path: Path | str, *, compress_level: int = 6) -> None:
    """Write a project file atomically: ``path`` is the complete new project, or what it was before."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ImageSaveError(f"cannot save {path}: the folder {path.parent} does not exist")
    w, h = snapshot.size
    description = {
        "format": FORMAT_NAME,
        "version": 1 if snapshot.exclude is None else FORMAT_VERSION,
        "app_version": __version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "width": w,
        "height": h,
        "dtype": snapshot.image.dtype.name,
        "alpha": snapshot.alpha is not None,
        "extent": [snapshot.extent.x, snapshot.extent.y, snapshot.extent.w, snapshot.extent.h],
        "original_path": None if snapshot.original_path is None else str(snapshot.original_path),
        "meta": _meta_to_json(snapshot.meta),
        "history": snapshot.history_index is not None,
    }
    try:
        members = [
            (PROJECT_JSON, json.dumps(description, indent=1).encode("utf-8"), zipfile.ZIP_DEFLATED),
            (IMAGE_PNG, _encode_image(snapshot.image, snapshot.alpha, compress_level), zipfile.ZIP_STORED),
            (MASK_PNG, _encode_pil(Image.fromarray(snapshot.mask, "L"), compress_level), zipfile.ZIP_STORED),
            (SKETCH_PNG, _encode_pil(Image.fromarray(snapshot.sketch, "L"), compress_level), zipfile.ZIP_STORED),
        ]
        if snapshot.exclude is not None:
            exclude = _encode_pil(Image.fromarray(snapshot.exclude, "L"), compress_level)
            members.append((EXCLUDE_PNG, exclude, zipfile.ZIP_STORED))
        if snapshot.history_index is not None:
            members.append((history_io.INDEX_NAME, snapshot.history_index, zipfile.ZIP_DEFLATED))
        with atomic_write(path) as fh, zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            for name, data, compression in members:
                zf.writestr(zipfile.ZipInfo(name, time.localtime()[:6]), data, compress_type=compression)
            if snapshot.history_index is not None:
                info = zipfile.ZipInfo(history_io.BLOBS_NAME, time.localtime()[:6])
                with zf.open(info, "w", force_zip64=True) as out:  # patches are zlib data already: stored
                    for chunk in snapshot.history_blobs:
                        out.write(chunk)
    except ImageSaveError:
        raise
    except (OSError, ValueError, zipfile.LargeZipFile) as exc:
        raise ImageSaveError(f"cannot save {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def save_project(doc: Document, path: Path | str, *, history: bool = True) -> None:
    """Save the document as a ``.inpaint`` project (with its recent undo history); marks it saved."""
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise ImageSaveError(f"cannot save a project as '{path.name}': project files end in {SUFFIX}")
    # The file records the state it holds as the saved one, so reopening it gives a clean document.
    snapshot = capture(doc, history=history, as_saved=True)
    write_snapshot(snapshot, path)
    doc.project_path = path
    doc.mark_saved()


# -- reading -------------------------------------------------------------------------------------------


def size_limit(max_pixels: int | None) -> int:
    """Largest total uncompressed size accepted for a project of at most ``max_pixels`` pixels."""
    pixels = max_pixels or (1 << 33)
    # 16-bit RGBA image, three 8-bit layers (PNG overhead on incompressible data is well under 1 %),
    # the largest history we write, and the JSON members.
    return int(pixels * 11 * 1.01) + history_io.MAX_BYTES + 2 * MAX_JSON_BYTES + (1 << 20)


class _Zip:
    """Bounded reading of a project's members."""

    def __init__(self, path: Path, max_pixels: int | None) -> None:
        self.path = path
        try:
            self.zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ImageLoadError(f"{path} is not an InpaintStudio project (not a zip file)") from None
        except _READ_ERRORS as exc:
            raise ImageLoadError(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from exc
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            self.close()
            raise ImageLoadError(f"{path} is not an InpaintStudio project ({len(infos)} members)")
        self.infos = {}
        for info in infos:
            if info.filename in self.infos:
                self.close()
                raise ImageLoadError(f"{path} is damaged: '{info.filename}' appears twice")
            self.infos[info.filename] = info
        total = sum(info.file_size for info in infos)
        if total > size_limit(max_pixels):
            self.close()
            raise ImageLoadError(
                f"{path} would unpack to {total / 1e9:.1f} GB, more than a project of this pixel limit can hold "
                "(a damaged or malicious file)"
            )

    def has(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str, limit: int | None = None) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise ImageLoadError(f"{self.path} is damaged: it has no {name}")
        if limit is not None and info.file_size > limit:
            raise ImageLoadError(f"{self.path} is damaged: {name} is implausibly large ({info.file_size} bytes)")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ImageLoadError(f"{self.path} is damaged: {name} uses an unsupported compression")
        if info.flag_bits & 0x1:
            raise ImageLoadError(f"{self.path} is damaged: {name} is encrypted")
        try:
            with self.zf.open(info) as fh:
                data = fh.read(info.file_size + 1)  # never more than declared, whatever the data says
        except (*_READ_ERRORS, NotImplementedError, RuntimeError) as exc:
            raise ImageLoadError(f"{self.path} is damaged: {name} cannot be read ({exc})") from exc
        if len(data) != info.file_size:
            raise ImageLoadError(f"{self.path} is damaged: {name} does not have its recorded size")
        return data

    def close(self) -> None:
        self.zf.close()


def _check(condition: bool, path: Path, what: str) -> None:
    if not condition:
        raise ImageLoadError(f"{path} is damaged: {what}")


def _meta_from_json(value: Any, path: Path) -> imageio.ImageMeta:
    _check(isinstance(value, dict), path, "its image metadata is missing")

    def short_text(key: str, optional: bool) -> str | None:
        item = value.get(key)
        ok = (item is None and optional) or (isinstance(item, str) and len(item) <= 64)
        _check(ok, path, f"metadata '{key}' is invalid")
        return item

    def blob(key: str) -> bytes | None:
        item = value.get(key)
        if item is None:
            return None
        try:
            _check(isinstance(item, str), path, f"metadata '{key}' is invalid")
            return base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            raise ImageLoadError(f"{path} is damaged: metadata '{key}' is not base64") from None

    dpi = value.get("dpi")
    if dpi is not None:
        _check(
            isinstance(dpi, list) and len(dpi) == 2 and all(type(v) in (int, float) and math.isfinite(v) for v in dpi),
            path,
            "metadata 'dpi' is invalid",
        )
        dpi = (float(dpi[0]), float(dpi[1]))
    text = value.get("text") or []
    _check(isinstance(text, list) and len(text) <= MAX_TEXT_CHUNKS, path, "metadata 'text' is invalid")
    gray, depth, orientation = value.get("gray"), value.get("bit_depth"), value.get("orientation")
    _check(isinstance(gray, bool), path, "metadata 'gray' is invalid")
    _check(depth in (8, 16) and type(depth) is int, path, "metadata 'bit_depth' is invalid")
    _check(type(orientation) is int and 1 <= orientation <= 8, path, "metadata 'orientation' is invalid")
    return imageio.ImageMeta(
        format=short_text("format", True),
        mode=short_text("mode", False) or "RGB",
        exif=blob("exif"),
        icc=blob("icc"),
        gray=gray,
        bit_depth=depth,
        dpi=dpi,
        orientation=orientation,
        xmp=blob("xmp"),
        photoshop=blob("photoshop"),
        text=tuple(_text_chunk(item, path) for item in text),
    )


def _text_chunk(item: Any, path: Path) -> TextChunk:
    """One text chunk of the metadata, checked so that saving the image can write it back."""
    fields = {f.name: f.type for f in dataclasses.fields(TextChunk)}
    ok = isinstance(item, dict) and set(item) == set(fields)
    ok = ok and all(type(item[name]) is (bool if kind == "bool" else str) for name, kind in fields.items())
    _check(ok, path, "metadata 'text' holds an invalid entry")
    chunk = TextChunk(**item)
    try:
        names = (chunk.key, chunk.language, chunk.translated_key)
        valid = 1 <= len(chunk.key.encode("latin-1")) <= 79 and chunk.kind in ("tEXt", "zTXt", "iTXt")
        valid = valid and not any("\x00" in name for name in names)
        metadata.png_text_payload(chunk)
    except (UnicodeEncodeError, ValueError):
        valid = False
    _check(valid, path, f"metadata text chunk {chunk.key[:79]!r} is invalid")
    return chunk


def _read_description(zf: _Zip, path: Path) -> dict[str, Any]:
    if not zf.has(PROJECT_JSON):
        raise ImageLoadError(f"{path} is not an InpaintStudio project (it has no {PROJECT_JSON})")
    try:
        description = json.loads(zf.read(PROJECT_JSON, MAX_JSON_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImageLoadError(f"{path} is damaged: {PROJECT_JSON} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ImageLoadError(f"{path} is damaged: {PROJECT_JSON} is nested too deeply") from None
    _check(isinstance(description, dict), path, f"{PROJECT_JSON} is not an object")
    if description.get("format") != FORMAT_NAME:
        raise ImageLoadError(f"{path} is not an InpaintStudio project (unknown format {description.get('format')!r})")
    version = description.get("version")
    if type(version) is not int or version < 1:
        raise ImageLoadError(f"{path} is damaged: its format version {version!r} is invalid")
    if version > FORMAT_VERSION:
        raise ImageLoadError(
            f"{path} was saved by a newer InpaintStudio ({description.get('app_version', 'unknown version')}, "
            f"project format {version}); this version ({__version__}) reads format {FORMAT_VERSION}: please update"
        )
    return description


def png_bound(size: tuple[int, int], bytes_per_pixel: int) -> int:
    """The most bytes a PNG of ``size`` pixels can take: its raw rows (stored, never inflated by more than
    a fraction of a percent by deflate and chunk framing) plus headers."""
    w, h = size
    return int(h * (1 + w * bytes_per_pixel) * 1.01) + (1 << 16)


def _read_layer(zf: _Zip, name: str, size: tuple[int, int], path: Path) -> np.ndarray:
    data = zf.read(name, png_bound(size, 1))
    try:
        with Image.open(io.BytesIO(data)) as im:
            _check(im.format == "PNG" and im.mode == "L", path, f"{name} is not an 8-bit grayscale PNG")
            _check(im.size == size, path, f"{name} is {im.size[0]}x{im.size[1]} while the image is {size[0]}x{size[1]}")
            im.load()
            return np.array(im, dtype=np.uint8)
    except ImageLoadError:
        raise
    except (*imageio._DECODE_ERRORS, Image.UnidentifiedImageError) as exc:
        raise ImageLoadError(f"{path} is damaged: {name} cannot be decoded ({exc})") from exc


def read_project(
    path: Path | str, *, max_pixels: int | None = imageio.DEFAULT_MAX_PIXELS, history: bool = True
) -> tuple[Document, int | None]:
    """The document stored in ``path`` and the history position its file recorded as saved (None: the
    snapshot held unsaved changes). Nothing is marked; see :func:`load_project`."""
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageLoadError(f"{path} is a folder, not a project file")
    zf = _Zip(path, max_pixels)
    try:
        return _read_members(zf, path, max_pixels, history)
    except (RecursionError, ValueError, OverflowError) as exc:  # whatever a hostile file reaches is damage
        raise ImageLoadError(f"{path} is damaged: {exc or type(exc).__name__}") from exc
    finally:
        zf.close()


def _read_members(zf: _Zip, path: Path, max_pixels: int | None, history: bool) -> tuple[Document, int | None]:
    description = _read_description(zf, path)
    w, h = description.get("width"), description.get("height")
    _check(type(w) is int and type(h) is int and w > 0 and h > 0, path, "its image size is invalid")
    dtype = description.get("dtype")
    _check(dtype in ("uint8", "uint16"), path, f"its image type {dtype!r} is invalid")
    has_alpha = description.get("alpha")
    _check(isinstance(has_alpha, bool), path, "it does not say whether the image has alpha")
    extent_value = description.get("extent")
    _check(
        isinstance(extent_value, list) and len(extent_value) == 4 and all(type(v) is int for v in extent_value),
        path,
        "its extent is invalid",
    )
    extent = Rect(*extent_value)
    _check(extent.contains(Rect(0, 0, w, h)), path, "its extent does not contain the image")
    original = description.get("original_path")
    _check(original is None or (isinstance(original, str) and 0 < len(original) < 4096), path, "bad original path")
    meta = _meta_from_json(description.get("meta"), path)
    # Every member is bounded by what the declared size can hold before it is inflated.
    imageio.check_pixel_limit(f"{path} ({IMAGE_PNG})", w, h, max_pixels)
    bytes_per_pixel = (4 if has_alpha else 3) * np.dtype(dtype).itemsize
    image_data = zf.read(IMAGE_PNG, png_bound((w, h), bytes_per_pixel))
    loaded = imageio.decode_image(image_data, name=f"{path} ({IMAGE_PNG})", max_pixels=max_pixels)
    got = (loaded.pixels.shape[1], loaded.pixels.shape[0])
    _check(got == (w, h), path, f"{IMAGE_PNG} is {got[0]}x{got[1]}, the project says {w}x{h}")
    _check(loaded.pixels.dtype == np.dtype(dtype), path, f"{IMAGE_PNG} is {loaded.pixels.dtype}, expected {dtype}")
    _check((loaded.alpha is not None) == has_alpha, path, f"{IMAGE_PNG} does not match the alpha flag")
    mask = _read_layer(zf, MASK_PNG, (w, h), path)
    sketch = _read_layer(zf, SKETCH_PNG, (w, h), path)
    # Format 1 files predate the exclusion: theirs is empty.
    exclude = _read_layer(zf, EXCLUDE_PNG, (w, h), path) if description["version"] >= 2 else None

    doc = Document(loaded.pixels, loaded.alpha, meta, Path(original) if original else None)
    doc.layer("mask")[...] = mask
    doc.layer("sketch")[...] = sketch
    if exclude is not None:
        doc.layer("exclude")[...] = exclude
    doc.extent = extent
    saved: int | None = 0
    if history and description.get("history") is True:
        layers = {name: LayerSpec(a.dtype, a.shape[2:]) for name, a in doc.layers().items()}
        index = zf.read(history_io.INDEX_NAME, MAX_JSON_BYTES)
        blobs = zf.read(history_io.BLOBS_NAME, history_io.MAX_BYTES * 2)
        try:
            restored = history_io.deserialise(index, blobs, layers, (w, h), max_pixels=max_pixels)
        except ImageLoadError as exc:
            raise ImageLoadError(f"{path}: {exc}") from None
        doc.history.edits = restored.edits
        doc.history.position = restored.position
        saved = restored.saved_position
    return doc, saved


def load_project(
    path: Path | str, *, max_pixels: int | None = imageio.DEFAULT_MAX_PIXELS, history: bool = True
) -> Document:
    """Open a ``.inpaint`` project: a clean document whose ``project_path`` is ``path`` and whose ``path``
    is the photo it was made from (None if it had none)."""
    doc, _ = read_project(path, max_pixels=max_pixels, history=history)
    doc.project_path = Path(path)
    doc.mark_saved()
    return doc


def is_project(path: Path | str) -> bool:
    """Whether ``path`` names a project file (by its suffix), for the app's open dialog and command line."""
    return Path(path).suffix.lower() == SUFFIX
