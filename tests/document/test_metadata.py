"""Metadata a photographer expects to survive (issue 19): XMP, PNG text chunks, IPTC / Photoshop resources,
beside EXIF, ICC and DPI, through saving in every format, `fill` (twice in a row), `batch`, extended
borders and `.inpaint` projects; and one note naming what a format cannot carry."""

from __future__ import annotations

import functools
import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from inpaintstudio.cli import main
from inpaintstudio.commands.common import fill_file
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import imageio, metadata, project
from inpaintstudio.document.io.metadata import TextChunk
from inpaintstudio.errors import ImageLoadError
from tests.project_zip import rewrite

W, H = 64, 48  # stored size of the test photos
XMP_NS = (
    b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def xmp_packet(orientation: int, width: int, height: int) -> bytes:
    """An XMP packet as Lightroom / darktable write one: orientation and sizes as attributes and
    elements, a rating, keywords, a non-ASCII caption, and padding."""
    return (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" ' + XMP_NS + b' tiff:Orientation="%d" tiff:ImageWidth="%d" '
        b'tiff:ImageLength="%d" xmp:Rating="4"><exif:PixelXDimension>%d</exif:PixelXDimension>'
        b"<exif:PixelYDimension>%d</exif:PixelYDimension>"
        b"<dc:subject><rdf:Bag><rdf:li>hen</rdf:li><rdf:li>farm</rdf:li></rdf:Bag></dc:subject>"
        b'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Poules \xc3\xa0 la ferme</rdf:li></rdf:Alt>'
        b"</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>\n" + b" " * 200 + b'\n<?xpacket end="w"?>'
    ) % (orientation, width, height, width, height)


IPTC = (  # IPTC-IIM: caption, copyright, two keywords
    b"\x1c\x02\x78\x00\x0eA hen, resting\x1c\x02\x74\x00\x0c(c) Example\x1c\x02\x19\x00\x03hen\x1c\x02\x19\x00\x04farm"
)


def resource(ident: int, body: bytes) -> bytes:
    return (
        b"8BIM"
        + struct.pack(">H", ident)
        + b"\x00\x00"
        + struct.pack(">I", len(body))
        + body
        + b"\x00" * (len(body) & 1)
    )


PHOTOSHOP = resource(0x0404, IPTC) + resource(0x0425, bytes(range(16)))  # IPTC and its digest
THUMBNAIL = resource(0x040C, b"\x00" * 28 + b"old pixels of the thumbnail")


def pixels(width: int = W, height: int = H) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 4 % 256, y * 5 % 256, (x + y) * 3 % 256]).astype(np.uint8)


