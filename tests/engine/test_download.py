"""Model downloads against a local HTTP server on 127.0.0.1: progress, resume, servers that ignore
ranges, drop the connection, send damaged or truncated files; cancellation; installing a model."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from inpaintstudio import paths
from inpaintstudio.engine import download, registry, weights
from inpaintstudio.errors import (
    DOWNLOAD,
    DownloadCancelled,
    DownloadError,
    FillCancelled,
    Remedy,
    UnknownModelError,
)

CONTENT = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
SHA = hashlib.sha256(CONTENT).hexdigest()


class Server:
    """Serves CONTENT (or ``body``) at any path but /missing; behaviour switches per test."""

    def __init__(self) -> None:
        self.body = CONTENT
        self.ignore_range = False
        self.send_length = True
        self.declared_extra = 0  # Content-Length larger than the body by this much
        self.cut: list[int | None] = []  # per request: stop after this many body bytes and close
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.ranges.append(self.headers.get("Range"))
                if self.path.startswith("/missing"):
                    self.send_error(404, "Not Found")
                    return
                body, start = server.body, 0
                requested = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
                if requested and not server.ignore_range:
                    start = int(requested.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                if server.send_length:
                    self.send_header("Content-Length", str(len(payload) + server.declared_extra))
                self.end_headers()
                cut = server.cut.pop(0) if server.cut else None
                self.wfile.write(payload if cut is None else payload[:cut])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/weights.safetensors") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def fetch(server: Server, dest: Path, **kwargs) -> Path:
    kwargs.setdefault("sha256", SHA)
    kwargs.setdefault("size", len(CONTENT))
    return download.download(server.url(), dest, timeout=5, **kwargs)


def test_good_download_reports_progress(server, tmp_path):
    seen: list[tuple[int, int | None]] = []
    dest = fetch(server, tmp_path / "w.safetensors", progress=lambda done, total: seen.append((done, total)))
    assert dest.read_bytes() == CONTENT
    assert not (tmp_path / "w.safetensors.part").exists()
    assert seen[0] == (0, len(CONTENT)) and seen[-1] == (len(CONTENT), len(CONTENT))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # Already there and intact: nothing is fetched again.
    fetch(server, dest)
    assert len(server.ranges) == 1


def test_resume_after_the_connection_drops(server, tmp_path):
    dest = tmp_path / "w.safetensors"
    server.cut = [100_000]
    with pytest.raises(DownloadError, match="resume"):
        fetch(server, dest)
    part = tmp_path / "w.safetensors.part"
    assert not dest.exists() and part.read_bytes() == CONTENT[:100_000]
    seen = []
    fetch(server, dest, progress=lambda done, total: seen.append(done))
    assert dest.read_bytes() == CONTENT and not part.exists()
    assert server.ranges == [None, "bytes=100000-"]
    assert seen[0] == 100_000


def test_a_server_that_ignores_ranges_restarts_from_zero(server, tmp_path):
    server.ignore_range = True
    part = tmp_path / "w.safetensors.part"
    part.write_bytes(b"x" * 50_000)  # even a wrong partial file is simply replaced
    dest = fetch(server, tmp_path / "w.safetensors")
    assert dest.read_bytes() == CONTENT and server.ranges == ["bytes=50000-"]


def test_a_range_the_server_cannot_satisfy_restarts_from_zero(server, tmp_path):
    (tmp_path / "w.safetensors.part").write_bytes(b"y" * (len(CONTENT) + 10))
    dest = fetch(server, tmp_path / "w.safetensors", size=None)  # size unknown: asks from the part's end
    assert dest.read_bytes() == CONTENT
    assert server.ranges == [f"bytes={len(CONTENT) + 10}-", None]


def test_cancellation_keeps_the_part_for_a_later_resume(server, tmp_path):
    cancel = threading.Event()

    def progress(done, total):
        if done >= 2 * download.CHUNK:
            cancel.set()

    dest = tmp_path / "w.safetensors"
    with pytest.raises(DownloadCancelled, match="resumes") as info:
        fetch(server, dest, progress=progress, cancel=cancel)
    assert isinstance(info.value, FillCancelled)
    part = tmp_path / "w.safetensors.part"
    assert not dest.exists() and part.stat().st_size == 2 * download.CHUNK
    fetch(server, dest)
    assert dest.read_bytes() == CONTENT and server.ranges[-1] == f"bytes={2 * download.CHUNK}-"


def test_corrupted_content_is_refused_and_deleted(server, tmp_path):
    damaged = bytearray(CONTENT)
    damaged[123_456] ^= 0x01
    server.body = bytes(damaged)
    dest = tmp_path / "w.safetensors"
    dest.write_bytes(b"the old file")
    with pytest.raises(DownloadError, match="sha256"):
        fetch(server, dest)
    assert dest.read_bytes() == b"the old file", "a failed download never replaces anything"
    assert not (tmp_path / "w.safetensors.part").exists()


def test_truncated_content_is_never_a_final_file(server, tmp_path):
    dest = tmp_path / "w.safetensors"
    server.body = CONTENT[:200_000]
    server.declared_extra = len(CONTENT) - 200_000  # Content-Length says the full size, then it closes
    with pytest.raises(DownloadError, match="closed the connection after 200,000 of 300,000 bytes"):
        fetch(server, dest)
    assert not dest.exists()
    assert (tmp_path / "w.safetensors.part").read_bytes() == CONTENT[:200_000]  # resumable
    server.body, server.declared_extra = CONTENT, 0
    fetch(server, dest)
    assert dest.read_bytes() == CONTENT


def test_a_shorter_file_on_the_server_is_refused(server, tmp_path):
    server.body = CONTENT[:1000]
    with pytest.raises(DownloadError, match="offers 1,000 bytes"):
        fetch(server, tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []
    server.send_length = False  # no Content-Length: found out at the end; resumable, never final
    with pytest.raises(DownloadError, match="incomplete"):
        fetch(server, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


def test_more_data_than_expected_is_refused(server, tmp_path):
    server.send_length = False
    server.body = CONTENT + b"extra"
    with pytest.raises(DownloadError, match="more than"):
        fetch(server, tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_not_found_and_unreachable(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download.download(server.url("/missing"), tmp_path / "w", sha256=SHA, timeout=5)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="cannot download"):
        download.download(f"http://127.0.0.1:{port}/w", tmp_path / "w", sha256=SHA, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_only_some_schemes_and_a_real_sha(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(CONTENT)
    dest = download.download(source.as_uri(), tmp_path / "w.bin", sha256=SHA.upper(), size=len(CONTENT))
    assert dest.read_bytes() == CONTENT
    for url in ("ftp://example.com/w", "javascript:alert(1)", "/etc/passwd"):
        with pytest.raises(DownloadError, match="only http"):
            download.download(url, tmp_path / "x", sha256=SHA)
    with pytest.raises(DownloadError, match="sha256"):
        download.download(source.as_uri(), tmp_path / "x", sha256="")


# -- installing a model from its manifest entry ---------------------------------------------------------------


def _entry(url: str, **extra) -> dict:
    return {
        "model": "deepfillv2",
        "file": "deepfillv2.safetensors",
        "sha256": SHA,
        "size": len(CONTENT),
        "parameters": 1,
        "input_size": 256,
        "licence": "MIT",
        "training_data": "none",
        "training": "none",
        "origin": "test server",
        "url": url,
        **extra,
    }


def test_install_a_shipped_model_whose_file_is_missing(server, shipped):
    (shipped / "manifest.json").write_text(json.dumps({"format": 1, "weights": [_entry(server.url())]}))
    cls = registry.get("deepfillv2")
    status = cls.status()
    assert status.state == "missing" and status.remedy == Remedy(DOWNLOAD, "deepfillv2")
    assert "inpaintstudio" not in status.message, "the engine names the remedy; each front end words it"
    spec = download.install("deepfillv2", timeout=5)
    assert spec.path == paths.user_models_dir() / "deepfillv2.safetensors"
    assert spec.path.read_bytes() == CONTENT
    assert not (shipped / "deepfillv2.safetensors").exists(), "the shipped folder is never written to"
    assert weights.read_manifest(paths.user_models_dir()) == [], "no user entry shadows the shipped one"
    assert cls.status().ready


def test_install_a_user_entry_and_refusals(server, shipped):
    (shipped / "manifest.json").write_text(json.dumps({"format": 1, "weights": []}))
    user = paths.user_models_dir()
    user.mkdir(parents=True)
    entries = [
        _entry(server.url(), model="csa", file="csa.safetensors"),
        _entry("", model="srn", file="srn.safetensors"),
        _entry(server.url(), model="deepfillv2", file="../escape.safetensors"),
    ]
    (user / "manifest.json").write_text(json.dumps({"format": 1, "weights": entries}))
    download.install("csa", timeout=5)
    assert (user / "csa.safetensors").read_bytes() == CONTENT and registry.get("csa").status().ready
    with pytest.raises(DownloadError, match="no download address"):
        download.install("srn")
    with pytest.raises(DownloadError, match="invalid file"):
        download.install("deepfillv2")
    with pytest.raises(UnknownModelError):
        download.install("telea")
