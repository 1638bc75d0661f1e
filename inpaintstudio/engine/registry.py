"""The registry of inpainters: the only place that knows which models exist, and what to ask about them.

Built-in inpainters register themselves with the :func:`register` decorator when their module is
imported; imported checkpoint variants (``deepfillv2-places2``) are registered from the user's model
manifest as subclasses of their family. Nothing else in the code base keeps a list of model names; it
asks here instead:

- :func:`list_models` -- the names of the models with given capabilities (``list_models(outpaint=True,
  ready=True)``: what can extend borders here; ``list_models(trainable=True)``: the families
  ``inpaintstudio train`` knows);
- :func:`capabilities` -- one model's :class:`~inpaintstudio.engine.base.Capabilities`;
- :func:`select` -- what ``auto`` picks for a job (the rule is engine/selection.py's).
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import TypeVar

from inpaintstudio.engine import selection
from inpaintstudio.engine.base import Capabilities, Inpainter
from inpaintstudio.errors import UnknownModelError, WeightsError

log = logging.getLogger(__name__)

_registry: dict[str, type[Inpainter]] = {}
_lock = threading.RLock()
_builtins_loaded = False
_variants: set[str] = set()  # names registered from the user's manifest, re-read by refresh()

# Modules whose import registers the built-in inpainters. Each is imported on first use of the
# registry; learned ones import torch lazily inside their methods, so this stays cheap.
BUILTIN_MODULES = (
    "inpaintstudio.engine.inpainters.classical",
    "inpaintstudio.engine.inpainters.deepfill",
    "inpaintstudio.engine.inpainters.csa",
    "inpaintstudio.engine.inpainters.srn",
)

T = TypeVar("T", bound=type[Inpainter])


def register(cls: T) -> T:
    """Class decorator: add an inpainter under ``cls.name``; a second class with that name is refused."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} must declare a non-empty class attribute 'name'")
    with _lock:
        if name in _registry and _registry[name] is not cls:
            raise ValueError(f"an inpainter named '{name}' is already registered ({_registry[name].__qualname__})")
        _registry[name] = cls
    return cls


def unregister(name: str) -> None:
    with _lock:
        _registry.pop(name, None)


def _load_builtins() -> None:
    global _builtins_loaded
    with _lock:
        if _builtins_loaded:
            return
        _builtins_loaded = True
        for module in BUILTIN_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:  # a dependency of an existing module is missing: that is a bug
                    raise
                log.debug("inpainter module %s not present", module)
        _register_installed_variants()


def _register_installed_variants() -> None:
    """Register imported checkpoints listed in the user's manifest as variants of their family."""
    from inpaintstudio.engine import weights

    try:
        specs = weights.all_specs()
    except WeightsError as exc:
        log.warning("%s", exc)
        return
    for spec in specs:
        if not spec.base or spec.model in _registry:
            continue
        family = _registry.get(spec.base)
        if family is None:
            log.warning("model '%s' is based on unknown model '%s'; ignored", spec.model, spec.base)
            continue
        variant = type(
            f"{family.__name__}_{spec.model.replace('-', '_')}",
            (family,),
            {"name": spec.model, "label": f"{family.label} ({spec.model})", "__module__": family.__module__},
        )
        register(variant)
        _variants.add(spec.model)


def refresh() -> None:
    """Pick up models imported or removed since start (the model manager calls this)."""
    _load_builtins()
    with _lock:
        for name in _variants:
            _registry.pop(name, None)
        _variants.clear()
        _register_installed_variants()


def get(name: str) -> type[Inpainter]:
    _load_builtins()
    with _lock:
        try:
            return _registry[name]
        except KeyError:
            known = ", ".join(sorted(_registry))
            raise UnknownModelError(f"unknown model '{name}'; available models: {known}") from None


def names() -> list[str]:
    _load_builtins()
    with _lock:
        return list(_registry)


def all_inpainters() -> list[type[Inpainter]]:
    _load_builtins()
    with _lock:
        return list(_registry.values())


def capabilities(name: str) -> Capabilities:
    """What model ``name`` can do with the weights installed now, and its recorded scores."""
    return get(name).capabilities()


def list_models(
    *,
    sketch: bool | None = None,
    outpaint: bool | None = None,
    exclude: bool | None = None,
    learned: bool | None = None,
    ready: bool | None = None,
    trainable: bool | None = None,
) -> list[str]:
    """The names of the registered models that match every filter given (None: either way), in
    registration order: built-ins, then imported variants."""
    wanted = {"sketch": sketch, "outpaint": outpaint, "exclude": exclude}
    names = []
    for cls in all_inpainters():
        if learned is not None and bool(cls.learned) != learned:
            continue
        if trainable is not None and cls.trainable() != trainable:
            continue
        if any(want is not None for want in wanted.values()):
            caps = cls.capabilities()
            if any(want is not None and bool(getattr(caps, key)) != want for key, want in wanted.items()):
                continue
        if ready is not None and cls.status().ready != ready:
            continue
        names.append(cls.name)
    return names


def select(job: str, *, sketch: bool = False) -> selection.Choice:
    """The model ``auto`` picks for ``job`` ("holes" or "borders"), and why; with ``sketch``, one that
    follows strokes where one is as good (engine/selection.py)."""
    return selection.choose(job, all_inpainters(), sketch=sketch)
