"""The ``inpaintstudio`` command: the app by default, subcommands for headless work.

    inpaintstudio [IMAGE]                 start the app (optionally opening IMAGE)
    inpaintstudio fill IMAGE --mask MASK -o OUT [--model NAME] [--sketch S] [--exclude EXCL] [--extend L,T,R,B]
    inpaintstudio batch --images DIR --masks DIR [--excludes DIR] --model NAME --out DIR
    inpaintstudio models [list|import|remove]

Errors a user can cause are printed as one line (``inpaintstudio: error: ...``) with exit status 1;
nothing is ever left half-written. ``--debug`` (or INPAINTSTUDIO_DEBUG=1) shows tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator

from inpaintstudio import __version__
from inpaintstudio.errors import DOWNLOAD, IMPORT, TRAIN, InpaintStudioError, Remedy, Terminated, with_remedy

# Each module provides add_parser(subparsers) and run(args) -> int; see inpaintstudio/commands/.
COMMAND_MODULES = ("fill", "batch", "models", "eval", "validate", "train")


def _command_modules() -> dict[str, object]:
    found = {}
    for name in COMMAND_MODULES:
        try:
            found[name] = importlib.import_module(f"inpaintstudio.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"inpaintstudio.commands.{name}":
                raise
    return found


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="inpaintstudio",
        description="Fill holes in photos and extend their borders, with learned and classical inpainting.",
        epilog="Run 'inpaintstudio COMMAND --help' for a command's options. Without a command the app starts.",
    )
    parser.add_argument("--version", action="version", version=f"InpaintStudio {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks and debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = _command_modules()
    for module in modules.values():
        module.add_parser(subparsers)  # type: ignore[attr-defined]
    return parser, modules


def _gui_available() -> bool:
    return importlib.util.find_spec("inpaintstudio.ui.app") is not None


def _display_problem() -> str | None:
    """Why a window cannot open here, or None. Checked before Qt, which would abort the process."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return (
                "no display found, so the app cannot open a window; run it in a desktop session "
                "(or under xvfb-run), or use the headless commands: inpaintstudio fill / batch / models"
            )
    return None


def _start_gui(files: list[str], parser: argparse.ArgumentParser) -> int:
    if not _gui_available():
        parser.print_help()
        return 0
    problem = _display_problem()
    if problem:
        raise InpaintStudioError(problem)
    from inpaintstudio.ui.app import main as gui_main

    return int(gui_main(files) or 0)


def stopped_by(exc: KeyboardInterrupt) -> tuple[str, int]:
    """('interrupted', 130) for Ctrl-C, ('terminated', 143) for SIGTERM: the word for the message and the
    exit status a shell reports for a process stopped that way."""
    return ("terminated", Terminated.exit_status) if isinstance(exc, Terminated) else ("interrupted", 130)


# The command line's wording of a remedy (errors.Remedy): the command that does it. The app words the same
# remedy as a menu or button (ui/models.py).
REMEDY_COMMANDS = {
    DOWNLOAD: "download them with: inpaintstudio models download {model}",
    IMPORT: "import a checkpoint (inpaintstudio models import FILE --as {model})",
    TRAIN: "train weights (inpaintstudio train, see the README)",
}


def cli_message(message: str, remedy: Remedy | None) -> str:
    """A status or error message with its remedy as a command."""
    return with_remedy(message, remedy, lambda r: REMEDY_COMMANDS[r.kind].format(model=r.model))


def cli_error(error: InpaintStudioError) -> str:
    """What the command line prints for one of our errors."""
    return cli_message(str(error), error.remedy)


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """While a command runs, SIGTERM raises :class:`Terminated` instead of ending the process on the spot,
    so a file half written is removed (atomic writes clean up on any exception) and not left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("INPAINTSTUDIO_DEBUG") == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        parser, modules = build_parser()
        commands = set(modules)
        positional = [a for a in argv if not a.startswith("-")]
        if positional and positional[0] in COMMAND_MODULES and positional[0] not in commands:
            # e.g. `train` in the installed app bundle, which leaves the training code out
            raise InpaintStudioError(f"the '{positional[0]}' command is not available in this build of InpaintStudio")
        if not positional or positional[0] not in commands:
            # `inpaintstudio` or `inpaintstudio photo.jpg`: the app (argparse still handles --help, --version).
            if any(a in ("-h", "--help", "--version") for a in argv):
                parser.parse_args(argv)
            return _start_gui([a for a in argv if a != "--debug"], parser)
        args = parser.parse_args([a for a in argv if a != "--debug"])  # --debug may come anywhere
        with _sigterm_as_exception():
            return int(modules[args.command].run(args) or 0)  # type: ignore[attr-defined]
    except InpaintStudioError as exc:
        print(f"inpaintstudio: error: {cli_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # commands that write several files say themselves what they wrote
        what, status = stopped_by(exc)
        print(f"inpaintstudio: {what}; no file was left half-written", file=sys.stderr)
        return status
    except MemoryError:
        print("inpaintstudio: error: out of memory (try a smaller image or the resize strategy)", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line unless debugging, and never a partial output file
        if debug:
            traceback.print_exc()
        print(
            f"inpaintstudio: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
