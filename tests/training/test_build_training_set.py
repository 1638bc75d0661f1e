"""scripts/build_training_set.py without the network: reserved files, the photo check, near-duplicates, licences, TSV."""

from __future__ import annotations

import importlib.util
import io
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="module")
def bts():
    spec = importlib.util.spec_from_file_location("build_training_set", REPO / "scripts" / "build_training_set.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_training_set"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# -- synthetic images --------------------------------------------------------------------------------------


def natural(seed: int, size: int = 512, gray: bool = False) -> np.ndarray:
    """1/f noise (the spectrum of natural images) plus sensor noise: what a photo's pixels look like."""
    rng = np.random.default_rng(seed)
    f = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :])
    f[0, 0] = 1

    def field() -> np.ndarray:
        return np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(size, size))) / f))

    base = field()
    image = np.stack([base + 0.5 * field() for _ in range(1 if gray else 3)], axis=-1)
    image = (image - image.min()) / (image.max() - image.min()) * 200 + 25 + rng.normal(0, 2.0, image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    return np.repeat(image, 3, axis=-1) if gray else image


def drawing() -> np.ndarray:
    image = np.full((512, 512, 3), 255, np.uint8)
    cv2.rectangle(image, (40, 60), (300, 260), (200, 40, 40), -1)
    cv2.circle(image, (360, 340), 110, (40, 120, 220), -1, lineType=cv2.LINE_AA)
    cv2.line(image, (0, 500), (511, 300), (20, 20, 20), 6, lineType=cv2.LINE_AA)
    return image


def render() -> np.ndarray:
    """A wallpaper-like render: a slow sky gradient and a shaded ball, computed exactly (no noise)."""
    y, x = np.mgrid[0:768, 0:1024].astype(np.float32)
    sky = np.stack([70 + 30 * y / 768, 110 + 40 * y / 768, 200 + 30 * y / 768], axis=-1)
    light = 0.4 + 0.6 * np.clip(1 - np.hypot(x - 540, y - 340) / 300, 0, 1)
    ball = (230 * light)[..., None] * np.array([1.0, 0.55, 0.2])
    image = np.where((np.hypot(x - 600, y - 400) < 220)[..., None], ball, sky)
    return np.round(image).astype(np.uint8)


def icon() -> np.ndarray:
    image = np.zeros((512, 512, 4), np.uint8)
    cv2.circle(image, (256, 256), 150, (250, 200, 30, 255), -1, lineType=cv2.LINE_AA)
    return image


def text_scan() -> np.ndarray:
    image = np.full((512, 512), 255, np.uint8)
    for line in range(12):
        cv2.putText(
            image, "the quick brown fox", (10, 40 + 38 * line), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2, cv2.LINE_AA
        )
    return np.repeat(image[..., None], 3, axis=-1)


def chart() -> np.ndarray:
    rng = np.random.default_rng(3)
    image = np.full((512, 512, 3), 245, np.uint8)
    for index, height in enumerate(rng.integers(50, 400, 8)):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.rectangle(image, (30 + 60 * index, 480 - int(height)), (70 + 60 * index, 480), colour, -1)
    return np.clip(image + rng.normal(0, 1.0, image.shape), 0, 255).astype(np.uint8)


def fixture_photo() -> np.ndarray:
    return np.asarray(Image.open(FIXTURES / "chickens.jpg").convert("RGB"))


# -- never-train.tsv ---------------------------------------------------------------------------------------

NEVER_TRAIN = (
    "# Photos reserved for an independent evaluation.\n"
    "# matched by package and path inside it\n"
    "source\toriginal_path\tupstream\n"
    "gcompris-qt-data 3.1-2 (Debian)\t/usr/share/gcompris-qt/rcc/erase.rcc :/gcompris/src/activities/erase/resource/"
    "cheetah.webp\thttps://commons.wikimedia.org/wiki/File:Cheetah.jpg\n"
    "lomiri-wallpapers-16.04 20.04.0-2 (Debian)\t/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg\t\n"
    "scikit-image 0.26.0 (PyPI)\tskimage/data/coffee.png\t\n"
    "plasma-workspace-wallpapers 4:5.27.5-2 (Debian)\t/usr/share/wallpapers/Path/contents/images/2560x1600.jpg\t\n"
)


def test_never_train_rows_are_package_and_path(bts, tmp_path):
    path = tmp_path / "never-train.tsv"
    path.write_text(NEVER_TRAIN, encoding="utf-8")
    reserved = bts.read_never_train(path)
    assert reserved == {
        (
            "gcompris-qt-data",
            "/usr/share/gcompris-qt/rcc/erase.rcc :/gcompris/src/activities/erase/resource/cheetah.webp",
        ),
        ("lomiri-wallpapers-16.04", "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg"),
        ("scikit-image", "skimage/data/coffee.png"),
        ("plasma-workspace-wallpapers", "/usr/share/wallpapers/Path/contents/images/2560x1600.jpg"),
    }


def test_reserved_by_path_or_by_name_within_the_package(bts, tmp_path):
    path = tmp_path / "never-train.tsv"
    path.write_text(NEVER_TRAIN, encoding="utf-8")
    reserved = bts.read_never_train(path)
    rcc = "/usr/share/gcompris-qt/rcc/erase.rcc :/gcompris/src/activities/erase/resource/cheetah.webp"
    assert "never-train.tsv" in bts.reserved_match(reserved, "gcompris-qt-data", rcc)
    # the same photo in another activity's archive of the same package
    other = "/usr/share/gcompris-qt/rcc/categorization.rcc :/gcompris/src/activities/categorization/cheetah.webp"
    assert "of this name" in bts.reserved_match(reserved, "gcompris-qt-data", other)
    assert bts.reserved_match(reserved, "scikit-image", "skimage/data/coffee.png")
    assert bts.reserved_match(reserved, "scikit-image", "skimage/data/camera.png") is None
    assert (
        bts.reserved_match(reserved, "lomiri-wallpapers-20.04", "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg")
        is None
    )
    assert bts.reserved_match(reserved, "palapeli-data", rcc) is None
    # a name that is only a size says nothing: other wallpapers of the package are not reserved by it
    plasma = "/usr/share/wallpapers/{}/contents/images/2560x1600.jpg"
    assert bts.reserved_match(reserved, "plasma-workspace-wallpapers", plasma.format("Path"))
    assert bts.reserved_match(reserved, "plasma-workspace-wallpapers", plasma.format("Kite")) is None


def test_the_real_never_train_list_parses(bts):
    path = REPO.parent / "shared" / "data" / "never-train.tsv"
    if not path.exists():
        pytest.skip("../shared/data/never-train.tsv is not here")
    reserved = bts.read_never_train(path)
    assert len(reserved) >= 40
    assert all(package and inside for package, inside in reserved)
    assert any(" :/gcompris/" in inside for _, inside in reserved)  # rows inside .rcc archives


def build_rcc(files: dict[str, bytes], compress: set[str]) -> bytes:
    """A version-1 Qt resource archive holding files ("a/b.png") in one level of folders."""
    names, payload, nodes = bytearray(), bytearray(), []

    def name_offset(name: str) -> int:
        offset = len(names)
        names.extend(struct.pack(">HI", len(name), 0) + name.encode("utf-16-be"))
        return offset

    folders: dict[str, list[str]] = {}
    for path in files:
        folder, name = path.split("/")
        folders.setdefault(folder, []).append(name)
    nodes.append(None)  # the root, filled in below
    folder_nodes = []
    for folder in folders:
        folder_nodes.append(len(nodes))
        nodes.append([name_offset(folder), folder])
    root = struct.pack(">IHII", 0, 2, len(folders), 1)
    for index, folder in zip(folder_nodes, folders, strict=True):
        first = len(nodes)
        for name in folders[folder]:
            data = files[f"{folder}/{name}"]
            flags = 0
            if name in compress:
                data, flags = struct.pack(">I", len(data)) + zlib.compress(data), 1
            nodes.append(struct.pack(">IHHHI", name_offset(name), flags, 0, 0, len(payload)))
            payload.extend(struct.pack(">I", len(data)) + data)
        offset, _ = nodes[index]
        nodes[index] = struct.pack(">IHII", offset, 2, len(folders[folder]), first)
    nodes[0] = root
    tree = b"".join(nodes)
    header = 20
    return (
        b"qres"
        + struct.pack(">IIII", 1, header, header + len(tree), header + len(tree) + len(payload))
        + tree
        + payload
        + names
    )


def test_rcc_archives_are_read_and_named_as_in_never_train(bts):
    archive = build_rcc({"res/README": b"Files: cheetah.webp", "res/cheetah.webp": b"pixels" * 50}, {"cheetah.webp"})
    assert bts.read_rcc(archive) == {":/res/README": b"Files: cheetah.webp", ":/res/cheetah.webp": b"pixels" * 50}
    contents = bts.Contents("gcompris-qt-data", "3.1-2", "gcompris-qt-data 3.1-2 (Debian)", {"/x/erase.rcc": archive})
    contents.expand_rcc(["/x/*.rcc :/res/*"])
    assert sorted(contents.files) == ["/x/erase.rcc :/res/README", "/x/erase.rcc :/res/cheetah.webp"]


# -- the photo check ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("image", [natural(0), natural(1, gray=True), fixture_photo()], ids=["colour", "grey", "photo"])
def test_photos_pass(bts, image):
    assert bts.photo_check(image) is None


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (drawing(), "drawing"),
        (render(), "render"),
        (icon(), "transparent"),
        (text_scan(), "grey levels"),
        (chart(), "colours"),
        (np.zeros((512, 512, 3), np.uint8), "black or white"),
    ],
    ids=["drawing", "render", "icon", "text", "chart", "black"],
)
def test_drawings_renders_and_icons_are_dropped(bts, image, words):
    reason = bts.photo_check(image)
    assert reason is not None and words in reason


