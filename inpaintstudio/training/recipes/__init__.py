"""Training recipes, one per model family: networks, losses and the step. See training/trainer.py."""

from __future__ import annotations

import importlib

# family -> "module:class"; the family names are the registered inpainter names.
RECIPES = {
    "deepfillv2": "inpaintstudio.training.recipes.deepfill:DeepFillRecipe",
    "csa": "inpaintstudio.training.recipes.csa:CSARecipe",
    "srn": "inpaintstudio.training.recipes.srn:SRNRecipe",
}


def recipe_class(family: str) -> type:
    try:
        module, name = RECIPES[family].split(":")
    except KeyError:
        raise ValueError(f"no training recipe for '{family}'; choose one of {', '.join(RECIPES)}") from None
    return getattr(importlib.import_module(module), name)
