"""A damaged recovery snapshot at start: a message, the choice to delete it, and the photo named on the
command line still opens."""

from __future__ import annotations

import json
import zipfile

from inpaintstudio.document.document import Document
from inpaintstudio.document.io.recovery import RecoveryStore
from inpaintstudio.ui.app import start_session
from tests.images import gradient_photo
from tests.project_zip import rewrite


def _damaged_snapshot(store: RecoveryStore) -> None:
    """A snapshot left by a dead process whose project.json nests 200,000 levels deep."""
    doc = Document(gradient_photo(60, 40))
    doc.invert_mask()
    target = store.save(doc, "crashed")
    sidecar = store.folder / "crashed.json"
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "pid": 999_999_999}))
    nested = b"[" * 200_000 + b"]" * 200_000
    target.write_bytes(rewrite(target, lambda m: m.update({"project.json": nested}), compression=zipfile.ZIP_STORED))


def test_a_damaged_snapshot_is_reported_and_the_named_photo_still_opens(window, dialogs, photo_path):
    store = RecoveryStore()
    _damaged_snapshot(store)
    assert len(store.pending()) == 1
    dialogs.recover, dialogs.confirm = "recover", True
    start_session(window, [str(photo_path)])
    [question] = dialogs.confirms
    assert "cannot be recovered" in question and "damaged" in question
    assert store.pending() == [], "deleted as the user chose: not offered again at every start"
    assert window.doc is not None and window.doc.path == photo_path
