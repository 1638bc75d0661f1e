"""The comparison state (document/compare.py): one slot per model, following its job, and applying one."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.document.compare import Comparison
from inpaintstudio.document.document import Document
from inpaintstudio.engine.pipeline import run_fill


def doc(width: int = 100, height: int = 80) -> Document:
    return Document(np.zeros((height, width, 3), np.uint8))


def test_comparison_slots_follow_their_jobs_and_apply():
    d = doc()
    d.mask[30:50, 30:50] = 255
    d.image[:] = 90
    comparison = Comparison(d.fill_request("telea"), ["telea", "patchmatch"], {"telea": "Telea"})
    seen = []
    comparison.subscribe(seen.append)
    comparison.queued(0)
    comparison.queued(1)
    comparison.progress(0, 0.5)
    assert comparison.slots[0].caption() == "Telea - running 50 %"
    result = run_fill(comparison.request_for(0))
    comparison.succeed(0, result)
    comparison.fail(1, "no luck")
    assert comparison.finished
    assert comparison.slots[0].caption().startswith("Telea - ") and comparison.slots[0].caption().endswith(" s")
    assert comparison.slots[1].caption() == "patchmatch - failed: no luck"
    assert seen == [0, 1, 0, 0, 1]
    assert comparison.apply(0, d)
    assert d.history.labels() == ["Fill (telea, compared)"]
    with pytest.raises(ValueError):
        comparison.apply(1, d)


def test_comparison_needs_two_to_four_models():
    request = doc().fill_request("telea")
    with pytest.raises(ValueError):
        Comparison(request, ["telea"])
    with pytest.raises(ValueError):
        Comparison(request, ["a", "b", "c", "d", "e"])
    assert len(Comparison(request, ["telea", "telea", "patchmatch"]).slots) == 2
