"""Where InpaintStudio finds its shipped files and keeps the user's own.

Shipped files (``models/`` and ``resources/``) live beside the package: in a source checkout at the
repository's top, and in the PyInstaller bundle at ``_internal/models`` (the package itself is
``_internal/inpaintstudio``, so the same rule finds them; ``sys._MEIPASS`` is a fallback). An installed
wheel carries them inside the package (``inpaintstudio/_models``, ``inpaintstudio/_resources``). The
first folder that exists wins. User data (imported models, recovery files) lives under
``$INPAINTSTUDIO_HOME`` when set (tests point it at a temporary folder), else the platform's data folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def _bundle_dir() -> Path | None:
    base = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen app
    return Path(base) if base else None


def shipped_models_dir() -> Path:
    override = os.environ.get("INPAINTSTUDIO_MODELS_DIR")
    if override:
        return Path(override)
    bundle = _bundle_dir()
    extra = [bundle / "models"] if bundle else []
    return _first_existing(PACKAGE_DIR.parent / "models", PACKAGE_DIR / "_models", *extra)


def resources_dir() -> Path:
    bundle = _bundle_dir()
    extra = [bundle / "resources"] if bundle else []
    return _first_existing(PACKAGE_DIR.parent / "resources", PACKAGE_DIR / "_resources", *extra)


def user_data_dir() -> Path:
    override = os.environ.get("INPAINTSTUDIO_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "InpaintStudio"


def user_models_dir() -> Path:
    return user_data_dir() / "models"
