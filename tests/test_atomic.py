"""Atomic writes: new files follow the umask like any other program's, a replaced file keeps its mode."""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest

from inpaintstudio.atomic import atomic_write, atomic_write_bytes
from inpaintstudio.document.document import Document
from inpaintstudio.document.io import imageio, project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture
def umask():
    """Set the process umask for one test (returns a setter); the old one comes back afterwards."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    atomic_write_bytes(tmp_path / "new.bin", b"data")
    with atomic_write(tmp_path / "new.txt", "w") as fh:
        fh.write("text\n")
    assert mode(tmp_path / "new.bin") == expected
    assert mode(tmp_path / "new.txt") == expected
    assert (tmp_path / "new.txt").read_bytes() == b"text\n"


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    for kept in (0o640, 0o600, 0o664):
        target = tmp_path / f"old-{kept:o}.png"
        target.write_bytes(b"old")
        target.chmod(kept)
        atomic_write_bytes(target, b"new")
        assert target.read_bytes() == b"new"
        assert mode(target) == kept


def test_images_and_projects_are_written_with_the_umask(tmp_path, umask, photo):
    umask(0o022)
    imageio.save_image(tmp_path / "out.png", photo)
    project.save_project(Document(photo), tmp_path / "p.inpaint")
    assert mode(tmp_path / "out.png") == 0o644
    assert mode(tmp_path / "p.inpaint") == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary file left"


def test_imported_weights_are_written_with_the_umask(tmp_path, umask):
    torch = pytest.importorskip("torch")
    from inpaintstudio.engine import weights

    umask(0o022)
    facts = dict(input_size=64, licence="test", training_data="none", training="none", origin="test")
    spec = weights.store(tmp_path, "m", {"w": torch.from_numpy(np.ones((2, 2), np.float32))}, **facts)
    assert mode(tmp_path / spec.file) == 0o644
    assert mode(tmp_path / "manifest.json") == 0o644