# -- near-duplicates ---------------------------------------------------------------------------------------


def test_perceptual_hash_sees_through_scaling_and_recompression(bts):
    photo = natural(0)
    buffer = io.BytesIO()
    Image.fromarray(photo).resize((400, 400)).save(buffer, "JPEG", quality=70)
    copy = np.asarray(Image.open(buffer))
    assert bts.hash_distance(bts.phash(photo), bts.phash(copy)) <= bts.HASH_DISTANCE
    assert bts.hash_distance(bts.phash(photo), bts.phash(natural(5))) > bts.HASH_DISTANCE


def test_duplicates_of_known_photos_are_found(bts):
    photo = fixture_photo()
    known = [
        bts.Known.of("photos/other.jpg", "some-package", natural(7)),
        bts.Known.of("photos/chickens.jpg", "x", photo),
    ]
    smaller = np.asarray(Image.fromarray(photo).resize((192, 128)))
    assert bts.duplicate_of(smaller, "y", known) == "near-duplicate of photos/chickens.jpg"
    assert bts.duplicate_of(natural(8), "y", known) is None
    # a shifted crop (another shot of the same scene) is caught within the same package only
    crop = np.ascontiguousarray(photo[20:, 30:])
    assert bts.duplicate_of(crop, "x", known[1:]) == "the same scene as photos/chickens.jpg"
    assert bts.duplicate_of(crop, "y", known[1:]) is None


