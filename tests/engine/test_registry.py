"""The registry: capabilities on the class, duplicates refused, statuses."""

from __future__ import annotations

import numpy as np
import pytest

from inpaintstudio.engine import registry
from inpaintstudio.engine.base import Capabilities, Inpainter


def test_builtin_classical_models_are_registered_and_ready():
    for name in ("telea", "navier-stokes", "patchmatch"):
        cls = registry.get(name)
        assert cls.status().ready
        assert not cls.learned
    assert registry.capabilities("patchmatch").outpaint
    assert not registry.capabilities("telea").outpaint


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


def test_list_models_filters_by_capability_like_timm():
    classical = {"telea", "navier-stokes", "patchmatch"}
    assert classical <= set(registry.list_models())
    assert classical == set(registry.list_models(learned=False)) - {"test-slow"}
    assert set(registry.list_models(learned=True)) >= {"deepfillv2", "csa", "srn"}
    assert "patchmatch" in registry.list_models(outpaint=True) and "srn" in registry.list_models(outpaint=True)
    assert "telea" in registry.list_models(outpaint=False)
    assert "deepfillv2" in registry.list_models(sketch=True) and "telea" not in registry.list_models(sketch=True)
    assert {"patchmatch", "deepfillv2", "csa"} <= set(registry.list_models(exclude=True))
    assert set(registry.list_models(trainable=True)) == {"deepfillv2", "csa", "srn"}
    ready = registry.list_models(ready=True)
    assert {"telea", "navier-stokes"} <= set(ready)
    assert all(registry.get(n).status().ready for n in ready)
    assert registry.list_models(outpaint=True, learned=False) == ["patchmatch"]


def test_capabilities_are_one_frozen_object_declared_on_the_class():
    from dataclasses import FrozenInstanceError

    caps = registry.capabilities("patchmatch")
    assert isinstance(caps, Capabilities)
    assert caps.outpaint and caps.exclude and not caps.sketch and caps.working_size == 2048
    with pytest.raises(FrozenInstanceError):
        caps.sketch = True  # type: ignore[misc]
    assert registry.capabilities("csa").pad_multiple == 256 and registry.capabilities("csa").context == 0.5
    assert registry.capabilities("deepfillv2").context == 1.0


def test_a_class_declaring_a_capability_outside_caps_is_refused():
    with pytest.raises(TypeError, match="Capabilities"):

        class Old(Inpainter):
            name = "old-style"
            supports_outpaint = True

            def inpaint(self, image, mask, sketch, ctx):
                return image


def test_recorded_scores_come_with_the_capabilities(shipped_models):
    import json

    from inpaintstudio.engine import selection

    folder = shipped_models("manifest.json", "deepfillv2.safetensors")
    (folder / selection.SCORES_FILE).write_text(json.dumps({"holes": {"telea": {"psnr": 17.0, "detail": 0.3}}}))
    assert registry.capabilities("telea").scores == {"holes": {"psnr": 17.0, "detail": 0.3}}
    assert registry.capabilities("navier-stokes").scores == {}
    spec = registry.get("deepfillv2").weights_spec()
    assert registry.capabilities("deepfillv2").scores == spec.scores


def test_select_asks_the_selection_rule_about_every_registered_model(shipped_models):
    import json

    from inpaintstudio.engine import selection

    folder = shipped_models("manifest.json", "deepfillv2.safetensors")
    (folder / selection.SCORES_FILE).write_text(json.dumps({"borders": {"patchmatch": {"psnr": 16.0, "detail": 0.9}}}))
    choice = registry.select("borders")
    assert choice == selection.choose("borders", registry.all_inpainters())
    assert choice.model == "patchmatch"


def test_every_trainable_family_has_its_recipe_with_the_inpainters_default_network():
    from inpaintstudio.training.recipes import recipe_class

    for name in registry.list_models(trainable=True):
        recipe = recipe_class(name)
        assert recipe.family == name
        assert recipe.default_network == dict(registry.get(name).default_config)
    # the single defaults are what the shipped weights were trained with
    assert registry.get("deepfillv2").default_config["cnum"] == 24
    assert dict(registry.get("csa").default_config) == {"ngf": 16, "rough_ngf": 16}
    assert registry.get("srn").default_config["expand"] == [1, 2]
