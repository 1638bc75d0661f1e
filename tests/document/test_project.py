""".inpaint project files: exact round trips (layers, extent, metadata, undo history) and damaged files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from inpaintstudio.document.brush import Brush
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import history_io, project
from inpaintstudio.document.io.imageio import ImageMeta
from inpaintstudio.engine.request import FillResult
from inpaintstudio.errors import ImageLoadError, ImageSaveError
from inpaintstudio.geometry import Rect
from tests.project_zip import rewrite, set_size

META = ImageMeta(
    format="JPEG",
    mode="RGB",
    exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00",
    icc=bytes(range(256)) * 3,
    gray=False,
    bit_depth=8,
    dpi=(300.0, 72.5),
    orientation=6,
)


def stroke(doc: Document, points, layer="mask", size=14.0, erase=False, hardness=0.6) -> None:
    s = doc.begin_stroke(layer, Brush(size, hardness), erase=erase)
    for x, y in points:
        s.add_point(x, y)
    s.end()


def fake_fill(doc: Document, grow: tuple[int, int, int, int] = (0, 0, 0, 0), seed: int = 0) -> None:
    """A fill result made by hand (the pipeline is tested elsewhere): random pixels in the hole and the new
    borders ``grow`` = (left, top, right, bottom)."""
    left, top, right, bottom = grow
    h, w = doc.height + top + bottom, doc.width + left + right
    image = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    filled = np.ones((h, w), bool)
    filled[top : top + doc.height, left : left + doc.width] = doc.hole()
    result = FillResult.whole(image, filled, (left, top), (doc.width, doc.height), "test")
    assert doc.apply_fill(result)


def edited(doc: Document) -> Document:
    """Every kind of history step: strokes (mask, sketch, exclusion, erase), layer edits, extent, fill with
    canvas growth."""
    stroke(doc, [(10, 10), (60, 40), (90, 20)])
    stroke(doc, [(20, 50), (80, 55)], layer="sketch", size=3)
    stroke(doc, [(5, 80), (40, 85)], layer="exclude", size=8)
    stroke(doc, [(30, 5), (30, 60)], erase=True, size=6)
    doc.invert_mask()
    doc.invert_mask()
    doc.set_extent(Rect(-6, -4, doc.width + 10, doc.height + 8))
    fake_fill(doc, (6, 4, 4, 4))
    stroke(doc, [(5, 5), (40, 30)])
    fake_fill(doc, seed=1)
    stroke(doc, [(50, 50), (70, 10)], layer="sketch", size=5)
    doc.clear_layer("sketch")
    stroke(doc, [(12, 70), (100, 70)])
    return doc


def states(doc: Document) -> list[tuple]:
    """The layers and extent at every history position (walks the history, then returns to where it was)."""
    here = doc.history.position
    out = []
    for position in range(len(doc.history.edits) + 1):
        doc.jump_to(position)
        out.append(({k: v.copy() for k, v in doc.layers().items()}, doc.extent))
    doc.jump_to(here)
    return out


def assert_same_states(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for (layers_a, extent_a), (layers_b, extent_b) in zip(a, b, strict=True):
        assert extent_a == extent_b
        assert layers_a.keys() == layers_b.keys()
        for name in layers_a:
            assert layers_a[name].dtype == layers_b[name].dtype
            assert np.array_equal(layers_a[name], layers_b[name]), name


@pytest.mark.parametrize(
    ("dtype", "alpha"), [(np.uint8, False), (np.uint8, True), (np.uint16, False), (np.uint16, True)]
)
def test_layers_extent_and_meta_round_trip_exactly(tmp_path, dtype, alpha):
    rng = np.random.default_rng(3)
    top = np.iinfo(dtype).max
    pixels = rng.integers(0, top + 1, (45, 67, 3), dtype=dtype)
    alpha_layer = rng.integers(0, top + 1, (45, 67), dtype=dtype) if alpha else None
    meta = META if dtype == np.uint8 else ImageMeta("PNG", "RGB;16", None, None, False, 16, None, 1)
    doc = Document(pixels, alpha_layer, meta, tmp_path / "photo.jpg")
    doc.layer("mask")[...] = rng.integers(0, 256, (45, 67), dtype=np.uint8)
    doc.layer("sketch")[5:20, 3:9] = 77
    doc.layer("exclude")[30:40, 10:50] = 200
    doc.set_extent(Rect(-3, -9, 80, 70))
    path = tmp_path / "session.inpaint"
    project.save_project(doc, path)
    assert not doc.dirty and doc.project_path == path and doc.path == tmp_path / "photo.jpg"

    back = project.load_project(path)
    for name, layer in doc.layers().items():
        assert back.layer(name).dtype == layer.dtype and np.array_equal(back.layer(name), layer), name
    assert (back.alpha is None) == (not alpha)
    assert back.extent == doc.extent and back.meta == doc.meta
    assert back.path == tmp_path / "photo.jpg" and back.project_path == path
    assert not back.dirty
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"project.json", "image.png", "mask.png", "sketch.png", "exclude.png"} <= names
        description = json.loads(zf.read("project.json"))
    assert description["version"] == project.FORMAT_VERSION and description["extent"] == [-3, -9, 80, 70]


def test_history_round_trip_gives_the_same_undo_and_redo(tmp_path, photo):
    doc = edited(Document(photo[:90, :120]))
    doc.undo()
    doc.undo()  # a redo branch is stored too
    before = states(doc)
    path = tmp_path / "work.inpaint"
    project.save_project(doc, path)
    back = project.load_project(path)
    assert back.history.labels() == doc.history.labels()
    assert back.history.position == doc.history.position
    assert_same_states(states(back), before)
    assert not back.dirty
    back.redo()
    assert back.dirty
    back.jump_to(0)  # all the way back, across the canvas growth
    assert (back.width, back.height) == (120, 90) and back.extent == Rect(0, 0, 120, 90)
    assert np.array_equal(back.image, photo[:90, :120]) and not back.mask.any()


def test_history_is_capped_to_the_last_steps(tmp_path, photo):
    doc = Document(photo[:64, :64])
    for i in range(8):
        stroke(doc, [(4 + 6 * i, 4), (4 + 6 * i, 60)], size=4)
    snapshot = project.capture(doc, max_steps=5)
    assert snapshot.steps == 5
    path = tmp_path / "capped.inpaint"
    project.write_snapshot(snapshot, path)
    back, saved = project.read_project(path)
    assert len(back.history.edits) == 5 and back.history.position == 5
    assert saved is None  # the autosaved document had never been saved
    back.jump_to(0)
    doc.jump_to(3)
    assert np.array_equal(back.mask, doc.mask)
    assert history_io.window(doc.history, 50, 1) == (3, 3)  # a byte cap below one step keeps none


def test_identical_patches_are_stored_once(photo):
    doc = Document(photo[:64, :64])
    for _ in range(4):
        stroke(doc, [(10, 10), (50, 50)], size=10)
        stroke(doc, [(10, 10), (50, 50)], size=10, erase=True)
    _, chunks = history_io.serialise(doc.history, 0)
    assert sum(len(c) for c in chunks) < doc.history.nbytes / 3


def test_without_history(tmp_path, photo):
    doc = edited(Document(photo[:90, :120]))
    path = tmp_path / "flat.inpaint"
    project.save_project(doc, path, history=False)
    back = project.load_project(path)
    assert not back.history.edits and np.array_equal(back.mask, doc.mask) and back.extent == doc.extent
    with zipfile.ZipFile(path) as zf:
        assert not any(n.startswith("history/") for n in zf.namelist())


def test_save_refuses_other_suffixes_and_keeps_the_old_file_on_failure(tmp_path, photo, monkeypatch):
    doc = Document(photo[:32, :32])
    with pytest.raises(ImageSaveError, match=".inpaint"):
        project.save_project(doc, tmp_path / "photo.jpg")
    path = tmp_path / "p.inpaint"
    project.save_project(doc, path)
    good = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project, "_encode_pil", broken)
    with pytest.raises(ImageSaveError, match="No space left"):
        project.save_project(doc, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["p.inpaint"]


# -- damaged and hostile project files --------------------------------------------------------------------


def _saved(tmp_path, photo) -> bytes:
    doc = edited(Document(photo[:90, :120]))
    path = tmp_path / "good.inpaint"
    project.save_project(doc, path)
    return path.read_bytes()


def _json_change(key, value, member="project.json"):
    def change(members):
        data = json.loads(members[member])
        data[key] = value
        members[member] = json.dumps(data).encode()

    return change


def _replace_png(name, image):
    def change(members):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        members[name] = buffer.getvalue()

    return change


def _history_edit(mutate):
    def change(members):
        index = json.loads(members["history/index.json"])
        mutate(index)
        members["history/index.json"] = json.dumps(index).encode()

    return change


CASES = {
    "newer version": (_json_change("version", 99), "newer InpaintStudio"),
    "other format": (_json_change("format", "something-else"), "not an InpaintStudio project"),
    "no description": (lambda m: m.pop("project.json"), "no project.json"),
    "bad json": (lambda m: m.update({"project.json": b"{nope"}), "not valid JSON"),
    "wrong size": (_json_change("width", 3), "the project says 3x"),
    "bad extent": (_json_change("extent", [5, 5, 10, 10]), "extent does not contain"),
    "bad meta": (_json_change("meta", {"gray": "yes"}), "metadata"),
    "bad exif": (
        lambda m: _json_change("meta", {**json.loads(m["project.json"])["meta"], "exif": "%%%"})(m),
        "base64",
    ),
    "dtype lie": (_json_change("dtype", "uint16"), "expected uint16"),
    "alpha lie": (_json_change("alpha", True), "alpha"),
    "mask missing": (lambda m: m.pop("mask.png"), "no mask.png"),
    "mask wrong size": (_replace_png("mask.png", Image.new("L", (10, 10))), "mask.png is 10x10"),
    "mask in colour": (_replace_png("sketch.png", Image.new("RGB", (120, 90))), "8-bit grayscale"),
    "image not png": (lambda m: m.update({"image.png": b"GIF89a" + b"\0" * 40}), "image.png"),
    "history format": (_history_edit(lambda i: i.update(format=7)), "history format"),
    "history position": (_history_edit(lambda i: i.update(position=999)), "position"),
    "history kind": (_history_edit(lambda i: i["edits"][0].update(kind="exec")), "unknown kind"),
    "history layer": (_history_edit(lambda i: i["edits"][0].update(layer="../etc")), "unknown layer"),
    "history dtype": (
        _history_edit(lambda i: i["edits"][0]["before"][0][2].__setitem__(3, "<f8")),
        "dtype",
    ),
    "history patch outside": (
        _history_edit(lambda i: i["edits"][0]["before"][0][2].__setitem__(0, 10**9)),
        "outside the patch file",
    ),
    "history tile outside": (
        _history_edit(lambda i: [i["edits"][0][k][0].__setitem__(0, 1000) for k in ("before", "after")]),
        "outside the layer",
    ),
    "history blobs truncated": (
        lambda m: m.update({"history/blobs.bin": m["history/blobs.bin"][:100]}),
        "history",
    ),
    "history blob corrupt": (
        lambda m: m.update({"history/blobs.bin": bytes(len(m["history/blobs.bin"]))}),
        "corrupt",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_projects_give_clear_errors(tmp_path, photo, case):
    change, words = CASES[case]
    path = tmp_path / "bad.inpaint"
    path.write_bytes(rewrite(_saved(tmp_path, photo), change))
    with pytest.raises(ImageLoadError, match=words) as info:
        project.load_project(path)
    assert str(path) in str(info.value)


def test_truncated_and_non_zip_files(tmp_path, photo):
    data = _saved(tmp_path, photo)
    path = tmp_path / "cut.inpaint"
    for cut in (0, 10, len(data) // 3, len(data) - 30):
        path.write_bytes(data[:cut])
        with pytest.raises(ImageLoadError):
            project.load_project(path)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImageLoadError, match="not a zip"):
        project.load_project(path)
    with pytest.raises(ImageLoadError, match="no such file"):
        project.load_project(tmp_path / "missing.inpaint")


def test_zip_bombs_are_refused_before_inflating(tmp_path, photo):
    data = _saved(tmp_path, photo)
    # A member that says it inflates to 3 GB: refused from the sizes in the directory, nothing is inflated.
    padded = rewrite(data, lambda m: m.update({"padding.bin": bytes(1 << 20)}))
    bomb = tmp_path / "bomb.inpaint"
    bomb.write_bytes(set_size(padded, "padding.bin", 3_000_000_000))
    with pytest.raises(ImageLoadError, match="would unpack to"):
        project.load_project(bomb, max_pixels=1_000_000)
    # Too many members.
    many = tmp_path / "many.inpaint"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(100):
            zf.writestr(f"m{i}", b"")
    with pytest.raises(ImageLoadError, match="members"):
        project.load_project(many)
    # A member whose zip entry understates its size is read no further than it says.
    liar = tmp_path / "liar.inpaint"
    liar.write_bytes(set_size(data, "project.json", 40))
    with pytest.raises(ImageLoadError, match="project.json"):
        project.load_project(liar)


# -- issue 16: decompression bounded by the pixel limit, every failure an ImageLoadError -----------------


def _small_project(tmp_path, photo) -> bytes:
    """A 120 x 90 project with no history (the tests below add their own)."""
    path = tmp_path / "small.inpaint"
    project.save_project(Document(photo[:90, :120]), path)
    return path.read_bytes()


def _with_history(data: bytes, index: dict, blobs: bytes) -> bytes:
    def change(members):
        members["project.json"] = json.dumps({**json.loads(members["project.json"]), "history": True}).encode()
        members["history/index.json"] = json.dumps(index).encode()
        members["history/blobs.bin"] = blobs

    return rewrite(data, change)


def _canvas_growth_to(width: int, height: int) -> tuple[dict, bytes]:
    """A history whose one (redo) step grows the 120 x 90 canvas to ``width`` x ``height``: strips whose
    patches are a few kilobytes of zlib that inflate to the whole new canvas."""
    import zlib

    blobs, strips = b"", {}
    for layer, channels in (("image", 3), ("mask", 1), ("sketch", 1)):
        shape = [height, width, 3] if channels == 3 else [height, width]
        data = zlib.compress(bytes(width * height * channels), 9)
        strips[layer] = [[[0, 0, width, height], [len(blobs), len(data), shape, "|u1"]]]
        blobs += data
    step = {
        "kind": "canvas",
        "label": "Extend canvas",
        "old_size": [120, 90],
        "offset": [0, 0],
        "old_extent": [0, 0, 120, 90],
        "strips": strips,
    }
    index = {"format": 1, "position": 0, "saved_position": 0, "dropped": 0, "blob_bytes": len(blobs), "edits": [step]}
    return index, blobs


def test_an_image_member_larger_than_its_pixels_can_be_is_refused_before_inflating(tmp_path, photo):
    # A PNG followed by megabytes of zeros: a few kilobytes in the zip; its PNG decodes fine.
    padded = rewrite(
        _small_project(tmp_path, photo), lambda m: m.update({"image.png": m["image.png"] + bytes(8 << 20)})
    )
    path = tmp_path / "padded.inpaint"
    path.write_bytes(padded)
    assert path.stat().st_size < 100_000
    with pytest.raises(ImageLoadError, match="image.png is implausibly large"):
        project.load_project(path)


def test_a_history_canvas_above_the_pixel_limit_is_refused_before_inflating(tmp_path, photo):
    index, blobs = _canvas_growth_to(2000, 1500)
    path = tmp_path / "history-bomb.inpaint"
    path.write_bytes(_with_history(_small_project(tmp_path, photo), index, blobs))
    with pytest.raises(ImageLoadError, match=r"2000x1500 \(3 megapixels\), above the limit of 1 megapixels"):
        project.load_project(path, max_pixels=1_000_000)
    assert project.load_project(path, max_pixels=4_000_000).history.can_redo()  # within the limit it is fine


def test_a_patch_shape_whose_size_overflows_is_damage(tmp_path, photo):
    index, blobs = _canvas_growth_to(2000, 1500)
    huge = 2**31 - 1
    for [[rect, ref]] in index["edits"][0]["strips"].values():
        rect[2:] = [huge, huge]
        ref[2][:2] = [huge, huge]
    path = tmp_path / "overflow.inpaint"
    path.write_bytes(_with_history(_small_project(tmp_path, photo), index, blobs))
    with pytest.raises(ImageLoadError, match="overflow.inpaint"):
        project.load_project(path, max_pixels=None)


def test_deeply_nested_json_is_damage_not_a_recursion_error(tmp_path, photo):
    nested = b"[" * 200_000 + b"]" * 200_000
    for member in ("project.json", "history/index.json"):
        path = tmp_path / "nested.inpaint"
        data = _small_project(tmp_path, photo)
        if member == "history/index.json":
            data = _with_history(data, {}, b"")
        path.write_bytes(rewrite(data, lambda m, member=member: m.update({member: nested})))
        with pytest.raises(ImageLoadError, match="nested.inpaint"):
            project.load_project(path)
