"""installer.spec without building: it runs against stand-ins for PyInstaller's spec globals, and the bundle
gets every module imported by name, the shipped files, and a layout in which paths.py finds them.

The real build and its smoke test (a clean environment, fills, the window under Xvfb) are
scripts/build_app.py and scripts/smoke_app.py; they take minutes, so they are not part of the test suite.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

from inpaintstudio import cli, paths
from inpaintstudio.engine import registry

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "installer.spec"

FAKE_BINARIES = [
    ("torch/lib/libtorch_cpu.so", "/site/torch/lib/libtorch_cpu.so", "BINARY"),
    ("torch/lib/libtorchbind_test.so", "/site/torch/lib/libtorchbind_test.so", "BINARY"),
    ("torch/bin/torch_shm_manager", "/site/torch/bin/torch_shm_manager", "BINARY"),
    ("torch/bin/test_api", "/site/torch/bin/test_api", "BINARY"),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "/site/PySide6/Qt/plugins/platforms/libqxcb.so", "BINARY"),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "/site/PySide6/Qt/plugins/platforms/libqoffscreen.so", "BINARY"),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/site/PySide6/Qt/plugins/platformthemes/libqgtk3.so", "BINARY"),
]


class _Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT and remembers how it was called."""

    calls: dict[str, tuple[tuple, dict]]

    def __init__(self, *args, **kwargs) -> None:
        type(self).calls[type(self).__name__] = (args, kwargs)


def _run_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    calls: dict[str, tuple[tuple, dict]] = {}

    class Analysis(_Recorder):
        def __init__(self, scripts, **kwargs) -> None:
            super().__init__(scripts, **kwargs)
            self.datas = [(dest_dir, src, "DATA") for src, dest_dir in kwargs["datas"]]
            self.binaries = list(FAKE_BINARIES)
            self.pure, self.scripts = [], []

    stubs = {name: type(name, (_Recorder,), {}) for name in ("PYZ", "EXE", "COLLECT")}
    for cls in (Analysis, *stubs.values()):
        cls.calls = calls

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda package, **_: [(f"/site/{package}/fonts/icons.ttf", f"{package}/fonts")]
    hooks.collect_dynamic_libs = lambda package, **_: [(f"/site/{package}/lib{package}.so", package)]
    monkeypatch.setitem(sys.modules, "PyInstaller", types.ModuleType("PyInstaller"))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils", types.ModuleType("PyInstaller.utils"))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setenv("INPAINTSTUDIO_STRIP_TORCH", "0")  # no `strip` run from a unit test
    monkeypatch.delenv("INPAINTSTUDIO_WINDOWED", raising=False)

    namespace = {
        "__name__": "__main__",
        "SPECPATH": str(REPO),
        "workpath": str(tmp_path / "work"),
        "Analysis": Analysis,
        **stubs,
    }
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    namespace["_calls"] = calls
    return namespace


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    return _run_spec(tmp_path, monkeypatch)


def _analysis(spec: dict) -> dict:
    return spec["_calls"]["Analysis"][1]


def test_spec_is_python() -> None:
    compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec")


def test_spec_reads_the_modules_imported_by_name_from_the_source(spec: dict) -> None:
    assert spec["BUILTIN_MODULES"] == registry.BUILTIN_MODULES
    assert spec["COMMAND_MODULES"] == tuple(f"inpaintstudio.commands.{name}" for name in cli.COMMAND_MODULES)


def test_every_module_imported_by_name_is_a_hidden_import(spec: dict) -> None:
    hidden = set(_analysis(spec)["hiddenimports"])
    excluded = set(_analysis(spec)["excludes"])
    assert set(registry.BUILTIN_MODULES) <= hidden
    for name in cli.COMMAND_MODULES:
        module = f"inpaintstudio.commands.{name}"
        assert module in hidden or module in excluded, module
    assert "inpaintstudio.ui.app" in hidden  # imported inside a function, found with find_spec
    # Only training is left out; every command a user of the app needs is in.
    assert {m for m in excluded if m.startswith("inpaintstudio.commands.")} == {"inpaintstudio.commands.train"}
    for module in hidden:
        assert importlib.util.find_spec(module) is not None, module


def test_a_left_out_command_is_skipped_by_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_train(name: str, *args):
        if name == "inpaintstudio.commands.train":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *args)

    monkeypatch.setattr(cli.importlib, "import_module", without_train)
    modules = cli._command_modules()
    assert "train" not in modules and {"fill", "batch", "models", "eval"} <= set(modules)


def _imports_of(module: str) -> set[str]:
    """Every inpaintstudio module that ``module`` imports anywhere (functions included), statically."""
    origin = importlib.util.find_spec(module).origin
    tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
    package = module if origin.endswith("__init__.py") else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("inpaintstudio")}


def test_no_bundled_module_imports_the_left_out_training_code(spec: dict) -> None:
    """`eval` must keep working in the bundle: nothing bundled may need a module the spec excludes."""
    analysis = _analysis(spec)
    excluded = {m for m in analysis["excludes"] if m.startswith("inpaintstudio")}
    assert "inpaintstudio.training.trainer" in excluded
    for module in analysis["hiddenimports"]:
        needed = _imports_of(module) & excluded
        assert not needed, f"{module} imports {sorted(needed)}, which installer.spec leaves out"


