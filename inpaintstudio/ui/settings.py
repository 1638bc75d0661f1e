"""Settings that persist between runs, in an INI file under the user-data folder.

The file lives in ``$INPAINTSTUDIO_HOME`` (or the platform's data folder), so tests, which point that
variable at a fresh temporary folder, never see or touch the developer's own settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from inpaintstudio.paths import user_data_dir

MAX_RECENT = 10
DEVICES = ("auto", "cpu", "cuda", "mps")


def settings_path() -> Path:
    return user_data_dir() / "settings.ini"


class AppSettings:
    """Typed access to the persisted settings; every setter writes through."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _get(self, key: str, default: object, kind: type) -> object:
        value = self._qs.value(key, default)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _set(self, key: str, value: object) -> None:
        self._qs.setValue(key, value)
        self._qs.sync()

    # -- fill ------------------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        value = str(self._get("fill/device", "auto", str))
        return value if value in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self._set("fill/device", value if value in DEVICES else "auto")

    @property
    def model(self) -> str:
        return str(self._get("fill/model", "", str))  # "": none chosen yet, the panel picks the recommended

    @model.setter
    def model(self, value: str) -> None:
        self._set("fill/model", value)

    @property
    def compare_models(self) -> list[str]:
        value = self._qs.value("fill/compare_models", [])
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    @compare_models.setter
    def compare_models(self, value: list[str]) -> None:
        self._set("fill/compare_models", list(value))

    # -- brushes ---------------------------------------------------------------------------------------
    @property
    def brush_size(self) -> float:
        return float(self._get("brush/size", 40.0, float))

    @brush_size.setter
    def brush_size(self, value: float) -> None:
        self._set("brush/size", float(value))

    @property
    def brush_hardness(self) -> float:
        return float(self._get("brush/hardness", 0.8, float))

    @brush_hardness.setter
    def brush_hardness(self, value: float) -> None:
        self._set("brush/hardness", float(value))

    @property
    def sketch_size(self) -> float:
        return float(self._get("brush/sketch_size", 4.0, float))

    @sketch_size.setter
    def sketch_size(self, value: float) -> None:
        self._set("brush/sketch_size", float(value))

    @property
    def mask_opacity(self) -> float:
        return float(self._get("view/mask_opacity", 0.5, float))

    @mask_opacity.setter
    def mask_opacity(self, value: float) -> None:
        self._set("view/mask_opacity", float(value))

    # -- files -----------------------------------------------------------------------------------------
    @property
    def recent_files(self) -> list[str]:
        value = self._qs.value("files/recent", [])
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    @recent_files.setter
    def recent_files(self, files: list[str]) -> None:
        self._set("files/recent", list(dict.fromkeys(files))[:MAX_RECENT])

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        self.recent_files = [path, *[f for f in self.recent_files if f != path]]

    def remove_recent(self, path: str) -> None:
        self.recent_files = [f for f in self.recent_files if f != path]

    @property
    def last_folder(self) -> str:
        return str(self._get("files/last_folder", "", str))

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._set("files/last_folder", value)

    @property
    def jpeg_quality(self) -> int:
        return int(self._get("files/jpeg_quality", 92, int))

    @jpeg_quality.setter
    def jpeg_quality(self, value: int) -> None:
        self._set("files/jpeg_quality", int(max(1, min(100, value))))

    # -- window ----------------------------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self._qs.value("window/geometry"), self._qs.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)
        self._qs.sync()
