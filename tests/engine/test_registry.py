"""The registry: capabilities on the class, duplicates refused, statuses."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.engine import registry
from inpaintstudio.engine.base import Inpainter


def test_builtin_classical_models_are_registered_and_ready():
    for name in ("telea", "navier-stokes", "patchmatch"):
        cls = registry.get(name)
        assert cls.status().ready
        assert not cls.learned
    assert registry.get("patchmatch").supports_outpaint
    assert not registry.get("telea").supports_outpaint


def test_duplicate_names_are_refused():
    class Again(Inpainter):
        name = "telea"

        def inpaint(self, image, mask, sketch, ctx):
            return image

    with pytest.raises(ValueError, match="already registered"):
        registry.register(Again)


def test_a_name_is_required():
    class Nameless(Inpainter):
        def inpaint(self, image, mask, sketch, ctx):
            return image

    with pytest.raises(TypeError):
        registry.register(Nameless)


def test_a_new_model_is_usable_by_name_everywhere():
    @registry.register
    class Flat(Inpainter):
        name = "test-flat-grey"

        def inpaint(self, image, mask, sketch, ctx):
            return np.full_like(image, 128)

    try:
        from inpaintstudio.engine.pipeline import run_fill
        from inpaintstudio.engine.request import FillRequest

        image = np.zeros((20, 20, 3), np.uint8)
        hole = np.zeros((20, 20), bool)
        hole[5:10, 5:10] = True
        result = run_fill(FillRequest(image, hole, "test-flat-grey"))
        assert (result.image[hole] == 128).all() and (result.image[~hole] == 0).all()
        assert "test-flat-grey" in registry.names()
    finally:
        registry.unregister("test-flat-grey")


def test_engine_and_document_never_import_qt():
    """The layering contract: document/ and engine/ run without Qt (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys; import inpaintstudio.document.document, inpaintstudio.engine.pipeline, "
        "inpaintstudio.engine.runner; from inpaintstudio.engine import registry; registry.names(); "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'qtpy'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_listing_models_does_not_import_torch():
    """Start-up stays light: torch is loaded on the first learned fill, not when models are listed."""
    import subprocess
    import sys

    code = (
        "import sys; from inpaintstudio.engine import registry; "
        "[c.capabilities() for c in registry.all_inpainters()]; sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
