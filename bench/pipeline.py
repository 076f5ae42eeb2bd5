"""In-process pipeline throughput: source -> exception-filter -> scale -> sink.

The flow is built from a flow document checked by ``check_flow`` with the real
registry (built-ins and installed plugins) and run by the real Engine. Each scenario
runs in its own interpreter (``python -m bench.pipeline``, which prints one JSON
object), so peak RSS is that scenario's own and no scenario warms up another.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

from portless.runtime import Registry

from .core import BenchError, Options, Row, megabytes, run_json, run_profiled
from .memory import own_peak_rss_kib
from .nodes import BenchSink, BenchSource, running

TARGET_RATE = 200_000
"""Messages a second through source -> filter -> scale -> sink (DESIGN.md, hot path)."""
FACTOR = 2.0
OFFSET = 1.0
SCENARIOS = (("all pass", 1), ("90% dropped", 10))
"""(name, repeat): with repeat r the payload changes every r messages."""


def flow_document(messages: int, repeat: int) -> dict[str, Any]:
    """The benchmark flow; the sink expects one message per distinct payload."""
    return {"version": 1, "name": "bench pipeline", "nodes": [
        {"id": "source", "type": BenchSource.type,
         "config": {"count": messages, "repeat": repeat}, "wires": [["filter"]]},
        {"id": "filter", "type": "exception-filter",
         "config": {"mode": "changed"}, "wires": [["scale"]]},
        {"id": "scale", "type": "scale",
         "config": {"factor": FACTOR, "offset": OFFSET}, "wires": [["sink"]]},
        {"id": "sink", "type": BenchSink.type,
         "config": {"expected": math.ceil(messages / repeat)}},
    ]}


def bench_registry() -> Registry:
    registry = Registry.discover()
    for line in registry.load_errors:
        print(f"bench: {line}", file=sys.stderr)
    if "scale" not in registry:
        raise BenchError("node type 'scale' is not installed; "
                         "pip install -e examples/portless-example-scale")
    registry.add(BenchSource, "bench")
    registry.add(BenchSink, "bench")
    return registry


async def measure(messages: int, repeat: int) -> dict[str, Any]:
    """Run one scenario in this process and return its figures."""
    registry = bench_registry()
    document = flow_document(messages, repeat)
    async with running(registry, document, "<bench pipeline>") as (engine, source, sink):
        peak_before = own_peak_rss_kib()
        source.begin()
        await source.finished.wait()
        await engine.wait_idle()
        errors = {node.id: node.error_count for node in engine.nodes.values()
                  if node.error_count}
    expected = math.ceil(messages / repeat)
    if errors or sink.received != expected:
        why = ("exception-filter passed repeated values" if sink.received > expected
               else "messages were lost")
        raise BenchError(f"sink got {sink.received} messages, expected {expected} "
                         f"({why}); node errors: {errors or 'none'}")
    want = ((messages - 1) // repeat) * FACTOR + OFFSET
    if sink.last is None or sink.last["payload"] != want:
        got = sink.last["payload"] if sink.last else None
        raise BenchError(f"last payload {got!r}, expected {want!r}: scale did not run")
    elapsed = sink.last_received - source.first_sent
    return {"messages": messages, "delivered": sink.received, "seconds": elapsed,
            "rate": messages / elapsed, "peak_rss_before_kib": peak_before,
            "peak_rss_kib": own_peak_rss_kib()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pipeline",
        description="Run one pipeline scenario; print its figures as JSON.")
    parser.add_argument("--messages", type=int, default=Options.messages)
    parser.add_argument("--repeat", type=int, default=1,
                        help="emit each value this many times (the filter drops the rest)")
    parser.add_argument("--profile", type=int, default=0, metavar="LINES",
                        help="run under cProfile; print the top LINES functions to stderr")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.repeat < 1:
        parser.error("--messages and --repeat must be at least 1")
    try:
        result = run_profiled(lambda: asyncio.run(measure(args.messages, args.repeat)),
                              args.profile)
    except BenchError as exc:
        print(f"bench.pipeline: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def benchmark(options: Options) -> list[Row]:
    """Each scenario in a fresh interpreter: throughput and peak RSS."""
    rows = []
    for name, repeat in SCENARIOS:
        measurement = f"pipeline throughput, {name} ({options.messages:,} msgs)"
        target = f">= {TARGET_RATE:,} msgs/s"
        started = time.perf_counter()
        try:
            result = run_json("bench.pipeline",
                              ["--messages", str(options.messages), "--repeat", str(repeat)],
                              timeout=120 + options.messages / 10_000)
        except BenchError as exc:  # one failed scenario still lets the others report
            rows.append(Row(measurement, f"error: {exc}", target, False))
            continue
        print(f"bench: pipeline {name}: {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        rate = float(result["rate"])
        rows.append(Row(measurement, f"{rate:,.0f} msgs/s", target, rate >= TARGET_RATE))
        rows.append(Row(
            f"pipeline peak RSS, {name}",
            f"{megabytes(result['peak_rss_kib'])} "
            f"({megabytes(result['peak_rss_before_kib'])} before the first message)"))
    return rows


if __name__ == "__main__":
    sys.exit(main())
