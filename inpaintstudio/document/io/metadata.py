"""The byte-level formats of the metadata :mod:`imageio` keeps beside EXIF and ICC.

- XMP packets: the orientation and pixel dimensions they state are rewritten in place (the rest of the
  packet, padding included, stays byte for byte);
- PNG text chunks (tEXt, zTXt, iTXt): read with bounded decompression and written back as they were;
- Photoshop image resources (JPEG APP13 "Photoshop 3.0", TIFF tag 34377), which hold IPTC (resource
  0x0404): parsed to drop the embedded thumbnails (they would still show what was filled away) and split
  into JPEG segments again.

Nothing here decides what is kept for which format; :mod:`imageio` does, with :class:`ImageMeta`.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

TIFF_NS = b"http://ns.adobe.com/tiff/1.0/"
EXIF_NS = b"http://ns.adobe.com/exif/1.0/"
XMP_KEY = "XML:com.adobe.xmp"  # the PNG iTXt keyword of an XMP packet
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
IPTC_RESOURCE = 0x0404
THUMBNAIL_RESOURCES = frozenset([0x0409, 0x040C])
RESOURCE_SIGNATURES = (b"8BIM", b"MeSa", b"AgHg", b"PHUT", b"DCSR")
JPEG_SEGMENT_DATA = 65533  # the most bytes an APPn / COM segment holds after its length field
MAX_TEXT_CHUNK = 8 * 1024 * 1024  # decompressed; a larger text chunk is not kept
MAX_TEXT_TOTAL = 64 * 1024 * 1024


# -- XMP ---------------------------------------------------------------------------------------------


def _prefixes(xmp: bytes, namespace: bytes, usual: bytes) -> set[bytes]:
    found = re.findall(rb"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"']" + re.escape(namespace) + rb"[\"']", xmp)
    return {usual, *found}


def _set_property(xmp: bytes, prefix: bytes, name: bytes, value: int) -> bytes:
    """``prefix:name="..."`` and ``<prefix:name>...</prefix:name>`` set to ``value`` where present."""
    qualified = re.escape(prefix + b":" + name)
    text = str(value).encode("ascii")
    xmp = re.sub(rb"(?<![\w:.-])(" + qualified + rb"\s*=\s*)([\"'])[^\"'<>]*\2", rb"\1\g<2>" + text + rb"\2", xmp)
    return re.sub(
        rb"(<" + qualified + rb"(?:\s[^<>]*)?>)[^<]*(</" + qualified + rb"\s*>)", rb"\g<1>" + text + rb"\2", xmp
    )


def xmp_with(xmp: bytes, *, orientation: int | None = None, size: tuple[int, int] | None = None) -> bytes:
    """``xmp`` stating ``orientation`` (tiff:Orientation) and the pixel ``size`` (tiff:ImageWidth /
    ImageLength, exif:PixelXDimension / PixelYDimension) wherever it states them; nothing is added."""
    tiff = _prefixes(xmp, TIFF_NS, b"tiff")
    exif = _prefixes(xmp, EXIF_NS, b"exif")
    for prefix in tiff if orientation is not None else ():
        xmp = _set_property(xmp, prefix, b"Orientation", orientation)
    if size is not None:
        for prefix in tiff:
            xmp = _set_property(_set_property(xmp, prefix, b"ImageWidth", size[0]), prefix, b"ImageLength", size[1])
        for prefix in exif:
            xmp = _set_property(xmp, prefix, b"PixelXDimension", size[0])
            xmp = _set_property(xmp, prefix, b"PixelYDimension", size[1])
    return xmp


# -- PNG text chunks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextChunk:
    """A PNG text chunk (or a JPEG / GIF comment, kept as ``Comment``)."""

    key: str
    value: str
    kind: str = "tEXt"  # "tEXt" (Latin-1), "zTXt" (Latin-1, compressed) or "iTXt" (UTF-8)
    compressed: bool = False  # iTXt only
    language: str = ""  # iTXt only
    translated_key: str = ""  # iTXt only


def _inflate(data: bytes, limit: int) -> bytes | None:
    """``data`` decompressed, or None when it is damaged or larger than ``limit`` bytes."""
    try:
        inflater = zlib.decompressobj()
        out = inflater.decompress(data, limit)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else out


def _parse_text(kind: bytes, payload: bytes, limit: int) -> tuple[TextChunk, bytes] | None:
    """The chunk, and its value's bytes (an XMP packet is kept as bytes); None when it is malformed."""
    key_bytes, sep, rest = payload.partition(b"\x00")
    if not sep or not 1 <= len(key_bytes) <= 79:
        return None
    key = key_bytes.decode("latin-1")
    try:
        if kind == b"tEXt":
            return TextChunk(key, rest.decode("latin-1")), rest
        if kind == b"zTXt":
            raw = _inflate(rest[1:], limit) if rest[:1] == b"\x00" else None
            return None if raw is None else (TextChunk(key, raw.decode("latin-1"), "zTXt"), raw)
        if len(rest) < 2 or rest[0] not in (0, 1) or rest[1] != 0:
            return None
        language, tkey, raw = rest[2:].split(b"\x00", 2)
        if rest[0]:
            inflated = _inflate(raw, limit)
            if inflated is None:
                return None
            raw = inflated
        chunk = TextChunk(
            key, raw.decode("utf-8"), "iTXt", bool(rest[0]), language.decode("utf-8"), tkey.decode("utf-8")
        )
        return chunk, raw
    except (UnicodeDecodeError, ValueError):
        return None


