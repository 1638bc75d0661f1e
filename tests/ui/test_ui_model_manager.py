"""The model manager dialog: every model with the state of its weights, Verify, Import and Remove of a
checkpoint, Download from a local HTTP server with progress, Cancel and resume; the main window's model
list follows, so models without usable weights cannot be chosen for a fill."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import drag
from PySide6.QtCore import Qt

from inpaintstudio import paths
from inpaintstudio.engine import registry
from inpaintstudio.ui.model_manager import COLUMNS, ModelManagerDialog

WEIGHTS = COLUMNS.index("Weights")


def entry(model: str, file: str, content: bytes, url: str = "", **extra: object) -> dict:
    return {
        "model": model,
        "file": file,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "parameters": 1000,
        "input_size": 256,
        "licence": "CC0-1.0 (test weights)",
        "training_data": "none",
        "training": "none",
        "origin": "made by the test",
        "url": url,
        **extra,
    }


def write_manifest(folder: Path, entries: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "weights": entries}))


@pytest.fixture(autouse=True)
def shipped(shipped_models):  # noqa: ANN001, ANN201
    """An empty shipped model folder (so only the test's manifests count); the registry is reset after.

    Autouse, so it is in place before the window is built: the model panel reads the weights' state when
    it is created, and the repository's own models/ (which ships weights) must not leak into it."""
    folder = shipped_models()
    write_manifest(folder, [])
    registry.refresh()
    yield folder
    (paths.user_models_dir() / "manifest.json").unlink(missing_ok=True)
    registry.refresh()  # no imported variant outlives the test


def open_manager(window, qtbot) -> ModelManagerDialog:  # noqa: ANN001
    dialog = window.manage_models()
    qtbot.waitExposed(dialog)
    return dialog


def select(dialog: ModelManagerDialog, name: str) -> None:
    dialog.select(name)
    assert dialog.selected_name() == name


def state_text(dialog: ModelManagerDialog, name: str) -> str:
    index = next(i for i, r in enumerate(dialog.rows) if r.name == name)
    return dialog.table.item(index, WEIGHTS).text()


def panel_enabled(window, name: str) -> bool:  # noqa: ANN001
    tree = window.model_panel.tree
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole) == name:
            return bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
    raise AssertionError(f"{name} is not listed")


def test_every_model_is_listed_with_the_state_of_its_weights(window, small_doc, shipped, qtbot, dialogs):
    good, bad = b"g" * 5000, b"b" * 4000
    (shipped / "deepfillv2.safetensors").write_bytes(good)
    (shipped / "csa.safetensors").write_bytes(b"x" * 4000)  # the right size, the wrong sha256
    write_manifest(
        shipped,
        [
            entry("deepfillv2", "deepfillv2.safetensors", good),
            entry("csa", "csa.safetensors", bad),
            entry("srn", "srn.safetensors", b"s" * 100, url="http://127.0.0.1:9/srn.safetensors"),
        ],
    )
    window.model_panel.reload()
    dialog = open_manager(window, qtbot)
    assert window.actions_["manage_models"].shortcut().toString() == "Ctrl+Shift+M"
    fill_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "F&ill")
    assert window.actions_["manage_models"] in fill_menu.actions()
    assert [r.name for r in dialog.rows] == registry.names()
    assert dialog.table.rowCount() == len(registry.names())
    assert [dialog.table.horizontalHeaderItem(i).text() for i in range(len(COLUMNS))] == list(COLUMNS)
    assert state_text(dialog, "telea") == "No weights needed"
    assert state_text(dialog, "deepfillv2") == "Ready"
    assert state_text(dialog, "csa") == "Damaged"
    assert state_text(dialog, "srn") == "Missing"
    csa_row = next(i for i, r in enumerate(dialog.rows) if r.name == "csa")
    assert "sha256" in dialog.table.item(csa_row, WEIGHTS).toolTip()
    assert dialog.table.item(csa_row, COLUMNS.index("Disk")).text() == "4.0 kB"
    assert dialog.table.item(csa_row, COLUMNS.index("Licence")).text().startswith("CC0-1.0")
    assert dialog.table.item(csa_row, COLUMNS.index("Origin")).text() == "made by the test"

    select(dialog, "srn")
    assert dialog.buttons["download"].isEnabled() and not dialog.buttons["remove"].isEnabled()
    assert "127.0.0.1:9" in dialog.details.text() and "press Download" in dialog.details.text()
    assert "Manage Models" in window.model_panel.info("srn").message, "the app's advice, not a command line"
    select(dialog, "csa")
    assert not dialog.buttons["download"].isEnabled(), "no address to download from"
    select(dialog, "telea")
    assert not dialog.buttons["verify"].isEnabled() and not dialog.buttons["remove"].isEnabled()

    dialog.buttons["verify_all"].click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    [(title, text)] = dialogs.infos
    assert re.search(r"^deepfillv2: OK", text, re.M) and re.search(r"^csa: damaged", text, re.M)
    assert re.search(r"^srn: missing", text, re.M)

    # Damaged and missing models stay disabled in the main window and cannot fill; the classical ones can.
    assert panel_enabled(window, "deepfillv2") and panel_enabled(window, "telea")
    assert not panel_enabled(window, "csa") and not panel_enabled(window, "srn")
    small_doc.mask[40:60, 40:60] = 255
    assert window.fills.fill("csa") is None
    assert dialogs.errors[-1][0] == "Model not available"


