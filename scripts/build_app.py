#!/usr/bin/env python3
"""Build the one-folder app with PyInstaller (installer.spec), then smoke-test the result.

    python scripts/build_app.py              # build dist/InpaintStudio/, then run the smoke test
    python scripts/build_app.py --no-build   # only the smoke test, on the existing dist/InpaintStudio/
    python scripts/build_app.py --no-gui     # skip the window test (it needs Xvfb: xvfb-run, xwininfo)

Run it with the Python environment the app is installed in (plus ``pip install pyinstaller``). The build
log is build/pyinstaller.log. The smoke test is scripts/smoke_app.py (see there for what it checks; it
also runs alone); it prints PASS/FAIL per step and a summary, and this exits 1 if any step failed.
build/smoke/summary.json has it all, the build's time included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from smoke_app import DIST, REPO, Report, finish, smoke  # scripts/ is on the path when this runs as a script

WORK = REPO / "build" / "pyinstaller"


# -- build ---------------------------------------------------------------------------------------------


def build(report: Report) -> bool:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        return report.add("build", False, f"PyInstaller is not installed: {sys.executable} -m pip install pyinstaller")
    cmd = [
        sys.executable, "-m", "PyInstaller", str(REPO / "installer.spec"),
        "--noconfirm", "--distpath", str(DIST), "--workpath", str(WORK),
    ]  # fmt: skip
    print("$", " ".join(cmd), flush=True)
    log = REPO / "build" / "pyinstaller.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log, "w", encoding="utf-8") as fh:
        done = subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - start
    report.facts["build_seconds"] = round(seconds, 1)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        print("\n".join(tail))
        return report.add(
            "build", False, f"PyInstaller exit status {done.returncode} after {seconds:.0f} s (log: {log})"
        )
    return report.add("build", True, f"{seconds:.0f} s (log: {log.relative_to(REPO)})")


# -- main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="smoke-test the existing dist/InpaintStudio")
    parser.add_argument("--no-gui", action="store_true", help="skip the window test under Xvfb")
    parser.add_argument("--keep", action="store_true", help="keep the temporary smoke-test folder")
    parser.add_argument("--gui-timeout", type=float, default=120.0, help="seconds to wait for the window")
    args = parser.parse_args()
    report = Report()
    if not args.no_build and not build(report):
        return finish(report)
    return smoke(report, gui=not args.no_gui, keep=args.keep, gui_timeout=args.gui_timeout)


if __name__ == "__main__":
    sys.exit(main())
