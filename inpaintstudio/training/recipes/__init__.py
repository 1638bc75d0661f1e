"""Training recipes, one per trainable model family: networks, losses and the step. See training/trainer.py.

Each module here defines its family's recipe and registers it with :func:`register_recipe`. The family is
a registered inpainter that can be trained (``registry.list_models(trainable=True)``), and the network a
new run starts from is that inpainter's ``default_config``: one definition, shared with the app, the
build's smoke test and the tests.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from typing import TypeVar

from inpaintstudio.engine import registry

T = TypeVar("T", bound=type)

_recipes: dict[str, type] = {}
_lock = threading.Lock()


def register_recipe(cls: T) -> T:
    """Class decorator: the training recipe of ``cls.family``, which takes the family's default network."""
    family = getattr(cls, "family", None)
    inpainter = registry.get(family)  # an unknown family fails here, naming the known ones
    if not inpainter.trainable():
        raise TypeError(f"'{family}' declares no default_config, so no recipe can train it")
    with _lock:
        if family in _recipes and _recipes[family] is not cls:
            raise ValueError(f"a recipe for '{family}' is already registered ({_recipes[family].__qualname__})")
        cls.default_network = dict(inpainter.default_config)
        _recipes[family] = cls
    return cls


def _load_recipes() -> None:
    for module in pkgutil.iter_modules(__path__, f"{__name__}."):
        importlib.import_module(module.name)


def recipe_class(family: str) -> type:
    _load_recipes()
    try:
        return _recipes[family]
    except KeyError:
        raise ValueError(f"no training recipe for '{family}'; choose one of {', '.join(_recipes)}") from None