def tiny_tf_checkpoint(path: Path) -> None:
    """A small DeepFillv2 checkpoint in the TF-converted layout (width 8 instead of 48), random weights."""
    import torch

    from inpaintstudio.engine.checkpoint_import import key_map
    from inpaintstudio.networks.deepfill import build_deepfill

    config = {"cnum": 8, "in_channels": 5, "channel_order": "bgr", "padding": "same", "fuse": True}
    ours = build_deepfill(config).state_dict()
    names = key_map("tf")
    torch.save({"G": {names[k]: v.clone() for k, v in ours.items()}, "n_iter": 5}, path)


@pytest.mark.slow
def test_import_then_remove_a_checkpoint(window, small_doc, shipped, qtbot, dialogs, tmp_path):
    checkpoint = tmp_path / "states_tf_places2.pth"
    tiny_tf_checkpoint(checkpoint)
    dialog = open_manager(window, qtbot)
    dialogs.open_path = str(checkpoint)
    dialogs.choice = "deepfillv2"
    assert dialog.buttons["import"].isEnabled()
    dialog.buttons["import"].click()
    assert dialogs.choices == [{"deepfillv2": "As DeepFill v2"}]
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60000)
    assert dialogs.errors == []
    name = "deepfillv2-places2"  # suggested from the file name
    assert state_text(dialog, name) == "Ready" and dialog.selected_name() == name
    assert panel_enabled(window, name)
    assert dialog.status.text().startswith(f"Imported '{name}'")
    weights_file = paths.user_models_dir() / f"{name}.safetensors"
    assert weights_file.is_file()
    assert dialog.buttons["remove"].isEnabled()

    dialogs.confirm = False
    dialog.buttons["remove"].click()
    assert dialog.row_of(name) is not None, "kept when the user says no"
    dialogs.confirm = True
    dialog.buttons["remove"].click()
    assert "is deleted" in dialogs.confirms[-1]
    assert dialog.row_of(name) is None and name not in registry.names()
    assert not weights_file.exists()
    assert window.model_panel.info(name) is None
    assert window.doc is small_doc


class Payload:
    """Unpickling this would run a shell command: a hostile "checkpoint" must be refused, not run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_hostile_checkpoint_is_refused_and_runs_nothing(window, shipped, qtbot, dialogs, tmp_path):
    import pickle

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"G": Payload(marker)}, protocol=2))
    dialog = open_manager(window, qtbot)
    dialogs.open_path = str(evil)
    dialogs.choice = "deepfillv2"
    dialog.buttons["import"].click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60000)
    [(title, text)] = dialogs.errors
    assert title == "Cannot import the checkpoint" and "evil.pth" in text and "nothing in it was run" in text
    assert not marker.exists()
    assert [r.name for r in dialog.rows] == registry.names() and "deepfillv2-evil" not in registry.names()


# -- downloading from a local server ---------------------------------------------------------------------


class Server:
    """Serves ``body`` with Range support; the first full request can pause after ``pause_after`` bytes
    until ``gate`` is set (so a test can cancel mid-download deterministically)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.ranges: list[str | None] = []
        self.pause_after: int | None = None
        self.gate = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.ranges.append(self.headers.get("Range"))
                match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
                start = int(match.group(1)) if match else 0
                if match:
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(server.body) - 1}/{len(server.body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(server.body) - start))
                self.end_headers()
                payload = server.body[start:]
                try:
                    if server.pause_after is not None and not match:
                        self.wfile.write(payload[: server.pause_after])
                        self.wfile.flush()
                        server.gate.wait(30)
                        payload = payload[server.pause_after :]
                    self.wfile.write(payload)
                except OSError:  # the client went away (cancelled)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/deepfillv2-tiny.safetensors"

    def close(self) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def tiny_deepfill_safetensors(cnum: int = 16) -> tuple[bytes, dict]:
    from safetensors.torch import save

    from inpaintstudio.networks.deepfill import build_deepfill

    config = {"cnum": cnum, "in_channels": 6}
    state = {k: v.contiguous() for k, v in build_deepfill(config).state_dict().items()}
    return save(state), config


