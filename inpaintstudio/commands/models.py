"""``inpaintstudio models``: list models and their weights; verify, download, import or remove weights."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inpaintstudio.cli import cli_message
from inpaintstudio.commands.common import advance, progress_bar
from inpaintstudio.engine import catalog, registry, weights
from inpaintstudio.errors import DOWNLOAD, InputError, Remedy, WeightsError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list models, import or remove weights",
        description="Without an action, list every model with its capabilities and whether its weights are present.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list every model (the default)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    importing = actions.add_parser("import", help="import a public checkpoint as a model variant")
    importing.add_argument("file", type=Path, metavar="FILE")
    importing.add_argument("--as", dest="family", required=True, metavar="FAMILY", help="model family, e.g. deepfillv2")
    importing.add_argument("--name", help="name of the new variant (default: derived from the file name)")
    removing = actions.add_parser("remove", help="remove an imported model variant")
    removing.add_argument("name")
    verifying = actions.add_parser("verify", help="check the size and sha256 of installed weights files")
    verifying.add_argument("name", nargs="?", help="one model (default: every learned model)")
    downloading = actions.add_parser(
        "download",
        help="download a model's weights from the address in its manifest entry",
        description="Download, with resume (Ctrl+C stops; running again resumes) and sha256 verification.",
    )
    downloading.add_argument("name")
    downloading.add_argument("--timeout", type=float, default=30, help="network timeout in seconds (default 30)")
    parser.set_defaults(json=False)


def _megabytes(size: object) -> str:
    return f"{size / 1e6:.1f} MB" if isinstance(size, int) else "-"


def _clip(text: object, width: int) -> str:
    text = str(text or "-")
    return text if len(text) <= width else text[: width - 3] + "..."


def list_models(as_json: bool) -> int:
    rows = [catalog.model_info(cls) for cls in registry.all_inpainters()]
    for row in rows:  # the message as the command line words it; "remedy" keeps the structured advice
        remedy = row["remedy"]
        row["message"] = cli_message(str(row["message"]), Remedy(**remedy) if remedy else None)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    yes = {True: "yes", False: "-"}
    header = (
        f"{'MODEL':<22} {'KIND':<10} {'SKETCH':<7} {'OUTPAINT':<9} {'EXCLUDE':<8} {'SIZE':<6} {'WEIGHTS':<17} "
        f"{'DISK':<9} {'LICENCE':<24} ORIGIN"
    )
    print(header)
    for row in rows:
        size = row["native_size"] or "any"
        print(
            f"{row['name']:<22} {row['kind']:<10} {yes[row['sketch']]:<7} {yes[row['outpaint']]:<9} "
            f"{yes[row['exclude']]:<8} "
            f"{size!s:<6} {row['weights']:<17} {_megabytes(row['weights_size']):<9} "
            f"{_clip(row['licence'], 24):<24} {_clip(row['origin'], 40)}".rstrip()
        )
    problems = [row for row in rows if not row["ready"] and row["message"]]
    if problems:
        print()
        for row in problems:
            print(f"{row['name']}: {row['message']}")
    return 0


def verify_models(name: str | None) -> int:
    """Check every installed weights file (or one model's); exit status 1 if any is damaged."""
    classes = [registry.get(name)] if name else registry.all_inpainters()
    damaged = 0
    for cls in classes:
        if not cls.learned:
            if name:
                print(f"{cls.name:<22} {'-':<8} no weights needed")
            continue
        spec = None
        try:
            spec = cls.weights_spec()
        except WeightsError as exc:
            state, detail = "damaged", str(exc)
        else:
            state, detail = ("missing", "no weights are installed") if spec is None else weights.check_file(spec)
        if state == "missing" and spec is not None and spec.url:
            detail = cli_message(detail, Remedy(DOWNLOAD, cls.name))
        damaged += state == "damaged"
        print(f"{cls.name:<22} {state:<8} {detail}")
    if damaged:
        print(f"{damaged} damaged weights file{'s' if damaged > 1 else ''}", file=sys.stderr)
    return 1 if damaged else 0


def download_model(name: str, timeout: float) -> int:
    from inpaintstudio.engine import download

    cls = registry.get(name)  # an unknown name fails here, with the list of known ones
    if not cls.learned:
        raise InputError(f"'{name}' is a classical fill; it has no weights to download")
    if cls.status().ready:
        print(f"'{name}' is already installed and its sha256 checks out")
        return 0
    bar = progress_bar(None, "B", desc=name, unit_scale=True, unit_divisor=1024)

    def progress(done: int, total: int | None) -> None:
        if total and bar.total != total:
            bar.total = total
        advance(bar, done)

    try:
        spec = download.install(name, progress=progress, timeout=timeout)
    except KeyboardInterrupt:
        bar.close()
        print(
            f"inpaintstudio: download of '{name}' stopped; the part already downloaded is kept, "
            f"run 'inpaintstudio models download {name}' again to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        bar.close()
    registry.refresh()
    print(f"downloaded '{name}' to {spec.path} ({_megabytes(spec.size)}, sha256 verified)")
    return 0


def run(args: argparse.Namespace) -> int:
    action = args.action or "list"
    if action == "list":
        return list_models(args.json)
    if action == "verify":
        return verify_models(args.name)
    if action == "download":
        return download_model(args.name, args.timeout)
    from inpaintstudio.engine import checkpoint_import

    if action == "import":
        if args.family not in registry.names() or not registry.get(args.family).learned:
            raise InputError(f"'{args.family}' is not a learned model family; use one of the learned models")
        spec = checkpoint_import.import_checkpoint(args.file, args.family, args.name)
        registry.refresh()
        print(
            f"imported {args.file.name} as '{spec.model}' ({spec.parameters:,} parameters, sha256 {spec.sha256[:12]}...)"
        )
        print(f"use it with: inpaintstudio fill IMAGE --mask MASK --model {spec.model} -o OUT")
        return 0
    if action == "remove":
        checkpoint_import.remove_imported(args.name)
        registry.refresh()
        print(f"removed '{args.name}'")
        return 0
    raise InputError(f"unknown models action '{action}'")