# -- licences ----------------------------------------------------------------------------------------------

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: wallpapers

Files: *
Copyright: 2020 The Team <team@example.org>
License: GPL-2+

Files: 16.04/lake_by_Ann.jpg
Copyright: Ann Example, 2018
License: CC-BY-4.0

Files: debian/*
Copyright: 2023 Packager
License: Expat
"""


def contents_with(bts, files: dict[str, str]):
    return bts.Contents("wallpapers", "1.0-1", "wallpapers 1.0-1 (Debian)", {k: v.encode() for k, v in files.items()})


def test_debian_copyright_file_names_the_licence(bts):
    contents = contents_with(bts, {"/usr/share/doc/wallpapers/copyright": DEP5})
    rule = bts.Dep5(("/usr/share/backgrounds/", "16.04/"))
    assert rule(contents, "/usr/share/backgrounds/lake_by_Ann.jpg") == bts.Attribution("CC-BY-4.0", "Ann Example, 2018")
    blanket = rule(contents, "/usr/share/backgrounds/other.jpg")
    assert blanket.licence.startswith("GPL-2+ (Debian copyright file, Files: *") and blanket.author == "2020 The Team"
    assert "source tree" in rule(contents, "/usr/share/elsewhere/x.jpg")
    assert "not found" in rule(contents_with(bts, {}), "/usr/share/backgrounds/lake_by_Ann.jpg")


def test_desktop_files_and_resource_readmes(bts):
    desktop = "[Desktop Entry]\nIcon=bee.jpg\nX-KDE-PluginInfo-Author=J. Doe\nX-KDE-PluginInfo-License=Public Domain\n"
    desktop += "X-KDE-PluginInfo-Website=https://example.org/bee\n"
    contents = contents_with(bts, {"/p/collection/bee.desktop": desktop})
    found = bts.DesktopEntry()(contents, "/p/collection/bee.jpg")
    assert found == bts.Attribution("Public Domain (per bee.desktop)", "J. Doe", "https://example.org/bee")
    assert isinstance(bts.DesktopEntry()(contents, "/p/collection/wasp.jpg"), str)

    readme = "Copyright: Ruthven\nLicense: CC0-1.0\nSource: https://example.org/sea1\nFiles:\nsea1.webp\n\n"
    readme += "Copyright: Someone\nSource: https://example.org/sea2\nComments: cropping\nFiles: sea2.webp\n"
    archive = "/usr/share/g/rcc/clickgame.rcc"
    contents = contents_with(bts, {f"{archive} :/g/clickgame/resource/README": readme})
    first = bts.ResourceReadme()(contents, f"{archive} :/g/clickgame/resource/sea1.webp")
    assert first == bts.Attribution(
        "CC0-1.0 (per the activity's resource README)", "Ruthven", "https://example.org/sea1"
    )
    assert "without a licence" in bts.ResourceReadme()(contents, f"{archive} :/g/clickgame/resource/sea2.webp")
    assert (
        bts.ResourceReadme()(contents, f"{archive} :/g/clickgame/resource/sea3.webp") == "no resource README names it"
    )


def test_stated_licences_must_be_found_in_the_package(bts):
    statement = bts.Statement("CC0-1.0", "L. V.", quotes=("CC0 by the photographer (L. V.)",))
    rule = bts.Stated("pkg/_fetchers.py", None, {"camera.png": statement})
    good = contents_with(
        bts, {"pkg/_fetchers.py": "No copyright restrictions.\n    CC0 by the photographer\n (L. V.)."}
    )
    assert rule(good, "pkg/data/camera.png") == bts.Attribution("CC0-1.0", "L. V.")
    assert "no licence stated" in rule(good, "pkg/data/moon.png")
    assert "not found" in rule(contents_with(bts, {"pkg/_fetchers.py": "All rights reserved."}), "pkg/data/camera.png")
    assert bts.NotEstablished("why")(good, "x.jpg") == "why"


def test_every_catalogue_entry_can_state_a_licence(bts):
    for package in bts.PACKAGES:
        assert package.registry in ("debian", "pypi") and package.include and callable(package.licence)


# -- names and the TSV -------------------------------------------------------------------------------------


def test_output_names_avoid_holdout_validation_and_each_other(bts):
    taken = {"gcompris-alpaca.jpg", "scribus-moon.jpg"}
    assert bts.output_name("gcompris", "/r/erase.rcc :/a/resource/alpaca.webp", taken) == "gcompris-resource-alpaca.jpg"
    assert bts.output_name("scribus", "/t/cal2/moon.jpg", taken) == "scribus-cal2-moon.jpg"
    assert bts.output_name("lxqt", "/w/Butterfly-Kenneth-Wimer.jpg", set()) == "lxqt-butterfly-kenneth-wimer.jpg"
    assert bts.output_name("opencv", "/d/leuvenA.jpg", set()) == "opencv-leuven-a.jpg"


def test_photos_are_scaled_down_to_the_short_side_never_up(bts):
    assert bts.scaled(Image.new("RGB", (1280, 1024))).size == (800, 640)
    assert bts.scaled(Image.new("RGB", (512, 600))).size == (512, 600)


def test_attribution_tsv_has_the_shared_columns_and_a_licence_on_every_row(bts, tmp_path):
    rows = [
        {"file": "b.jpg", "source": "pkg 1.0 (Debian)", "original_path": "/usr/b.jpg", "licence": "CC0-1.0"},
        {
            "file": "a.jpg",
            "source": "pkg 1.0 (Debian)",
            "original_path": "/usr/a\tb.jpg",
            "licence": "GPL-2+\n(x)",
            "author": "A. B.",
            "upstream": "https://example.org",
        },
    ]
    path = tmp_path / "ATTRIBUTION.tsv"
    bts.write_attribution(path, rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "file\tsource\toriginal_path\tlicence\tauthor\tupstream"
    shared = REPO.parent / "shared" / "data" / "photos" / "ATTRIBUTION.tsv"
    if shared.exists():
        assert shared.read_text(encoding="utf-8").splitlines()[0] == lines[0]
    assert [line.split("\t") for line in lines[1:]] == [
        ["a.jpg", "pkg 1.0 (Debian)", "/usr/a b.jpg", "GPL-2+ (x)", "A. B.", "https://example.org"],
        ["b.jpg", "pkg 1.0 (Debian)", "/usr/b.jpg", "CC0-1.0", "", ""],
    ]
    assert [row["file"] for row in bts.read_attribution(path)] == ["a.jpg", "b.jpg"]
    with pytest.raises(ValueError, match="licence"):
        bts.write_attribution(path, [{"file": "c.jpg", "source": "pkg", "original_path": "/c.jpg", "licence": " "}])
