"""Async input throughput: messages a second through nodes with ``async def on_input``.

    source -> async node(s) -> sink

The async node awaits nothing, or ``asyncio.sleep(0.001)`` (one message at a time per
node, so about 1,000/s at best; ``PARALLEL`` such nodes side by side show that the
nodes wait in parallel). The source holds off while the async node's queue is full
(``downstream_ready``), as a source should, so nothing is dropped and the figure is the
node's own pace. Each scenario runs in its own interpreter (``python -m
bench.async_input``, printing one JSON object); Node-RED does the same work beside it
(bench.async_nodered).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import Any

from portless.runtime import Message, Node, Registry, make_message

from . import async_nodered
from .core import BenchError, Options, Row, print_result, run_json
from .nodes import BenchSink, TriggeredSource, running

PARALLEL = 10
QUEUE_SIZE = 1000
CHECK_EVERY = 100
"""The source looks at the queue every this many messages: well under the queue's
hard bound (twice its size), so nothing is dropped, and the look costs next to nothing."""
SCENARIOS: dict[str, tuple[float, int, str]] = {
    # name: (seconds awaited per message, parallel nodes, what the row says)
    "nothing": (0.0, 1, "async node awaiting nothing"),
    "sleep": (0.001, 1, "async node awaiting asyncio.sleep(0.001)"),
    "parallel": (0.001, PARALLEL, f"{PARALLEL} async nodes side by side, each awaiting "
                                  "asyncio.sleep(0.001)"),
}


class PacedSource(TriggeredSource):
    """Emits ``count`` messages, waiting whenever what it feeds is saturated."""

    type = "bench-paced-source"
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "count": {"type": "integer", "minimum": 1, "default": 1000}}}

    async def _emit(self) -> None:
        count: int = self.config["count"]
        send, make = self.send, make_message
        self.first_sent = time.perf_counter()
        for start in range(0, count, CHECK_EVERY):
            await self.downstream_ready()
            for i in range(start, min(start + CHECK_EVERY, count)):
                send(make(i, "bench"))
            await asyncio.sleep(0)


class AsyncPass(Node):
    """Passes each message on, after awaiting ``sleep`` seconds (0: awaits nothing)."""

    type = "bench-async-pass"
    input_queue_size = QUEUE_SIZE
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "sleep": {"type": "number", "minimum": 0, "default": 0}}}

    async def start(self) -> None:
        self._sleep: float = self.config["sleep"]

    async def on_input(self, msg: Message) -> None:
        if self._sleep:
            await asyncio.sleep(self._sleep)
        self.send(msg)


def flow_document(messages: int, sleep: float, parallel: int) -> dict[str, Any]:
    passes = [f"pass-{n}" for n in range(parallel)]
    return {"version": 1, "name": "bench async input", "nodes": [
        {"id": "source", "type": PacedSource.type, "config": {"count": messages},
         "wires": [passes]},
        *({"id": name, "type": AsyncPass.type, "config": {"sleep": sleep},
           "wires": [["sink"]]} for name in passes),
        {"id": "sink", "type": BenchSink.type, "config": {"expected": messages * parallel}},
    ]}


async def measure(scenario: str, messages: int) -> dict[str, Any]:
    """Run one scenario in this process and return its figures."""
    sleep, parallel, _ = SCENARIOS[scenario]
    registry = Registry([PacedSource, AsyncPass, BenchSink], "bench")
    document = flow_document(messages, sleep, parallel)
    async with running(registry, document, "<bench async>") as (engine, source, sink):
        source.begin()
        try:
            await asyncio.wait_for(sink.finished.wait(), 60 + messages * sleep * 2)
        except TimeoutError:
            raise BenchError(f"sink got {sink.received} of {messages * parallel}") from None
        dropped = sum(node.input_queue.dropped for node in engine.nodes.values()
                      if node.input_queue is not None)
        errors = sum(node.error_count for node in engine.nodes.values())
    if dropped or errors:
        raise BenchError(f"{dropped} message(s) dropped, {errors} error(s)")
    elapsed = sink.last_received - source.first_sent
    total = messages * parallel
    return {"messages": total, "seconds": elapsed, "rate": total / elapsed,
            "per_node": messages / elapsed}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.async_input",
        description="Run one async input scenario; print its figures as JSON.")
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--messages", type=int, default=1000, help="messages per node")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    return print_result("bench.async_input",
                        lambda: asyncio.run(measure(args.scenario, args.messages)))


def messages_for(scenario: str, options: Options) -> int:
    """Enough messages for a second or two of each scenario."""
    if scenario == "nothing":
        return max(options.messages // 5, 1000)
    return 300 if options.quick else 2000


def benchmark(options: Options) -> list[Row]:
    """Each scenario in a fresh interpreter, then Node-RED on the same work."""
    rows = []
    for scenario, (sleep, parallel, what) in SCENARIOS.items():
        messages = messages_for(scenario, options)
        measurement = f"{what} ({messages * parallel:,} msgs)"
        try:
            result = run_json("bench.async_input", [scenario, "--messages", str(messages)],
                              timeout=120 + messages / 100)
        except BenchError as exc:
            rows.append(Row(measurement, f"error: {exc}", passed=False))
            continue
        rate = float(result["rate"])
        text = f"{rate:,.0f} msgs/s"
        if parallel > 1:
            text += f" ({result['per_node']:,.0f}/s per node)"
        red_rate, why = asyncio.run(async_nodered.measure(messages, sleep > 0, parallel))
        rows.append(Row(measurement, text + (
            f"; {rate / red_rate:.2f} x Node-RED's rate" if red_rate else "")))
        rows.append(Row(f"Node-RED 4 function node, the same ({messages * parallel:,} msgs)",
                        f"{red_rate:,.0f} msgs/s" if red_rate else why))
    return rows


if __name__ == "__main__":
    sys.exit(main())