@functools.cache
def srgb() -> bytes:  # once: a new profile carries a new creation time
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(orientation: int, width: int, height: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCamera"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769).update({0xA002: width, 0xA003: height, 0x9003: "2026:01:02 03:04:05"})
    return exif.tobytes()


def make_jpeg(path, orientation: int = 6):
    """A camera JPEG edited in Lightroom: EXIF, XMP, IPTC with a stale thumbnail, a comment, ICC, DPI."""
    Image.fromarray(pixels()).save(
        path,
        quality=95,
        exif=camera_exif(orientation, W, H),
        xmp=xmp_packet(orientation, W, H),
        extra=metadata.photoshop_app13(PHOTOSHOP + THUMBNAIL),
        comment=b"a comment",
        icc_profile=srgb(),
        dpi=(300, 300),
    )
    return path


GENERATION = "a hen on a farm, photo\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 42"
PNG_TEXT = (
    TextChunk("parameters", GENERATION),
    TextChunk("Comment", "zipped comment", "zTXt"),
    TextChunk("Title", "Hühner", "iTXt", True, "de", "Titel"),
    TextChunk("Author", "Ünal", "iTXt"),
)


def make_png(path):
    """An image generator's PNG: its `parameters` chunk, other text chunks of every kind, XMP, EXIF, ICC."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", GENERATION)
    info.add_itxt(metadata.XMP_KEY, xmp_packet(1, W, H))
    info.add_text("Comment", "zipped comment", zip=True)
    info.add_itxt("Title", "Hühner", lang="de", tkey="Titel", zip=True)
    info.add_itxt("Author", "Ünal")
    Image.fromarray(pixels()).save(path, pnginfo=info, exif=camera_exif(1, W, H), icc_profile=srgb(), dpi=(150, 150))
    return path


def make_mask(path, width: int, height: int):
    mask = np.zeros((height, width), np.uint8)
    mask[height // 3 : height // 2, width // 3 : width // 2] = 255
    Image.fromarray(mask).save(path)
    return path


def exif_of(meta: imageio.ImageMeta) -> Image.Exif:
    exif = Image.Exif()
    exif.load(meta.exif)
    return exif


def check_photo_meta(meta: imageio.ImageMeta, width: int, height: int, *, text=None, photoshop=PHOTOSHOP):
    """Every item of the test photos, brought up to date for an upright ``width`` x ``height`` file."""
    assert meta.xmp == xmp_packet(1, width, height)
    exif = exif_of(meta)
    assert exif[0x010F] == "TestCamera" and exif[0x0112] == 1
    assert exif.get_ifd(0x8769)[0xA002] == width and exif.get_ifd(0x8769)[0xA003] == height
    assert meta.icc == srgb()
    assert meta.photoshop == photoshop
    if text is not None:
        assert meta.text == text


def jpeg_segments(path) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the image data."""
    data = path.read_bytes()
    pos, found = 2, []
    while data[pos] == 0xFF and data[pos + 1] not in (0xDA, 0xD9):
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        found.append((data[pos + 1], data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return found


def png_chunks(path) -> list[tuple[bytes, bytes]]:
    data, pos, found = path.read_bytes(), 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        found.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return found


# -- reading -----------------------------------------------------------------------------------------


def test_a_jpeg_gives_xmp_iptc_and_its_comment_with_the_orientation_reset(tmp_path):
    loaded = imageio.load_image(make_jpeg(tmp_path / "in.jpg"))
    assert loaded.pixels.shape == (W, H, 3), "orientation 6: stored sideways, upright now"
    assert loaded.meta.orientation == 6
    assert loaded.meta.xmp == xmp_packet(1, W, H), "XMP's orientation is reset like EXIF's, nothing else changes"
    assert loaded.meta.photoshop == PHOTOSHOP, "IPTC and its digest are kept, the stale thumbnail is not"
    assert loaded.meta.text == (TextChunk("Comment", "a comment"),)
    assert loaded.meta.dpi == (300.0, 300.0)


def test_a_png_gives_every_text_chunk_as_it_was(tmp_path):
    meta = imageio.load_image(make_png(tmp_path / "in.png")).meta
    assert meta.text == PNG_TEXT, "the XMP chunk is the XMP, not a text chunk"
    assert meta.xmp == xmp_packet(1, W, H)


def test_xmp_orientation_alone_turns_the_photo_and_is_reset(tmp_path):
    """Pillow honours an orientation stated only in XMP; so must the XMP that is written back."""
    path = tmp_path / "xmp-only.jpg"
    Image.fromarray(pixels()).save(path, xmp=xmp_packet(8, W, H))
    loaded = imageio.load_image(path)
    assert loaded.meta.orientation == 8 and loaded.pixels.shape == (W, H, 3)
    assert loaded.meta.xmp == xmp_packet(1, W, H)


@pytest.mark.parametrize(
    "before,after",
    [
        (b"<tiff:Orientation>6</tiff:Orientation>", b"<tiff:Orientation>1</tiff:Orientation>"),
        (b"<t:Orientation>6</t:Orientation>", b"<t:Orientation>1</t:Orientation>"),
        (b"t:Orientation='8'", b"t:Orientation='1'"),
        (b'tiff:Orientation = "3"', b'tiff:Orientation = "1"'),
        (b'tiff:OrientationNote="6"', b'tiff:OrientationNote="6"'),
        (b'xmp:Orientation="6"', b'xmp:Orientation="6"'),
    ],
)
def test_xmp_orientation_in_every_spelling(before, after):
    head = b'<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    assert metadata.xmp_with(head + before + b"/>", orientation=1) == head + after + b"/>"


def test_xmp_sizes_are_set_only_where_stated():
    packet = b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:ImageWidth="10"/>'
    assert metadata.xmp_with(packet, size=(30, 20)) == packet.replace(b'"10"', b'"30"')
    bare = b'<rdf:Description xmp:Rating="3"/>'
    assert metadata.xmp_with(bare, orientation=1, size=(30, 20)) == bare, "nothing is added"


def test_a_tiff_gives_xmp_iptc_and_photoshop_tags_and_not_as_exif(tmp_path):
    tags = Image.Exif()
    tags.load(camera_exif(1, W, H))
    tags[700] = xmp_packet(1, W, H)
    tags[33723] = IPTC
    tags[34377] = THUMBNAIL + resource(0x03ED, b"\x01" * 16)
    path = tmp_path / "in.tif"
    Image.fromarray(pixels()).save(path, exif=tags)
    meta = imageio.load_image(path).meta
    assert meta.xmp == xmp_packet(1, W, H)
    assert meta.photoshop == resource(0x03ED, b"\x01" * 16) + resource(0x0404, IPTC), "the IPTC tag joins them"
    assert not {700, 33723, 34377} & set(exif_of(meta)), "kept once, in their own places"
    out = tmp_path / "out.jpg"
    imageio.save_image(out, imageio.load_image(path).pixels, None, meta)
    app1 = [p for m, p in jpeg_segments(out) if m == 0xE1 and p.startswith(b"Exif")]
    assert len(app1) == 1 and b"<x:xmpmeta" not in app1[0], "no XMP inside the JPEG's EXIF"
    assert imageio.load_image(out).meta.photoshop == meta.photoshop


def test_imagemagick_raw_profiles_become_exif_and_xmp_not_stale_text(tmp_path):
    def raw(name: str, data: bytes) -> str:
        hexed = data.hex()
        return f"\n{name}\n{len(data):8d}\n" + "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72)) + "\n"

    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", raw("exif", camera_exif(6, W, H)), zip=True)
    info.add_text("Raw profile type xmp", raw("xmp", xmp_packet(6, W, H)), zip=True)
    info.add_text("Raw profile type iptc", raw("iptc", IPTC), zip=True)
    path = tmp_path / "magick.png"
    Image.fromarray(pixels()).save(path, pnginfo=info)
    loaded = imageio.load_image(path)
    assert loaded.meta.orientation == 6 and loaded.pixels.shape == (W, H, 3)
    assert loaded.meta.xmp == xmp_packet(1, W, H)
    assert [c.key for c in loaded.meta.text] == ["Raw profile type iptc"], "others kept as they were"
    out = tmp_path / "out.png"
    imageio.save_image(out, loaded.pixels, None, loaded.meta)
    keys = [p.split(b"\x00")[0] for kind, p in png_chunks(out) if kind in (b"tEXt", b"zTXt", b"iTXt")]
    assert keys == [b"XML:com.adobe.xmp", b"Raw profile type iptc"], "no stale raw EXIF saying 'turn me'"
    assert Image.open(out).getexif()[0x0112] == 1


def test_damaged_text_chunks_are_left_out_and_the_image_opens(tmp_path):
    path = make_png(tmp_path / "in.png")
    data = path.read_bytes()
    chunk = b"zTXt" + b"Broken\x00\x00" + b"not zlib data"
    bad = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    path.write_bytes(data[:33] + bad + data[33:])
    meta = imageio.load_image(path).meta
    assert meta.text == PNG_TEXT


# -- writing every format ----------------------------------------------------------------------------


def resaved(source, out) -> tuple[tuple[str, ...], imageio.ImageMeta]:
    """The notes of saving ``source`` as ``out``, and the metadata read back from ``out``."""
    loaded = imageio.load_image(source)
    notes = imageio.save_image(out, loaded.pixels, None, loaded.meta)
    return notes, imageio.load_image(out).meta


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_jpeg_metadata_in_every_format(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    notes, meta = resaved(make_jpeg(tmp_path / "in.jpg"), out)
    carries_iptc = suffix in (".jpg", ".tif")
    check_photo_meta(meta, H, W, photoshop=PHOTOSHOP if carries_iptc else None)
    assert meta.text == ((TextChunk("Comment", "a comment"),) if suffix in (".jpg", ".png") else ())
    lost = {
        ".jpg": (),
        ".png": ("PNG cannot carry the input's IPTC / Photoshop data: left out (JPEG would keep all of it)",),
        ".tif": ("TIFF cannot carry the input's comment: left out (JPEG would keep all of it)",),
        ".webp": (
            "WebP cannot carry the input's comment, IPTC / Photoshop data and the resolution (DPI): left out "
            "(JPEG would keep all of it)",
        ),
    }
    assert notes == lost[suffix]


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
def test_png_text_chunks_in_every_format(tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    notes, meta = resaved(make_png(tmp_path / "in.png"), out)
    check_photo_meta(meta, W, H, photoshop=None)
    kept = {".png": PNG_TEXT, ".jpg": (TextChunk("Comment", "zipped comment"),), ".tif": (), ".webp": ()}
    assert meta.text == kept[suffix]
    if suffix == ".png":
        assert notes == ()
        kinds = [kind for kind, _ in png_chunks(out) if kind in (b"tEXt", b"zTXt", b"iTXt")]
        assert kinds == [b"iTXt", b"tEXt", b"zTXt", b"iTXt", b"iTXt"], "XMP, then each chunk as the input had it"
    else:
        assert len(notes) == 1 and "parameters" in notes[0] and "PNG would keep all of it" in notes[0], notes


def test_sixteen_bit_colour_keeps_everything_in_png_and_tiff(tmp_path):
    meta = imageio.load_image(make_jpeg(tmp_path / "in.jpg")).meta
    deep = (pixels(H, W).astype(np.uint16) * 257) ^ 0x00FF
    for suffix in (".png", ".tif"):
        out = tmp_path / f"deep{suffix}"
        notes = imageio.save_image(out, deep, None, meta)
        back = imageio.load_image(out)
        assert back.pixels.dtype == np.uint16 and np.array_equal(back.pixels, deep), suffix
        check_photo_meta(back.meta, H, W, photoshop=PHOTOSHOP if suffix == ".tif" else None)
        assert back.meta.dpi is not None and np.allclose(back.meta.dpi, (300, 300), atol=0.01), suffix
        assert len(notes) == 1, "PNG: no IPTC; TIFF: no comment"


def test_jpeg_segment_limits_are_a_note_not_a_failure(tmp_path):
    loaded = imageio.load_image(make_jpeg(tmp_path / "in.jpg"))
    big_xmp = loaded.meta.xmp + b" " * 70_000
    big_text = (TextChunk("Comment", "x" * 70_000), TextChunk("Comment", "short"))
    meta = imageio.ImageMeta(**{**loaded.meta.__dict__, "xmp": big_xmp, "text": big_text})
    out = tmp_path / "out.jpg"
    (note,) = imageio.save_image(out, loaded.pixels, None, meta)
    assert "XMP (larger than a JPEG segment" in note and "comment" in note
    back = imageio.load_image(out).meta
    assert back.xmp is None and back.text == (TextChunk("Comment", "short"),)
    assert back.photoshop == PHOTOSHOP


def test_large_photoshop_resources_span_several_app13_segments(tmp_path):
    loaded = imageio.load_image(make_jpeg(tmp_path / "in.jpg"))
    resources = PHOTOSHOP + resource(0x0FA0, bytes(range(256)) * 600)  # 150 KB of plug-in data
    meta = imageio.ImageMeta(**{**loaded.meta.__dict__, "photoshop": resources})
    out = tmp_path / "out.jpg"
    assert imageio.save_image(out, loaded.pixels, None, meta) == ()
    assert sum(marker == 0xED for marker, _ in jpeg_segments(out)) == 3
    assert imageio.load_image(out).meta.photoshop == resources


# -- fill, twice in a row; extended borders; batch ---------------------------------------------------


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_two_fills_in_a_row_keep_every_item(tmp_path, suffix):
    source = make_jpeg(tmp_path / "in.jpg")
    mask = make_mask(tmp_path / "mask.png", H, W)
    first, second = tmp_path / f"first{suffix}", tmp_path / f"second{suffix}"
    notes = fill_file(source, first, mask=mask, model="telea").notices
    notes_again = fill_file(first, second, mask=mask, model="telea").notices
    carries_iptc = suffix in (".jpg", ".tif")
    for out in (first, second):
        meta = imageio.load_image(out).meta
        check_photo_meta(meta, H, W, photoshop=PHOTOSHOP if carries_iptc else None)
        assert meta.orientation == 1
        assert meta.dpi is None if suffix == ".webp" else np.allclose(meta.dpi, (300, 300), atol=0.01)
    metadata_notes = [n for n in notes if "cannot carry" in n]
    assert len(metadata_notes) == (0 if suffix == ".jpg" else 1), notes
    assert not [n for n in notes_again if "cannot carry" in n], "the second round loses nothing more"


def test_generated_png_keeps_its_parameters_through_two_fills(tmp_path):
    source = make_png(tmp_path / "in.png")
    mask = make_mask(tmp_path / "mask.png", W, H)
    fill_file(source, tmp_path / "first.png", mask=mask, model="telea")
    fill_file(tmp_path / "first.png", tmp_path / "second.png", mask=mask, model="telea")
    for name in ("first.png", "second.png"):
        meta = imageio.load_image(tmp_path / name).meta
        check_photo_meta(meta, W, H, text=PNG_TEXT, photoshop=None)
        assert Image.open(tmp_path / name).text["parameters"] == GENERATION, "as other programs read it"


def test_extended_borders_state_the_new_size(tmp_path):
    source = make_jpeg(tmp_path / "in.jpg")
    out = tmp_path / "wide.jpg"
    fill_file(source, out, mask=None, extend=(6, 2, 10, 4), model="patchmatch")
    width, height = H + 16, W + 6
    assert Image.open(out).size == (width, height)
    check_photo_meta(imageio.load_image(out).meta, width, height)
    again = tmp_path / "again.png"
    fill_file(out, again, mask=None, extend=(0, 0, 4, 0), model="patchmatch")
    check_photo_meta(imageio.load_image(again).meta, width + 4, height, photoshop=None)


def test_cli_fill_says_once_what_the_output_format_cannot_carry(tmp_path, capsys):
    source = make_png(tmp_path / "in.png")
    mask = make_mask(tmp_path / "mask.png", W, H)
    assert main(["fill", str(source), "--mask", str(mask), "--model", "telea", "-o", str(tmp_path / "o.jpg")]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "cannot carry" in line]
    assert notes == [
        "inpaintstudio: note: JPEG cannot carry the input's text chunks (parameters, Title, Author): left out "
        "(PNG would keep all of it)"
    ]
    assert "error" not in err.lower()
    assert main(["fill", str(source), "--mask", str(mask), "--model", "telea", "-o", str(tmp_path / "o.png")]) == 0
    assert "cannot carry" not in capsys.readouterr().err


def test_batch_keeps_metadata_and_says_a_shared_note_once(tmp_path, capsys):
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    for name in ("a", "b", "c"):
        make_png(images / f"{name}.png")
        make_mask(masks / f"{name}.png", W, H)
    args = ["batch", "--images", str(images), "--masks", str(masks), "--model", "telea", "--out", str(out)]
    assert main([*args, "--format", "webp"]) == 0
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "cannot carry" in line]) == 1, err
    for name in ("a", "b", "c"):
        assert imageio.load_image(out / f"{name}.webp").meta.xmp == xmp_packet(1, W, H)
    assert main([*args, "--format", "same", "--overwrite"]) == 0
    assert "cannot carry" not in capsys.readouterr().err
    for name in ("a", "b", "c"):
        check_photo_meta(imageio.load_image(out / f"{name}.png").meta, W, H, text=PNG_TEXT, photoshop=None)


# -- projects ------------------------------------------------------------------------------------------


def test_a_project_saved_and_reopened_keeps_the_metadata(tmp_path):
    doc = Document.open(make_jpeg(tmp_path / "in.jpg"))
    doc.mask[10:20, 10:20] = 255
    original = doc.meta
    project.save_project(doc, tmp_path / "session.inpaint")
    reopened = project.load_project(tmp_path / "session.inpaint")
    assert reopened.meta == original
    notes = reopened.save(tmp_path / "out.jpg")
    assert notes == ()
    meta = imageio.load_image(tmp_path / "out.jpg").meta
    check_photo_meta(meta, H, W, text=(TextChunk("Comment", "a comment"),))


def test_a_generated_png_project_keeps_its_text_chunks(tmp_path):
    doc = Document.open(make_png(tmp_path / "in.png"))
    project.save_project(doc, tmp_path / "gen.inpaint")
    reopened = project.load_project(tmp_path / "gen.inpaint")
    assert reopened.meta.text == PNG_TEXT and reopened.meta == doc.meta
    reopened.save(tmp_path / "out.png")
    check_photo_meta(imageio.load_image(tmp_path / "out.png").meta, W, H, text=PNG_TEXT, photoshop=None)


def _rewrite_meta(path, change) -> None:
    def change_meta(members: dict[str, bytes]) -> None:
        description = json.loads(members["project.json"])
        change(description["meta"])
        members["project.json"] = json.dumps(description).encode()

    path.write_bytes(rewrite(path, change_meta, compression=zipfile.ZIP_STORED))


def test_projects_of_earlier_versions_open_without_the_new_metadata(tmp_path):
    path = tmp_path / "old.inpaint"
    project.save_project(Document.open(make_jpeg(tmp_path / "in.jpg")), path)
    _rewrite_meta(path, lambda meta: [meta.pop(key) for key in ("xmp", "photoshop", "text")])
    meta = project.load_project(path).meta
    assert (meta.xmp, meta.photoshop, meta.text) == (None, None, ())
    assert meta.exif is not None


@pytest.mark.parametrize(
    "text,reason",
    [
        ("nope", "metadata 'text' is invalid"),
        ([{"key": "k", "value": "v"}], "invalid entry"),
        ([{**TextChunk("k", "v").__dict__, "compressed": "yes"}], "invalid entry"),
        ([TextChunk("", "v").__dict__], "is invalid"),
        ([TextChunk("k" * 80, "v").__dict__], "is invalid"),
        ([TextChunk("\u263a", "v").__dict__], "is invalid"),
        ([TextChunk("k", "v", "zzz").__dict__], "is invalid"),
        ([TextChunk("k\x00x", "v").__dict__], "is invalid"),
    ],
)
def test_damaged_project_text_metadata_is_refused(tmp_path, text, reason):
    path = tmp_path / "bad.inpaint"
    project.save_project(Document.open(make_png(tmp_path / "in.png")), path)
    _rewrite_meta(path, lambda meta: meta.update(text=text))
    with pytest.raises(ImageLoadError, match=reason):
        project.load_project(path)


def test_a_tiff_whose_tags_cannot_be_added_keeps_its_pixels_and_says_so(tmp_path, monkeypatch):
    from PIL import TiffImagePlugin

    def broken(self, offset=0):  # noqa: ANN001, ANN202 - stands in for a layout the rewrite does not know
        raise ValueError("unknown layout")

    loaded = imageio.load_image(make_jpeg(tmp_path / "in.jpg"))
    monkeypatch.setattr(TiffImagePlugin.ImageFileDirectory_v2, "tobytes", broken)
    out = tmp_path / "out.tif"
    (note,) = imageio.save_image(out, loaded.pixels, None, loaded.meta)
    assert "metadata tags (EXIF, XMP, IPTC" in note
    monkeypatch.undo()
    assert np.array_equal(imageio.load_image(out).pixels, loaded.pixels)
