"""`inpaintstudio models list / verify / download`: sizes, licences and origins; sha256 checks; downloads
from a local server with Ctrl+C and resume."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from inpaintstudio import paths
from inpaintstudio.cli import main
from inpaintstudio.commands import models as models_command
from inpaintstudio.engine import registry

CONTENT = np.random.default_rng(11).integers(0, 256, 400_000, dtype=np.uint8).tobytes()


class _Handler(BaseHTTPRequestHandler):
    """Serves CONTENT with Range support; records the Range headers it was sent."""

    ranges: list = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        type(self).ranges.append(self.headers.get("Range"))
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        start = int(match.group(1)) if match else 0
        if match:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(CONTENT) - 1}/{len(CONTENT)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(CONTENT) - start))
        self.end_headers()
        self.wfile.write(CONTENT[start:])


@pytest.fixture
def server_url():
    _Handler.ranges = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/deepfillv2.safetensors"
    httpd.shutdown()
    httpd.server_close()


def _manifest(folder, url="", file_bytes: bytes | None = CONTENT) -> dict:
    entry = {
        "model": "deepfillv2",
        "file": "deepfillv2.safetensors",
        "sha256": hashlib.sha256(CONTENT).hexdigest(),
        "size": len(CONTENT),
        "parameters": 123,
        "input_size": 256,
        "licence": "CC-BY-4.0 (test weights with a rather long licence text)",
        "training_data": "test photos",
        "training": "none",
        "origin": "trained for InpaintStudio",
        "url": url,
    }
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "weights": [entry]}))
    if file_bytes is not None:
        (folder / entry["file"]).write_bytes(file_bytes)
    return entry


def test_list_shows_size_licence_and_origin(capsys, shipped):
    _manifest(shipped)
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("MODEL", "WEIGHTS", "DISK", "LICENCE", "ORIGIN"):
        assert column in header
    line = next(x for x in out.splitlines() if x.startswith("deepfillv2"))
    assert "0.4 MB" in line and "CC-BY-4.0" in line and "trained for InpaintStudio" in line
    assert main(["models", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    row = rows["deepfillv2"]
    assert row["weights_size"] == len(CONTENT) and row["licence"].startswith("CC-BY-4.0")
    assert row["origin"] == "trained for InpaintStudio" and row["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert rows["telea"]["weights_size"] is None and rows["telea"]["ready"] is True


def test_verify_reports_ok_missing_and_damaged(capsys, shipped):
    _manifest(shipped)
    assert main(["models", "verify"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^deepfillv2\s+OK\s+deepfillv2.safetensors", out, re.M)
    assert re.search(r"^csa\s+missing", out, re.M) and "telea" not in out
    damaged = bytearray(CONTENT)
    damaged[1000] ^= 0xFF
    (shipped / "deepfillv2.safetensors").write_bytes(bytes(damaged))
    assert main(["models", "verify"]) == 1
    out, err = capsys.readouterr()
    assert re.search(r"^deepfillv2\s+damaged\s+.*sha256", out, re.M) and "1 damaged" in err
    assert main(["models", "verify", "telea"]) == 0
    assert "no weights needed" in capsys.readouterr().out
    assert main(["models", "verify", "nonexistent"]) == 1
    assert "unknown model" in capsys.readouterr().err


def test_download_with_ctrl_c_then_resume(capsys, shipped, server_url, monkeypatch):
    _manifest(shipped, url=server_url, file_bytes=None)
    assert main(["models", "verify", "deepfillv2"]) == 0
    assert "models download deepfillv2" in capsys.readouterr().out

    def interrupt(bar, position, text=""):
        if bar.total and position > 0.3 * bar.total:
            raise KeyboardInterrupt

    original = models_command.advance
    monkeypatch.setattr(models_command, "advance", interrupt)
    assert main(["models", "download", "deepfillv2", "--timeout", "5"]) == 130
    err = capsys.readouterr().err
    assert "again to resume" in err
    part = paths.user_models_dir() / "deepfillv2.safetensors.part"
    kept = part.stat().st_size
    assert 0 < kept < len(CONTENT)
    assert not registry.get("deepfillv2").status().ready

    monkeypatch.setattr(models_command, "advance", original)
    assert main(["models", "download", "deepfillv2", "--timeout", "5"]) == 0
    assert "sha256 verified" in capsys.readouterr().out
    assert _Handler.ranges == [None, f"bytes={kept}-"]
    assert registry.get("deepfillv2").status().ready
    assert main(["models", "download", "deepfillv2"]) == 0
    assert "already installed" in capsys.readouterr().out


def test_download_refusals(capsys, shipped):
    _manifest(shipped, url="", file_bytes=None)
    assert main(["models", "download", "deepfillv2"]) == 1
    assert "no download address" in capsys.readouterr().err
    assert main(["models", "download", "telea"]) == 1
    assert "classical" in capsys.readouterr().err
    assert main(["models", "download", "nope"]) == 1
    assert "unknown model" in capsys.readouterr().err
