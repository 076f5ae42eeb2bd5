"""``python -m bench``: run the benchmarks, print one Markdown table.

A new benchmark is a module with ``benchmark(options) -> list[Row]``, added to
BENCHMARKS below. Exit status 1 if any measurement missed its target or failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import (
    async_input,
    bounds,
    context,
    core_pipeline,
    editor,
    fleet,
    flowsize,
    function,
    link_bounds,
    modbus,
    mqtt,
    opcua,
    outbox,
    pipeline,
    startup,
)
from .core import BenchError, Benchmark, Options, Row
from .table import render

BENCHMARKS: dict[str, Benchmark] = {
    "pipeline": pipeline.benchmark,
    "core-pipeline": core_pipeline.benchmark,
    "async": async_input.benchmark,
    "startup": startup.benchmark,
    "mqtt": mqtt.benchmark,
    "outbox": outbox.benchmark,
    "editor": editor.benchmark,
    "bounds": bounds.benchmark,
    "link": link_bounds.benchmark,
    "flowsize": flowsize.benchmark,
    "context": context.benchmark,
    "function": function.benchmark,
    "modbus": modbus.benchmark,
    "opcua": opcua.benchmark,
    "fleet": fleet.benchmark,
}
QUICK = Options(messages=20_000, startup_runs=1, idle_seconds=1.0, quick=True)


def parse_options(argv: Sequence[str] | None) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run portless's benchmarks; print a table.")
    parser.add_argument("--messages", type=int, default=None, metavar="N",
                        help=f"messages per pipeline scenario (default {Options.messages:,})")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK.messages:,} messages, "
                             f"{QUICK.startup_runs} start-up run")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), default=[],
                        metavar="NAME", help=f"run only this benchmark "
                                             f"({', '.join(BENCHMARKS)}; may repeat)")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else Options()
    try:
        options = Options(messages=base.messages if args.messages is None else args.messages,
                          startup_runs=base.startup_runs,
                          idle_seconds=base.idle_seconds, quick=base.quick)
    except ValueError as exc:
        parser.error(str(exc))
    return options, args.only or list(BENCHMARKS)


def main(argv: Sequence[str] | None = None) -> int:
    options, names = parse_options(argv)
    rows: list[Row] = []
    for name in names:
        print(f"bench: running {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(BENCHMARKS[name](options))
        except BenchError as exc:
            rows.append(Row(name, f"error: {exc}", passed=False))
    if options.quick:
        print("(quick smoke run: figures are indicative only)\n")
    print(render(rows), end="")
    return 1 if any(row.passed is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
