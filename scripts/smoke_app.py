#!/usr/bin/env python3
"""Smoke-test the built one-folder app (dist/InpaintStudio/, made by scripts/build_app.py).

    python scripts/smoke_app.py              # the smoke test of the existing dist/InpaintStudio/
    python scripts/smoke_app.py --no-gui     # skip the window test (it needs Xvfb: xvfb-run, xwininfo)

(``python scripts/build_app.py`` builds and then runs this.) Run it with the Python environment the app
was built from: it only drives the executable, but the window probe uses Pillow for its screenshot.

The headless checks run the built executable in a clean environment: ``env -i`` with only PATH=/usr/bin:/bin
and HOME set to a temporary folder, from a temporary working folder outside the repository, so no Python,
no Python packages and no repository files can help it. They cover --version, ``models``, ``fill`` with
telea and patchmatch and with the shipped learned models that are ready (when ``models/`` has none: every
learned family with small random weights put into the models/ folder of a copy of the bundle in another
place, which checks that torch works frozen and that a moved bundle finds its own models/), ``batch``,
``eval``, bad input (exit status 1, one line on stderr, no output file) and the missing-display message.
The window check starts the executable under Xvfb (``xvfb-run``) on a copy of resources/sample.jpg,
waits for its window, saves a screenshot to build/smoke/window.png and closes it.

Prints PASS/FAIL per step and a summary; exits 1 if any step failed. build/smoke/summary.json has it all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP_NAME = "InpaintStudio"
DIST = REPO / "dist"
SMOKE = REPO / "build" / "smoke"
CLEAN_PATH = "/usr/bin:/bin"
SCREEN = "1400x900x24"


# -- results -------------------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.steps: list[dict[str, object]] = []
        self.facts: dict[str, object] = {}

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.steps.append({"step": name, "ok": bool(ok), "detail": detail})
        print(f"[{'PASS' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    @property
    def ok(self) -> bool:
        return all(s["ok"] for s in self.steps)


def human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


# -- the bundle ----------------------------------------------------------------------------------------


def measure(bundle: Path, report: Report) -> None:
    """Total size of the bundle and what dominates it (symbolic links count as nothing)."""
    total = 0
    groups: dict[str, int] = {}
    files: list[tuple[int, str]] = []
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        rel = path.relative_to(bundle)
        parts = rel.parts[1:] if rel.parts[0] == "_internal" else rel.parts
        key = "/".join(parts[:2]) if len(parts) > 2 else (parts[0] if len(parts) > 1 else "(top-level libraries)")
        groups[key] = groups.get(key, 0) + size
        files.append((size, str(rel)))
    top_groups = sorted(groups.items(), key=lambda kv: -kv[1])[:10]
    top_files = sorted(files, reverse=True)[:5]
    report.facts["bundle_bytes"] = total
    report.facts["bundle_top"] = {k: v for k, v in top_groups}
    report.facts["bundle_largest_files"] = {name: size for size, name in top_files}
    print(f"bundle: {bundle.relative_to(REPO)}: {human(total)} in {len(files)} files")
    for key, size in top_groups:
        print(f"  {human(size):>10}  {key}")
    print("  largest files: " + ", ".join(f"{Path(n).name} {human(s)}" for s, n in top_files))


# -- helpers for the clean-room runs -------------------------------------------------------------------


def clean_env_args(home: Path, extra: dict[str, str] | None = None) -> list[str]:
    env = {"PATH": CLEAN_PATH, "HOME": str(home), **(extra or {})}
    return ["env", "-i", *(f"{k}={v}" for k, v in env.items())]


def run_clean(
    exe: Path, args: list[str], cwd: Path, home: Path, extra=None, timeout=900
) -> subprocess.CompletedProcess:
    cmd = [*clean_env_args(home, extra), str(exe), *args]
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, 124, exc.stdout or "", f"timed out after {timeout} s")


def short(text: str, limit: int = 300) -> str:
    text = " | ".join(line for line in (text or "").strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_test_photo(folder: Path) -> tuple[Path, Path]:
    """A 400 x 300 textured RGB photo and a mask (a rectangle and a stroke), as PNG."""
    import numpy as np
    from PIL import Image, ImageDraw

    h, w = 300, 400
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(7)
    rgb = np.stack(
        [
            120 + 80 * np.sin(x / 23.0) * np.cos(y / 31.0),
            90 + 60 * np.cos((x + y) / 17.0),
            60 + 0.4 * x - 0.2 * y,
        ],
        axis=-1,
    )
    rgb += rng.normal(0, 6, rgb.shape)
    photo = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    draw.rectangle((150, 110, 215, 165), fill=255)
    draw.line((40, 250, 330, 210), fill=255, width=9)
    photo_path, mask_path = folder / "photo.png", folder / "mask.png"
    photo.save(photo_path)
    mask.save(mask_path)
    return photo_path, mask_path


def check_fill(out: Path, photo: Path, mask: Path) -> tuple[bool, str]:
    import numpy as np
    from PIL import Image

    if not out.is_file():
        return False, f"{out.name} was not written"
    got = np.asarray(Image.open(out).convert("RGB"))
    src = np.asarray(Image.open(photo).convert("RGB"))
    hole = np.asarray(Image.open(mask).convert("L")) >= 128
    if got.shape != src.shape:
        return False, f"size {got.shape[1]}x{got.shape[0]}, expected {src.shape[1]}x{src.shape[0]}"
    outside = int((got[~hole] != src[~hole]).any(axis=-1).sum())
    if outside:
        return False, f"{outside} pixels outside the hole differ from the input"
    inside = float(np.abs(got[hole].astype(int) - src[hole].astype(int)).mean())
    return (
        True,
        f"{got.shape[1]}x{got.shape[0]}, unmasked pixels identical, mean |fill - original| in hole {inside:.1f}",
    )


def one_line_error(done: subprocess.CompletedProcess) -> bool:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("inpaintstudio: error:")


def copy_bundle(source: Path, dest: Path) -> None:
    """Hard-linked copy of the bundle (a plain copy across file systems); files are replaced, never edited."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["cp", "-al", str(source), str(dest)], capture_output=True, check=False).returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(source, dest, symlinks=True)