def raw_profile(value: str) -> bytes | None:
    """The bytes of an ImageMagick / exiftool "Raw profile type NAME" text chunk, or None."""
    lines = value.split("\n")
    try:
        data = bytes.fromhex("".join(lines[3:]))
        return data if len(lines) > 3 and int(lines[2]) == len(data) else None
    except ValueError:
        return None


def read_png_text(data: bytes) -> list[tuple[TextChunk, bytes]]:
    """Every tEXt, zTXt and iTXt chunk of the PNG file ``data`` in file order, with its value's bytes.

    Malformed chunks are skipped, and so is everything past ``MAX_TEXT_TOTAL`` decompressed bytes."""
    found: list[tuple[TextChunk, bytes]] = []
    budget = MAX_TEXT_TOTAL
    pos = 8
    while pos + 8 <= len(data) and budget > 0:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        start, pos = pos + 8, pos + 12 + length
        if kind == b"IEND" or start + length > len(data):
            break
        if kind in (b"tEXt", b"zTXt", b"iTXt"):  # only these are copied out (not the pixels' IDAT chunks)
            parsed = _parse_text(kind, data[start : start + length], min(MAX_TEXT_CHUNK, budget))
            if parsed is not None:
                found.append(parsed)
                budget -= len(parsed[1])
    return found


def png_text_payload(chunk: TextChunk) -> tuple[bytes, bytes]:
    """(chunk type, payload) that write ``chunk`` back; a Latin-1 chunk whose text is not Latin-1 becomes iTXt."""
    key = chunk.key.encode("latin-1")
    if chunk.kind in ("tEXt", "zTXt"):
        try:
            value = chunk.value.encode("latin-1")
        except UnicodeEncodeError:
            return png_text_payload(TextChunk(chunk.key, chunk.value, "iTXt"))
        if chunk.kind == "tEXt":
            return b"tEXt", key + b"\x00" + value
        return b"zTXt", key + b"\x00\x00" + zlib.compress(value)
    value = chunk.value.encode("utf-8")
    head = key + b"\x00" + (b"\x01\x00" if chunk.compressed else b"\x00\x00")
    head += chunk.language.encode("utf-8") + b"\x00" + chunk.translated_key.encode("utf-8") + b"\x00"
    return b"iTXt", head + (zlib.compress(value) if chunk.compressed else value)


def text_from_comment(data: bytes) -> TextChunk:
    """A JPEG / GIF comment as a ``Comment`` text chunk whose bytes :func:`comment_bytes` gives back."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return TextChunk("Comment", data.decode("latin-1"))
    return TextChunk("Comment", text, "tEXt" if text.isascii() else "iTXt")


def comment_bytes(chunk: TextChunk) -> bytes:
    return chunk.value.encode("utf-8" if chunk.kind == "iTXt" else "latin-1", "replace")


# -- Photoshop image resources -------------------------------------------------------------------------


def _resources(data: bytes) -> list[tuple[bytes, int, bytes, bytes]] | None:
    """(signature, id, name field, data) of each resource block, or None when ``data`` is malformed."""
    blocks = []
    pos = 0
    while pos < len(data):
        signature = data[pos : pos + 4]
        if signature not in RESOURCE_SIGNATURES or pos + 7 > len(data):
            return None
        (ident,) = struct.unpack(">H", data[pos + 4 : pos + 6])
        name_len = 1 + data[pos + 6]
        name_len += name_len & 1
        name = data[pos + 6 : pos + 6 + name_len]
        pos += 6 + name_len
        if pos + 4 > len(data):
            return None
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        body = data[pos + 4 : pos + 4 + size]
        if len(body) < size:
            return None
        blocks.append((signature, ident, name, body))
        pos += 4 + size + (size & 1)
    return blocks


def _block(signature: bytes, ident: int, name: bytes, body: bytes) -> bytes:
    return signature + struct.pack(">H", ident) + name + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) & 1)


def photoshop_resources(data: bytes, iptc: bytes | None = None) -> bytes | None:
    """Resources worth keeping: without thumbnails, with ``iptc`` (a TIFF's IPTC tag) added when the
    resources lack it. Malformed resources are kept as they are."""
    blocks = _resources(data)
    if blocks is None:
        return data or None
    kept = [b for b in blocks if not (b[0] == b"8BIM" and b[1] in THUMBNAIL_RESOURCES)]
    if iptc and not any(b[1] == IPTC_RESOURCE for b in kept):
        kept.append((b"8BIM", IPTC_RESOURCE, b"\x00\x00", iptc))
    return b"".join(_block(*b) for b in kept) or None


def iptc_of(resources: bytes) -> bytes | None:
    """The IPTC-IIM data (resource 0x0404) among Photoshop ``resources``."""
    for signature, ident, _name, body in _resources(resources) or []:
        if signature == b"8BIM" and ident == IPTC_RESOURCE:
            return body
    return None


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    """One JPEG marker segment (``marker`` e.g. 0xFFFE for COM) holding ``payload``."""
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def photoshop_app13(resources: bytes) -> bytes:
    """JPEG APP13 segments holding ``resources`` (several when they exceed one segment)."""
    room = JPEG_SEGMENT_DATA - len(PHOTOSHOP_HEADER)
    return b"".join(
        jpeg_segment(0xFFED, PHOTOSHOP_HEADER + resources[i : i + room]) for i in range(0, len(resources), room)
    )
