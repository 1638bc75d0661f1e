"""The app's Save / Save As keep XMP, PNG text chunks and IPTC, and say in the status bar what a format
cannot carry (issue 19)."""

from __future__ import annotations

import numpy as np
from PIL import Image, PngImagePlugin

from inpaintstudio.document.io.imageio import load_image

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'


def test_save_as_keeps_the_metadata_and_names_what_a_format_cannot_carry(window, dialogs, tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a hen, Steps: 20")
    info.add_itxt("XML:com.adobe.xmp", XMP)
    source = tmp_path / "generated.png"
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(source, pnginfo=info)
    assert window.files.open_path(source)
    window.doc.invert_mask()

    dialogs.save_path = str(tmp_path / "copy.png")
    assert window.files.save_as()
    assert window.status.currentMessage() == "Saved copy.png"
    saved = Image.open(tmp_path / "copy.png")
    assert saved.text["parameters"] == "a hen, Steps: 20" and saved.info["xmp"] == XMP

    dialogs.save_path = str(tmp_path / "copy.jpg")
    assert window.files.save_as()
    message = window.status.currentMessage()
    assert message.startswith("Saved copy.jpg; JPEG cannot carry the input's text chunks (parameters)"), message
    assert not dialogs.errors, "a note, not an error"
    assert load_image(tmp_path / "copy.jpg").meta.xmp == XMP