def synthetic_models(folder: Path) -> list[str]:
    """Every learned family with small random weights and a manifest, to check torch in the bundle."""
    sys.path.insert(0, str(REPO))
    import torch
    from safetensors.torch import save_file

    from inpaintstudio.engine import registry, weights

    folder.mkdir(parents=True, exist_ok=True)
    specs = []
    torch.manual_seed(0)
    for cls in registry.all_inpainters():
        # Families only: an imported variant (registered from the builder's own manifest) defines no network.
        if not cls.trainable():
            continue
        config = dict(cls.default_config)
        if getattr(cls, "width_key", None):
            config[cls.width_key] = 8
        net = cls.build_network(config)
        state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
        path = folder / f"{cls.name}.safetensors"
        path.unlink(missing_ok=True)
        save_file(state, str(path))
        specs.append(
            weights.WeightsSpec(
                model=cls.name,
                file=path.name,
                sha256=weights.sha256_of(path),
                size=path.stat().st_size,
                parameters=sum(p.numel() for p in net.parameters()),
                input_size=int(cls.caps.working_size or 256),
                licence="test only",
                training_data="none",
                training="random initialisation (build smoke test)",
                origin="synthetic",
                config=config,
            )
        )
    (folder / weights.MANIFEST_NAME).unlink(missing_ok=True)  # a hard link to dist/: replace, never write through
    weights.write_manifest(folder, specs)
    return [s.model for s in specs]


# -- headless smoke test -------------------------------------------------------------------------------


