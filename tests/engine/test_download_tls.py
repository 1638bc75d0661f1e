"""HTTPS downloads verify certificates against certifi's CA bundle when it is installed (a frozen app on
another distribution may not find the system store), else against the system's default store."""

from __future__ import annotations

import ssl
import sys
import types
import urllib.request

import pytest

from inpaintstudio.engine import download
from inpaintstudio.errors import DownloadError


def test_certifi_bundle_is_used_when_installed(monkeypatch, tmp_path):
    certifi = pytest.importorskip("certifi")
    seen = {}
    real = ssl.create_default_context

    def recording(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", recording)
    context = download.tls_context()
    assert seen["cafile"] == certifi.where()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_without_certifi_or_its_bundle_the_default_store_is_used(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "certifi", None)  # import certifi raises ImportError
    context = download.tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    broken = types.SimpleNamespace(where=lambda: str(tmp_path / "missing.pem"))
    monkeypatch.setitem(sys.modules, "certifi", broken)
    assert download.tls_context().verify_mode == ssl.CERT_REQUIRED


def test_https_requests_get_the_context_and_http_does_not(monkeypatch, tmp_path):
    contexts = []

    def fake_urlopen(request, timeout=None, context=None):  # noqa: ANN001, ANN202
        contexts.append(context)
        raise OSError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    for url in ("https://example.invalid/w.safetensors", "http://example.invalid/w.safetensors"):
        with pytest.raises(DownloadError, match="offline"):
            download.download(url, tmp_path / "w.safetensors", sha256="0" * 64)
    assert isinstance(contexts[0], ssl.SSLContext) and contexts[1] is None
