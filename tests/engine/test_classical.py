"""The classical fills' own machinery (engine/inpainters/classical.py)."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.inpainters import classical
from tests.images import gradient_photo


def test_patchmatch_in_its_child_process_fills_as_in_process_and_reports_failures(monkeypatch):
    """What the app's PatchMatch fills run in (a child process that Cancel can stop) changes no pixel."""
    image = gradient_photo(400, 300)
    hole = np.zeros((300, 400), bool)
    hole[100:180, 150:260] = True
    fractions = []
    pm = classical.PatchMatchInpainter()
    in_child = pm.inpaint(image, hole, None, JobContext(progress=lambda f, m: fractions.append(f)))
    assert len(set(fractions)) > 3 and fractions == sorted(fractions), "the search's progress, in order"
    monkeypatch.setattr(classical, "CHILD_MIN_PIXELS", 10**9)
    assert np.array_equal(in_child, pm.inpaint(image, hole, None, JobContext()))
    monkeypatch.setattr(classical, "CHILD_MIN_PIXELS", 0)
    monkeypatch.setattr(classical.PatchMatchInpainter, "patch_size", 0)
    with pytest.raises(RuntimeError, match="patchmatch failed: ValueError: patch_size must be between"):
        pm.inpaint(image, hole, None, JobContext())
