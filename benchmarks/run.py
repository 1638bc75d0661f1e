"""Run the benchmarks: ``python -m benchmarks [--device cpu|cuda] [--only q1,q2,...] [--repeats N]``.

Prints one Markdown table per question and writes them, with the machine they were taken on, to
``benchmarks/RESULTS.md`` (``--out`` to write elsewhere). Every figure is a median of several runs after
a warm-up; comparisons are ratios taken in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from pathlib import Path

# question -> module with run(device, repeats) -> list[Table]
QUESTIONS = {
    "q0": "benchmarks.profile",
    "q1": "benchmarks.latency",
    "q2": "benchmarks.scaling",
    "q3": "benchmarks.brush",
    "q4": "benchmarks.responsiveness",
    "q5": "benchmarks.startup",
    "q6": "benchmarks.history",
    "q7": "benchmarks.cluster",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--only", help="comma-separated questions, e.g. q1,q3 (default: all)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from benchmarks.common import machine

    chosen = [q.strip() for q in args.only.split(",")] if args.only else list(QUESTIONS)
    sections = [f"## {args.device.upper()}: {machine()}", "", f"Taken {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    print(sections[0] + "\n")
    for question in chosen:
        try:
            module = importlib.import_module(QUESTIONS[question])
        except ModuleNotFoundError as exc:
            print(f"{question}: not available ({exc})\n")
            continue
        for table in module.run(device=args.device, repeats=args.repeats):
            text = table.markdown()
            print(text)
            sections.append(text)
    header = "# Benchmark results\n\nProduced by `python -m benchmarks` (see README). Newest first.\n\n"
    previous = args.out.read_text(encoding="utf-8").removeprefix(header) if args.out.exists() else ""
    args.out.write_text(header + "\n".join(sections) + "\n" + previous, encoding="utf-8")
    print(f"written to {args.out}")
    return 0