def smoke_headless(exe: Path, report: Report, tmp: Path) -> None:
    home, work = tmp / "home", tmp / "work"
    home.mkdir()
    work.mkdir()
    sys.path.insert(0, str(REPO))
    from inpaintstudio import __version__

    done = run_clean(exe, ["--version"], work, home)
    report.add(
        "--version",
        done.returncode == 0 and done.stdout.strip() == f"InpaintStudio {__version__}",
        f"exit {done.returncode}, {short(done.stdout + done.stderr)}",
    )

    done = run_clean(exe, ["models"], work, home)
    report.add("models", done.returncode == 0 and "telea" in done.stdout, f"exit {done.returncode}")
    print("    " + done.stdout.strip().replace("\n", "\n    "))
    rows = []
    listing = run_clean(exe, ["models", "list", "--json"], work, home)
    try:
        rows = json.loads(listing.stdout)
    except ValueError:
        report.add("models list --json", False, f"exit {listing.returncode}, {short(listing.stderr)}")
    ready = {r["name"] for r in rows if r["ready"]}
    learned_ready = [r["name"] for r in rows if r["ready"] and r["kind"] == "learned"]
    report.add(
        "classical models ready (patchmatch's native library found)",
        {"telea", "navier-stokes", "patchmatch"} <= ready,
        ", ".join(sorted(ready)),
    )
    report.facts["shipped_learned_ready"] = learned_ready

    photo, mask = make_test_photo(work)
    for model in ["telea", "patchmatch", *learned_ready]:
        out = work / f"out-{model}.png"
        start = time.monotonic()
        done = run_clean(exe, ["fill", photo.name, "--mask", mask.name, "-o", out.name, "--model", model], work, home)
        took = time.monotonic() - start
        ok, detail = check_fill(out, photo, mask) if done.returncode == 0 else (False, short(done.stderr))
        kind = "shipped learned model" if model in learned_ready else "classical"
        report.add(
            f"fill --model {model} ({kind})",
            ok and done.returncode == 0,
            f"exit {done.returncode}, {took:.1f} s, {detail}",
        )

    if not learned_ready:
        # No shipped weights in this build. Still prove that torch and every learned network run frozen,
        # and that the bundle finds its own models/ folder wherever it is: a copy of the bundle (hard
        # links where possible) elsewhere, with small random weights and a manifest in its models/ folder.
        copy = tmp / "moved" / APP_NAME
        copy_bundle(exe.parent, copy)
        models_dir = copy / "_internal" / "models" if (copy / "_internal").is_dir() else copy / "models"
        names = synthetic_models(models_dir)
        copy_exe = copy / exe.name
        listing = run_clean(copy_exe, ["models", "list", "--json"], work, home)
        try:
            synthetic_ready = [r["name"] for r in json.loads(listing.stdout) if r["ready"] and r["kind"] == "learned"]
        except ValueError:
            synthetic_ready = []
        report.add(
            "moved bundle finds its models/ folder (random weights listed ready)",
            sorted(synthetic_ready) == sorted(names),
            ", ".join(synthetic_ready) or short(listing.stderr),
        )
        for model in names:
            out = work / f"out-synthetic-{model}.png"
            start = time.monotonic()
            args = ["fill", photo.name, "--mask", mask.name, "-o", out.name, "--model", model, "--device", "cpu"]
            done = run_clean(copy_exe, args, work, home)
            took = time.monotonic() - start
            ok, detail = check_fill(out, photo, mask) if done.returncode == 0 else (False, short(done.stderr))
            report.add(
                f"fill --model {model} (random weights: torch in the bundle)",
                ok and done.returncode == 0,
                f"exit {done.returncode}, {took:.1f} s, {detail}",
            )

    images, masks, outs = work / "images", work / "masks", work / "batch-out"
    images.mkdir()
    masks.mkdir()
    shutil.copy(photo, images / "a.png")
    shutil.copy(mask, masks / "a.png")
    done = run_clean(
        exe, ["batch", "--images", "images", "--masks", "masks", "--model", "telea", "--out", outs.name], work, home
    )
    ok, detail = check_fill(outs / "a.png", photo, mask) if done.returncode == 0 else (False, short(done.stderr))
    report.add("batch --model telea", ok and done.returncode == 0, f"exit {done.returncode}, {detail}")

    args = ["eval", "--images", "images", "--masks", "masks", "--models", "telea,patchmatch", "--out", "report.csv"]
    done = run_clean(exe, args, work, home)
    written = all((work / name).is_file() for name in ("report.csv", "report.summary.csv", "report.md"))
    report.add(
        "eval --models telea,patchmatch",
        done.returncode == 0 and written,
        f"exit {done.returncode}, reports written: {written}" + (f", {short(done.stderr)}" if done.returncode else ""),
    )

    done = run_clean(exe, ["fill", "missing.png", "--mask", mask.name, "-o", "bad.png"], work, home)
    report.add(
        "bad input (missing file): exit 1, one-line error, no output",
        done.returncode == 1 and one_line_error(done) and not (work / "bad.png").exists(),
        f"exit {done.returncode}, {short(done.stderr)}",
    )
    (work / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a PNG")
    done = run_clean(exe, ["fill", "corrupt.png", "--mask", mask.name, "-o", "bad.png"], work, home)
    report.add(
        "bad input (corrupt PNG): exit 1, one-line error, no output",
        done.returncode == 1 and one_line_error(done) and not (work / "bad.png").exists(),
        f"exit {done.returncode}, {short(done.stderr)}",
    )
    done = run_clean(exe, [], work, home)
    report.add(
        "no display: the app says so (exit 1, one line)",
        done.returncode == 1 and one_line_error(done) and "display" in done.stderr,
        f"exit {done.returncode}, {short(done.stderr, 120)}",
    )


# -- window smoke test (runs under xvfb-run) -----------------------------------------------------------


def _windows() -> list[tuple[str, str]]:
    """(window id, name) of every named X window."""
    out = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=False).stdout
    return re.findall(r"^\s*(0x[0-9a-f]+) \"([^\"]*)\"", out, flags=re.MULTILINE)