def test_shipped_files_are_bundled_from_existing_folders(spec: dict) -> None:
    datas = _analysis(spec)["datas"]
    for source, _ in datas:
        assert Path(source).is_file() or source.startswith("/site/"), source
    models = {Path(s).relative_to(REPO / "models").as_posix() for s, d in datas if d.split("/")[0] == "models"}
    resources = {Path(s).relative_to(REPO / "resources") for s, d in datas if d.split("/")[0] == "resources"}
    assert (REPO / "models").is_dir() and (REPO / "resources").is_dir()
    assert "manifest.json" in models
    assert {Path("style.qss"), Path("sample.jpg")} <= resources
    assert resources == {p.relative_to(REPO / "resources") for p in (REPO / "resources").rglob("*") if p.is_file()}
    # Whatever the manifest lists and is present (weights, model cards) travels with it.
    manifest = json.loads((REPO / "models" / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["weights"]:
        for name in (entry["file"], entry.get("card")):
            if name and (REPO / "models" / name).is_file():
                assert name in models, name
    for source, dest in datas:  # each file keeps its place below models/ or resources/
        top = Path(dest).parts[0]
        if top in ("models", "resources"):
            assert Path(dest, Path(source).name) == Path(top, Path(source).relative_to(REPO / top))
    assert ("/site/qtawesome/fonts/icons.ttf", "qtawesome/fonts") in datas
    assert ("/site/patchmatch/libpatchmatch.so", "patchmatch") in _analysis(spec)["binaries"]


def test_build_is_a_console_one_folder_app_of_the_launcher(spec: dict) -> None:
    calls = spec["_calls"]
    scripts = calls["Analysis"][0][0]
    assert [Path(s) for s in scripts] == [REPO / "scripts" / "launcher.py"]
    assert "inpaintstudio.cli import main" in (REPO / "scripts" / "launcher.py").read_text(encoding="utf-8")
    assert str(REPO) in _analysis(spec)["pathex"]
    exe = calls["EXE"][1]
    assert exe["name"] == "InpaintStudio" and exe["console"] is True and exe["exclude_binaries"] is True
    assert calls["COLLECT"][1]["name"] == "InpaintStudio"


def test_windowed_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _run_spec(tmp_path, monkeypatch)
    monkeypatch.setenv("INPAINTSTUDIO_WINDOWED", "1")
    namespace = {k: v for k, v in spec.items() if k in ("Analysis", "PYZ", "EXE", "COLLECT")}
    namespace.update(__name__="__main__", SPECPATH=str(REPO), workpath=str(tmp_path / "work"))
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    assert spec["_calls"]["EXE"][1]["console"] is False


def test_unused_torch_and_qt_files_are_dropped_but_the_needed_ones_kept(spec: dict) -> None:
    analysis = spec["a"]
    kept = {dest for dest, _, _ in analysis.binaries}
    assert "torch/lib/libtorch_cpu.so" in kept and "torch/bin/torch_shm_manager" in kept
    assert {"PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so"} <= kept
    assert not kept & {
        "torch/lib/libtorchbind_test.so",
        "torch/bin/test_api",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    }
    excludes = set(_analysis(spec)["excludes"])
    for needed in ("torch", "numpy", "cv2", "PIL", "PySide6", "qtawesome", "qtpy", "patchmatch", "safetensors"):
        assert not any(needed == e or needed.startswith(e + ".") for e in excludes), needed


# -- paths.py inside a bundle ----------------------------------------------------------------------------


def _fake_bundle(tmp_path: Path) -> Path:
    """A one-folder bundle's _internal/: what PyInstaller sets sys._MEIPASS to."""
    internal = tmp_path / "InpaintStudio" / "_internal"
    (internal / "models").mkdir(parents=True)
    (internal / "models" / "manifest.json").write_text('{"format": 1, "weights": []}', encoding="utf-8")
    (internal / "resources").mkdir()
    (internal / "resources" / "style.qss").write_text("", encoding="utf-8")
    return internal


def test_paths_in_a_frozen_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frozen, a module's __file__ is sys._MEIPASS/<package path>, so the package folder is
    _internal/inpaintstudio (not a real folder: the code is in the archive) and the checkout candidate
    PACKAGE_DIR.parent / "models" is the bundle's own folder."""
    internal = _fake_bundle(tmp_path)
    monkeypatch.delenv("INPAINTSTUDIO_MODELS_DIR", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(paths, "PACKAGE_DIR", internal / "inpaintstudio")
    assert paths.shipped_models_dir() == internal / "models"
    assert paths.resources_dir() == internal / "resources"


def test_paths_fall_back_to_meipass_when_the_package_folder_is_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a freezer report another location for the package, sys._MEIPASS is still found, as long
    as no models/ or resources/ folder happens to sit beside that location."""
    internal = _fake_bundle(tmp_path)
    monkeypatch.delenv("INPAINTSTUDIO_MODELS_DIR", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path / "elsewhere" / "inpaintstudio")
    assert paths.shipped_models_dir() == internal / "models"
    assert paths.resources_dir() == internal / "resources"


def test_in_a_checkout_the_checkout_folders_win_over_meipass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The order is checkout, wheel, bundle: harmless when frozen (the first one is the bundle's)."""
    internal = _fake_bundle(tmp_path)
    monkeypatch.delenv("INPAINTSTUDIO_MODELS_DIR", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    assert paths.shipped_models_dir() == REPO / "models"
    assert paths.resources_dir() == REPO / "resources"
    monkeypatch.setenv("INPAINTSTUDIO_MODELS_DIR", str(tmp_path / "override"))
    assert paths.shipped_models_dir() == tmp_path / "override"


def test_the_ray_code_and_ray_are_left_out_of_the_bundle(spec: dict) -> None:
    """`--ray` needs the optional extra; the bundle keeps the options and the message, not Ray."""
    analysis = _analysis(spec)
    assert {"inpaintstudio.cluster.ray_jobs", "ray"} <= set(analysis["excludes"])
    assert "inpaintstudio.cluster" in analysis["hiddenimports"]
    assert "inpaintstudio.cluster.ray_jobs" not in analysis["hiddenimports"]
