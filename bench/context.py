"""Context: what a get and a set cost per message, and what the persistent store writes.

Memory store: a node's ``get`` and ``set`` of a counter, a million times, beside the
same on a plain dict (what "a few dict ops" means on this machine).

Persistent store: the most sets a second the event loop can make (a counter, and a
dict of about 1 KiB), and the bytes written to disk per set when a node sets a counter
at 100 and at 1,000 sets a second (one key, and 100 keys in turn), with the default
flush interval. Each rate runs in a fresh interpreter that reads its own
``/proc/self/io`` (every thread's, the writer's too) before the first set and after
the last commit: ``write_bytes`` is what the process made the kernel write to disk.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from portless.runtime import Context, Engine, Node, Registry, check_flow
from portless.runtime.context_sqlite import FLUSH_INTERVAL

from .core import Options, Row, print_result, run_json
from .outbox import io_counters

RATES = (100.0, 1000.0)
KEY_COUNTS = (1, 100)
TARGET_MEMORY_NS = 1000
"""A get and a set of the memory store together, at most this (a dict's are ~50 ns)."""
TARGET_BYTES_AT_1000 = 64
"""Bytes written per set at 1,000 sets/s of one key: commits are batched, not per set."""
VALUE_1K = {"valve": "inlet-1", "readings": [round(i * 0.37, 2) for i in range(150)]}


class Holder(Node):
    """A node that only holds contexts for the benchmark."""

    type = "bench-context-holder"
    inputs = 0
    outputs = 0


async def started(state_dir: Path, store: str) -> tuple[Engine, Context]:
    registry = Registry([Holder])
    flow = check_flow({"version": 1, "context": {"store": store},
                       "nodes": [{"id": "holder", "type": Holder.type}]},
                      registry, "bench-context.json")
    engine = Engine(registry, state_dir=state_dir)
    await engine.start(flow)
    return engine, engine.nodes["holder"].node_context


def per_call_ns(call: Callable[[], Any], count: int) -> float:
    started_at = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started_at) / count * 1e9


async def memory_costs(workdir: Path, count: int) -> dict[str, Any]:
    engine, context = await started(workdir, "memory")
    plain: dict[str, Any] = {}

    def with_context() -> None:
        context.set("count", context.get("count", 0) + 1)

    def with_dict() -> None:
        plain["count"] = plain.get("count", 0) + 1

    context.set("totals", {"valves": [0, 0, 0]})
    try:
        return {"context_ns": per_call_ns(with_context, count),
                "dict_ns": per_call_ns(with_dict, count),
                "path_get_ns": per_call_ns(lambda: context.get("totals.valves[2]"), count)}
    finally:
        await engine.stop()


async def persistent_throughput(workdir: Path, count: int, value: Any) -> dict[str, Any]:
    engine, context = await started(workdir, "persistent")
    try:
        started_at = time.perf_counter()
        for index in range(count):
            context.set(f"key-{index % 100}", value if value is not None else index)
        elapsed = time.perf_counter() - started_at
        await engine.contexts.flush()
        return {"sets_per_second": count / elapsed}
    finally:
        await engine.stop()


async def persistent_writes(workdir: Path, rate: float, seconds: float, keys: int
                            ) -> dict[str, Any]:
    engine, context = await started(workdir, "persistent")
    try:
        loop = asyncio.get_running_loop()
        count, tick = round(rate * seconds), 0.01
        per_tick = max(1, round(rate * tick))
        before = io_counters()
        began = loop.time()
        for first in range(0, count, per_tick):
            for index in range(first, min(first + per_tick, count)):
                context.set(f"key-{index % keys}", index)
            await asyncio.sleep(max(0.0, began + (first + per_tick) / rate - loop.time()))
        await engine.contexts.flush()
        after = io_counters()
        return {"sets": count, "write_bytes": after["write_bytes"] - before["write_bytes"],
                "wchar": after["wchar"] - before["wchar"]}
    finally:
        await engine.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.context",
        description="One context measurement; print JSON.")
    parser.add_argument("what", choices=["memory", "throughput", "writes"])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--value-1k", action="store_true",
                        help="throughput: set a dict of about 1 KiB, not a counter")
    parser.add_argument("--rate", type=float, default=1000.0, help="writes: sets a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="writes: how long")
    parser.add_argument("--keys", type=int, default=1, help="writes: keys set in turn")
    args = parser.parse_args(argv)

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="portless-bench-context-") as workdir:
            path = Path(workdir)
            if args.what == "memory":
                return asyncio.run(memory_costs(path, args.count))
            if args.what == "throughput":
                return asyncio.run(persistent_throughput(
                    path, args.count, VALUE_1K if args.value_1k else None))
            return asyncio.run(persistent_writes(path, args.rate, args.seconds, args.keys))
    return print_result("bench.context", run)


def benchmark(options: Options) -> list[Row]:
    quick = options.quick
    rows = [memory_row(200_000 if quick else 1_000_000)]
    for value_1k in (False, True):
        rows.append(throughput_row(20_000 if quick else 100_000, value_1k))
    for keys in KEY_COUNTS:
        for rate in RATES:
            rows.append(writes_row(rate, 3.0 if quick else 10.0, keys))
    return rows


def memory_row(count: int) -> Row:
    measurement = "context (memory): get + set of a counter, per message"
    target = f"<= {TARGET_MEMORY_NS:,} ns"
    result = run_json("bench.context", ["memory", "--count", str(count)], timeout=120)
    return Row(measurement, f"{result['context_ns']:,.0f} ns (a plain dict: "
                            f"{result['dict_ns']:,.0f} ns); get of a path "
                            f"totals.valves[2]: {result['path_get_ns']:,.0f} ns",
               target, result["context_ns"] <= TARGET_MEMORY_NS)


def throughput_row(count: int, value_1k: bool) -> Row:
    what = "a dict of about 1 KiB" if value_1k else "a counter"
    result = run_json("bench.context", ["throughput", "--count", str(count),
                                        *(["--value-1k"] if value_1k else [])], timeout=300)
    return Row(f"context (persistent): sets/s of {what} (100 keys in turn)",
               f"{result['sets_per_second']:,.0f} sets/s")


def writes_row(rate: float, seconds: float, keys: int) -> Row:
    measurement = (f"context (persistent): bytes written per set, {rate:,.0f} sets/s of a "
                   f"counter for {seconds:.0f} s, {keys} key{'s' if keys > 1 else ''}, "
                   f"flush {FLUSH_INTERVAL:g} s")
    target = f"<= {TARGET_BYTES_AT_1000} B" if rate == RATES[-1] and keys == 1 else "-"
    result = run_json("bench.context", ["writes", "--rate", str(rate), "--seconds",
                                        str(seconds), "--keys", str(keys)],
                      timeout=60 + seconds)
    per_set = result["write_bytes"] / result["sets"]
    return Row(measurement, f"{per_set:,.1f} B to disk ({per_set * rate / 1024:,.1f} KiB/s); "
                            f"{result['wchar'] / result['sets']:,.1f} B through write()",
               target, per_set <= TARGET_BYTES_AT_1000 if target != "-" else None)


if __name__ == "__main__":
    sys.exit(main())