def _viewable(window: str) -> tuple[bool, str]:
    out = subprocess.run(["xwininfo", "-id", window], capture_output=True, text=True, check=False).stdout
    size = re.search(r"Width: (\d+).*?Height: (\d+)", out, flags=re.DOTALL)
    return "IsViewable" in out, f"{size.group(1)}x{size.group(2)}" if size else "?"


def gui_probe(exe: Path, image: Path, shot: Path, result: Path, timeout: float) -> int:
    """Inside xvfb-run: start the app in a clean environment, wait for its window, screenshot, close it."""
    display, xauth = os.environ.get("DISPLAY", ""), os.environ.get("XAUTHORITY", "")
    home = image.parent / "gui-home"
    home.mkdir(exist_ok=True)
    extra = {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **({"XAUTHORITY": xauth} if xauth else {})}
    log = shot.with_name("gui-output.txt")
    info: dict[str, object] = {"display": display}
    with open(log, "w", encoding="utf-8") as fh:
        start = time.monotonic()
        app = subprocess.Popen(
            [*clean_env_args(home, extra), str(exe), image.name], cwd=image.parent, stdout=fh, stderr=subprocess.STDOUT
        )
        try:
            shown = titled = None
            while time.monotonic() - start < timeout and app.poll() is None:
                mine = [(w, n) for w, n in _windows() if n.endswith(APP_NAME)]
                for window, name in mine:
                    viewable, size = _viewable(window)
                    if viewable:
                        if shown is None:
                            shown = time.monotonic() - start
                        info.update(window=window, title=name, size=size)
                        if image.name in name:
                            titled = time.monotonic() - start
                if titled is not None:
                    break
                time.sleep(0.25)
            info["seconds_to_window"] = None if shown is None else round(shown, 1)
            info["seconds_to_photo"] = None if titled is None else round(titled, 1)
            info["exited_early"] = app.poll()
            if shown is not None:
                time.sleep(2.0)  # let the photo and the panels paint
                from PIL import ImageGrab

                shot.parent.mkdir(parents=True, exist_ok=True)
                grab = ImageGrab.grab(xdisplay=display or None)
                grab.save(shot)
                extrema = grab.convert("L").getextrema()
                info.update(screenshot=str(shot), screenshot_size=list(grab.size), screenshot_extrema=list(extrema))
                info["still_running"] = app.poll() is None
        finally:
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(10)
                except subprocess.TimeoutExpired:
                    app.kill()
                    app.wait()
    info["output"] = log.read_text(encoding="utf-8", errors="replace")[-2000:]
    result.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return 0


