"""Taking a project file (a zip) apart and putting it back changed, for the tests of damaged and hostile
projects (document, recovery and app tests alike)."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path


def members(source: bytes | Path) -> dict[str, bytes]:
    """{name: content} of every member of the zip (its bytes, or the file at a path)."""
    with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rewrite(
    source: bytes | Path, change: Callable[[dict[str, bytes]], object], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A copy of the zip with ``change(members)`` applied to its {name: bytes}."""
    contents = members(source)
    change(contents)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, content in contents.items():
            zf.writestr(name, content)
    return out.getvalue()


def set_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with ``name`` claiming ``size`` uncompressed bytes in its local and central headers."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", buf, info.header_offset + 22, size)
    pos = buf.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if buf[pos + 46 : pos + 46 + name_len] == name.encode():
            struct.pack_into("<I", buf, pos + 24, size)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)
