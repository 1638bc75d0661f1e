"""``inpaintstudio models``: list models and their weights; import or remove checkpoints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inpaintstudio.engine import registry
from inpaintstudio.errors import InputError


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
    parser.set_defaults(json=False)


def _row(cls: type) -> dict[str, object]:
    status = cls.status()
    caps = cls.capabilities()  # a variant's capabilities can depend on its weights (5-channel DeepFill)
    spec = getattr(cls, "weights_spec", lambda: None)() if cls.learned and status.state != "damaged" else None
    return {
        "name": cls.name,
        "kind": "learned" if cls.learned else "classical",
        "sketch": caps["sketch"],
        "outpaint": caps["outpaint"],
        "native_size": cls.native_size,
        "ready": status.ready,
        "weights": status.state,
        "message": status.message,
        "licence": spec.licence if spec else "",
        "origin": spec.origin if spec else "",
    }


def list_models(as_json: bool) -> int:
    rows = [_row(cls) for cls in registry.all_inpainters()]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    yes = {True: "yes", False: "-"}
    header = f"{'MODEL':<22} {'KIND':<10} {'SKETCH':<7} {'OUTPAINT':<9} {'SIZE':<6} WEIGHTS"
    print(header)
    for row in rows:
        size = row["native_size"] or "any"
        print(
            f"{row['name']:<22} {row['kind']:<10} {yes[row['sketch']]:<7} {yes[row['outpaint']]:<9} "
            f"{size!s:<6} {row['weights']}"
        )
    problems = [row for row in rows if not row["ready"] and row["message"]]
    if problems:
        print()
        for row in problems:
            print(f"{row['name']}: {row['message']}")
    return 0


def run(args: argparse.Namespace) -> int:
    action = args.action or "list"
    if action == "list":
        return list_models(args.json)
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