@pytest.fixture
def served_model(shipped):  # noqa: ANN001, ANN201
    """A user-manifest entry for deepfillv2 whose weights (random, tiny) are on a local server."""
    content, config = tiny_deepfill_safetensors()
    server = Server(content)
    write_manifest(
        paths.user_models_dir(),
        [entry("deepfillv2", "deepfillv2-tiny.safetensors", content, url=server.url, config=config)],
    )
    yield server, content
    server.close()


@pytest.mark.slow
def test_download_with_progress_makes_the_model_ready(window, small_doc, served_model, qtbot, dialogs):
    server, content = served_model
    assert not panel_enabled(window, "deepfillv2")
    dialog = open_manager(window, qtbot)
    assert state_text(dialog, "deepfillv2") == "Missing"
    seen: list[tuple[float, str]] = []
    select(dialog, "deepfillv2")
    dialog.buttons["download"].click()
    dialog.job.progress.connect(lambda fraction, message: seen.append((fraction, message)))  # none lost yet
    assert dialog.cancel_button.isVisible() and not dialog.buttons["import"].isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    assert dialogs.errors == []
    assert seen and seen[-1][0] == 1.0, "the job's progress reaches the whole download"
    assert (paths.user_models_dir() / "deepfillv2-tiny.safetensors").read_bytes() == content
    assert state_text(dialog, "deepfillv2") == "Ready" and "sha256 verified" in dialog.status.text()
    assert not dialog.buttons["download"].isEnabled()
    assert panel_enabled(window, "deepfillv2")

    # The downloaded weights really fill.
    drag(window, [(60, 60), (90, 70)])
    dialog.accept()
    window.fills.fill("deepfillv2")
    qtbot.waitUntil(lambda: not window.fills.busy, timeout=120000)
    assert dialogs.errors == []
    assert small_doc.history.labels()[-1] == "Fill (deepfillv2)"


@pytest.mark.slow
def test_cancel_mid_download_then_resume(window, small_doc, served_model, qtbot, dialogs):
    server, content = served_model
    server.pause_after = 200_000
    drag(window, [(20, 20), (50, 40)])
    before = (small_doc.mask.copy(), small_doc.history.labels())
    dialog = open_manager(window, qtbot)
    select(dialog, "deepfillv2")
    dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30000)
    drag(window, [(100, 90), (130, 100)])  # the dialog is not modal: editing goes on during a download
    assert small_doc.history.labels() == [*before[1], "Mask stroke"]
    before = (small_doc.mask.copy(), small_doc.history.labels())
    dialog.cancel_button.click()
    server.gate.set()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    assert dialogs.errors == [] and "cancelled" in dialog.status.text()
    part = paths.user_models_dir() / "deepfillv2-tiny.safetensors.part"
    assert 0 < part.stat().st_size < len(content)
    assert re.fullmatch(r"Missing \(\d+ % downloaded\)", state_text(dialog, "deepfillv2"))
    assert not panel_enabled(window, "deepfillv2")
    assert window.doc is small_doc and np.array_equal(small_doc.mask, before[0])
    assert small_doc.history.labels() == before[1]
    assert dialog.isVisible(), "Cancel stops the download, not the dialog"

    resumed_from = part.stat().st_size
    dialog.buttons["download"].click()  # resumes from the part
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    assert server.ranges == [None, f"bytes={resumed_from}-"]
    assert state_text(dialog, "deepfillv2") == "Ready" and panel_enabled(window, "deepfillv2")
    assert not part.exists()


def test_closing_the_dialog_during_a_download_cancels_it(window, served_model, qtbot):
    server, _ = served_model
    server.pause_after = 100_000
    dialog = open_manager(window, qtbot)
    select(dialog, "deepfillv2")
    dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30000)
    dialog.reject()
    assert dialog.isVisible(), "it waits for the download to stop"
    server.gate.set()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30000)
    assert not dialog.busy
    assert isinstance(dialog, ModelManagerDialog) and window.isVisible()
