"""Downloading model weights: resumable, cancellable, verified; urllib only.

:func:`download` writes ``DEST.part`` and renames it to ``DEST`` only once its size and sha256 check
out, so a final file is never partial or wrong:

- an existing ``.part`` is resumed with an HTTP ``Range`` request; a server that ignores it (answers
  200) or cannot satisfy it (416, or a ``Content-Range`` starting elsewhere) is downloaded from zero;
- a lost connection or a body shorter than its ``Content-Length`` keeps the ``.part`` and raises a
  :class:`~inpaintstudio.errors.DownloadError` saying that running again resumes;
- cancellation (a ``threading.Event``) is checked between chunks and raises
  :class:`~inpaintstudio.errors.DownloadCancelled` (a :class:`FillCancelled`), keeping the ``.part``;
- more bytes than expected, a wrong size or a sha256 mismatch delete the ``.part`` and raise
  :class:`DownloadError`.

Only ``http``, ``https`` and ``file`` URLs are accepted. HTTPS certificates are checked against the
``certifi`` bundle when that package is installed (a frozen app on another distribution may not find
the system's CA store), else against the system's default store. :func:`install` downloads a model's weights
from the ``url`` of its manifest entry: a user-manifest entry into its own folder (the user's model
folder); a shipped entry whose file is missing into the user's model folder under the same file name,
where :func:`weights.all_specs` finds it (still checked against the shipped manifest's sha256), so the
shipped manifest is never written to and no user entry shadows it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from inpaintstudio import __version__, paths
from inpaintstudio.engine import weights
from inpaintstudio.engine.weights import WeightsSpec
from inpaintstudio.errors import DownloadCancelled, DownloadError, UnknownModelError

CHUNK = 1 << 16
SCHEMES = ("http", "https", "file")
ProgressCallback = Callable[[int, "int | None"], None]  # (bytes done, total bytes or None)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")
_NETWORK_ERRORS = (OSError, http.client.HTTPException, ValueError)


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _cancelled(cancel: threading.Event | None, part: Path) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"the download was cancelled; {part.name} is kept, so running it again resumes")


def tls_context() -> ssl.SSLContext:
    """The context HTTPS downloads verify certificates with: certifi's CA bundle if installed, else the
    system default (both verify the host name and the chain)."""
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except (ImportError, OSError):  # not installed, or its bundle was left out of a frozen app
        return ssl.create_default_context()


class _Restart(Exception):  # noqa: N818 - internal signal: the server cannot resume, start from zero
    pass


def _fetch(
    url: str,
    part: Path,
    start: int,
    size: int | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    """Append the rest of ``url`` to ``part`` from byte ``start`` (or rewrite it from zero)."""
    name = part.name.removesuffix(".part")
    request = urllib.request.Request(url, headers={"User-Agent": f"InpaintStudio/{__version__}"})
    request.add_header("Accept-Encoding", "identity")
    if start:
        request.add_header("Range", f"bytes={start}-")
    context = tls_context() if urllib.parse.urlsplit(url).scheme.lower() == "https" else None
    try:
        response = urllib.request.urlopen(request, timeout=timeout, context=context)  # noqa: S310 - scheme checked
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start:
            raise _Restart from None
        raise DownloadError(
            f"downloading {name} from {url} failed: the server answered {exc.code} {exc.reason}"
        ) from None
    except _NETWORK_ERRORS as exc:
        raise DownloadError(f"cannot download {name} from {url}: {_describe(exc)}") from None
    with response:
        status = response.status or 200  # file: URLs have no status
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if status == 206 and start:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
            if not match or int(match.group(1)) != start:
                raise _Restart
            total = int(match.group(3)) if match.group(3) != "*" else (start + length if length is not None else None)
            mode = "ab"
        elif status in (200, 206):  # the server ignored the range: everything from zero
            start, total, mode = 0, length, "wb"
        else:
            raise DownloadError(f"downloading {name} from {url} failed: unexpected answer {status}")
        if size is not None and total is not None and total != size:
            with contextlib.suppress(OSError):
                part.unlink()
            raise DownloadError(
                f"the server offers {total:,} bytes for {name}, but {size:,} are expected: it is not the listed file"
            )
        done = start
        with open(part, mode) as fh:
            if progress is not None:
                progress(done, total)
            while True:
                _cancelled(cancel, part)
                try:
                    chunk = response.read(CHUNK)
                except _NETWORK_ERRORS as exc:
                    raise DownloadError(
                        f"the connection was lost after {done:,} bytes of {name} ({_describe(exc)}); "
                        "run the download again to resume"
                    ) from None
                if not chunk:
                    break
                if size is not None and done + len(chunk) > size:
                    fh.close()
                    part.unlink()
                    raise DownloadError(f"the server sent more than the {size:,} bytes expected for {name}")
                fh.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            fh.flush()
            os.fsync(fh.fileno())
        if total is not None and done < total:
            raise DownloadError(
                f"the server closed the connection after {done:,} of {total:,} bytes of {name}; "
                "run the download again to resume"
            )


def download(
    url: str,
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 30,
) -> Path:
    """Download ``url`` to ``dest`` (see the module notes); returns ``dest``.

    ``dest`` is left as it was unless the new file is complete and its sha256 is ``sha256``. An existing
    ``dest`` that already checks out is kept without downloading.
    """
    dest = Path(dest)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise DownloadError(f"cannot download from '{url}': only http, https and file URLs are allowed")
    sha256 = sha256.lower()
    if not _SHA256.match(sha256):
        raise DownloadError(f"cannot download {dest.name}: no valid sha256 is listed to check it against")
    if not dest.parent.is_dir():
        raise DownloadError(f"cannot download {dest.name}: the folder {dest.parent} does not exist")
    if dest.is_file() and (size is None or dest.stat().st_size == size) and weights.sha256_of(dest) == sha256:
        if progress is not None:
            progress(dest.stat().st_size, dest.stat().st_size)
        return dest
    part = part_path(dest)
    for _attempt in range(2):  # a second attempt only after the server refused to resume
        start = part.stat().st_size if part.is_file() else 0
        if size is not None and start > size:
            part.unlink()
            start = 0
        if size is not None and start == size:
            break  # complete already (an earlier run was stopped before its check)
        try:
            _fetch(url, part, start, size, progress, cancel, timeout)
            break
        except _Restart:
            part.unlink(missing_ok=True)
    else:
        raise DownloadError(
            f"downloading {dest.name} from {url} failed: the server cannot send the file from the start"
        )
    actual_size = part.stat().st_size
    if size is not None and actual_size < size:
        raise DownloadError(
            f"the download of {dest.name} is incomplete ({actual_size:,} of {size:,} bytes); run it again to resume"
        )
    if size is not None and actual_size != size:
        part.unlink()
        raise DownloadError(f"the downloaded {dest.name} has {actual_size:,} bytes, expected {size:,}; it was deleted")
    actual = weights.sha256_of(part)
    if actual != sha256:
        part.unlink()
        raise DownloadError(
            f"the downloaded {dest.name} failed the sha256 check (expected {sha256[:12]}..., got {actual[:12]}...): "
            "the file on the server is damaged or not the listed one; it was deleted"
        )
    os.replace(part, dest)
    return dest


# -- models ----------------------------------------------------------------------------------------------


def is_shipped(spec: WeightsSpec) -> bool:
    shipped = paths.shipped_models_dir()
    return any(s.model == spec.model for s in weights.read_manifest(shipped))


def target_path(spec: WeightsSpec) -> Path:
    """Where :func:`install` puts the weights of ``spec`` (see the module notes)."""
    if Path(spec.file).name != spec.file or spec.file.startswith(".") or not spec.file:
        raise DownloadError(f"the manifest entry of '{spec.model}' names an invalid file '{spec.file}'")
    folder = paths.user_models_dir() if is_shipped(spec) else Path(spec.folder)
    return folder / spec.file


def install(
    model: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 30,
) -> WeightsSpec:
    """Download the weights of ``model`` from its manifest entry's ``url``; returns the spec now in use.

    Afterwards the model's status is ready (call ``registry.refresh()`` if the model list is shown).
    """
    spec = weights.find_spec(model)
    if spec is None:
        raise UnknownModelError(f"no weights are listed for '{model}' in any model manifest; nothing to download")
    if not spec.url:
        raise DownloadError(f"no download address is listed for '{model}'; import or train its weights instead")
    dest = target_path(spec)
    dest.parent.mkdir(parents=True, exist_ok=True)
    download(spec.url, dest, sha256=spec.sha256, size=spec.size, progress=progress, cancel=cancel, timeout=timeout)
    return weights.find_spec(model) or spec