def smoke_gui(exe: Path, report: Report, tmp: Path, timeout: float) -> None:
    missing = [tool for tool in ("xvfb-run", "xwininfo", "xauth") if shutil.which(tool) is None]
    if missing:
        report.add("window under Xvfb", False, f"missing {', '.join(missing)} (apt-get install xvfb x11-utils xauth)")
        return
    image = tmp / "resources-sample-copy.jpg"
    shutil.copy(REPO / "resources" / "sample.jpg", image)
    shot, result = SMOKE / "window.png", tmp / "gui.json"
    shot.unlink(missing_ok=True)
    cmd = [
        "xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}",
        sys.executable, str(Path(__file__).resolve()), "--gui-probe",
        "--exe", str(exe), "--image", str(image), "--shot", str(shot), "--result", str(result),
        "--gui-timeout", str(timeout),
    ]  # fmt: skip
    try:
        subprocess.run(cmd, cwd=tmp, check=False, timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        pass
    try:
        info = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report.add("window under Xvfb", False, "the probe under xvfb-run gave no result")
        return
    report.facts["gui"] = info
    report.add(
        "window shown under Xvfb (xcb)",
        info.get("seconds_to_window") is not None,
        f"'{info.get('title')}' {info.get('size')} after {info.get('seconds_to_window')} s"
        + (
            f"; app exited early with {info['exited_early']}: {short(info.get('output', ''))}"
            if info.get("exited_early") is not None
            else ""
        ),
    )
    report.add(
        "photo opened in the window (title names it)",
        info.get("seconds_to_photo") is not None,
        f"after {info.get('seconds_to_photo')} s",
    )
    extrema = info.get("screenshot_extrema") or [0, 0]
    report.add(
        "screenshot saved, not blank, app still running",
        shot.is_file() and extrema[1] - extrema[0] > 40 and bool(info.get("still_running")),
        f"{shot.relative_to(REPO)} {info.get('screenshot_size')}, grey range {extrema}",
    )
    problems = [
        line for line in str(info.get("output", "")).splitlines()
        if re.search(r"Traceback|error|Could not|Cannot|failed", line, flags=re.IGNORECASE)
    ]  # fmt: skip
    report.add("no errors printed by the app", not problems, short("\n".join(problems)) or "output clean")


# -- main ----------------------------------------------------------------------------------------------


def smoke(report: Report, *, gui: bool = True, keep: bool = False, gui_timeout: float = 120.0) -> int:
    """Every check on dist/InpaintStudio; writes build/smoke/summary.json and returns the exit status."""
    bundle = DIST / APP_NAME
    exe = bundle / (APP_NAME + (".exe" if sys.platform == "win32" else ""))
    if not report.add("bundle present", exe.is_file(), str(exe.relative_to(REPO))):
        return finish(report)
    measure(bundle, report)
    SMOKE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="inpaintstudio-smoke-"))  # outside the repository
    try:
        smoke_headless(exe, report, tmp)
        if gui:
            smoke_gui(exe, report, tmp, gui_timeout)
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish(report)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-gui", action="store_true", help="skip the window test under Xvfb")
    parser.add_argument("--keep", action="store_true", help="keep the temporary smoke-test folder")
    parser.add_argument("--gui-timeout", type=float, default=120.0, help="seconds to wait for the window")
    parser.add_argument("--gui-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--exe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--shot", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gui_probe:
        return gui_probe(args.exe, args.image, args.shot, args.result, args.gui_timeout)
    return smoke(Report(), gui=not args.no_gui, keep=args.keep, gui_timeout=args.gui_timeout)


def finish(report: Report) -> int:
    SMOKE.mkdir(parents=True, exist_ok=True)
    (SMOKE / "summary.json").write_text(
        json.dumps({"ok": report.ok, "steps": report.steps, **report.facts}, indent=2), encoding="utf-8"
    )
    passed = sum(1 for s in report.steps if s["ok"])
    print()
    print(f"{'PASS' if report.ok else 'FAIL'}: {passed}/{len(report.steps)} steps passed")
    for step in report.steps:
        if not step["ok"]:
            print(f"  FAILED: {step['step']}: {step['detail']}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
