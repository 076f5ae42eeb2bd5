"""The Node-RED-equivalent pipeline with portless's own core nodes, beside Node-RED 4:

    inject -> change -> switch -> range -> exception-filter -> count

The inject node's button is pressed once per message (its ``inject()``, what the
editor's button and its timers call), so every message is built by the inject node:
the time in milliseconds as payload. change sets the topic, switch routes on
``payload > 0``, range turns milliseconds into seconds, and the filter, in narrowband
mode with a band of 10 s, passes every value (a timestamp moves by far less between
two messages), so the count sees them all and the figure does not depend on how fast
the messages come. Node-RED runs the same flow with its own nodes (bench.core_pipeline_
nodered) in the same run. Each portless run is its own interpreter (``python -m
bench.core_pipeline`` prints one JSON object).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from portless.runtime import Registry

from . import core_pipeline_nodered
from .core import BenchError, Options, Row, print_result, run_json, run_profiled
from .nodes import BenchSink, TriggeredSource, running

TARGET_RATE = 150_000
"""Messages a second through the core pipeline (issue 10, on a 2-core machine)."""
BAND_S = 10
YIELD_EVERY = 1000
RUNS = 3
"""Runs of each side; the best counts (the machine is shared)."""
NODE_RED_MESSAGES = 100_000


class InjectButton(TriggeredSource):
    """Presses the inject node's button ``count`` times, yielding to the event loop
    every YIELD_EVERY presses; ``press`` is the inject node's ``inject``."""

    type = "bench-inject-button"
    outputs = 0
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "count": {"type": "integer", "minimum": 1, "default": 1000}}}
    press: Callable[[], None]

    async def _emit(self) -> None:
        count: int = self.config["count"]
        press = self.press
        self.first_sent = time.perf_counter()
        for start in range(0, count, YIELD_EVERY):
            for _ in range(start, min(start + YIELD_EVERY, count)):
                press()
            await asyncio.sleep(0)


def flow_document(messages: int) -> dict[str, Any]:
    """The portless flow; node "source" presses the button of node "inject"."""
    return {"version": 1, "name": "bench core pipeline", "nodes": [
        {"id": "source", "type": InjectButton.type, "config": {"count": messages}},
        {"id": "inject", "type": "inject", "wires": [["change"]], "config": {
            "properties": [
                {"property": "payload", "value": {"kind": "timestamp",
                                                  "value": "milliseconds"}},
                {"property": "topic", "value": {"kind": "string", "value": ""}}]}},
        {"id": "change", "type": "change", "wires": [["switch"]], "config": {"rules": [
            {"action": "set", "property": {"kind": "msg", "value": "topic"},
             "value": {"kind": "string", "value": "line/1/temperature"}}]}},
        {"id": "switch", "type": "switch", "wires": [["range"]], "config": {
            "property": {"kind": "msg", "value": "payload"},
            "rules": [{"operator": ">", "value": {"kind": "number", "value": 0}}]}},
        {"id": "range", "type": "range", "wires": [["filter"]], "config": {
            "from_min": 0, "from_max": 1000, "to_min": 0, "to_max": 1}},
        {"id": "filter", "type": "exception-filter", "wires": [["sink"]], "config": {
            "mode": "narrowband", "band": BAND_S}},
        {"id": "sink", "type": BenchSink.type, "config": {"expected": messages}},
    ]}


async def measure(messages: int) -> dict[str, Any]:
    """One run in this process: messages a second, first press to the last counted."""
    registry = Registry.discover()
    registry.add(InjectButton, "bench")
    registry.add(BenchSink, "bench")
    document = flow_document(messages)
    async with running(registry, document, "<bench core pipeline>") as (engine, source,
                                                                        sink):
        assert isinstance(source, InjectButton)
        source.press = engine.nodes["inject"].inject  # type: ignore[attr-defined]
        cpu = time.process_time()
        source.begin()
        await source.finished.wait()
        await engine.wait_idle()
        cpu = time.process_time() - cpu
        errors = {node.id: node.error_count for node in engine.nodes.values()
                  if node.error_count}
    if errors or sink.received != messages:
        raise BenchError(f"count got {sink.received} of {messages} messages; node errors: "
                         f"{errors or 'none'}")
    last = sink.last or {}
    if last.get("topic") != "line/1/temperature" or not 1e9 < last.get("payload", 0) < 1e11:
        raise BenchError(f"the last message is not what change and range make: {last!r}")
    elapsed = sink.last_received - source.first_sent
    return {"messages": messages, "seconds": elapsed, "rate": messages / elapsed,
            "cpu_us": cpu / messages * 1e6}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.core_pipeline",
        description="Run the core pipeline once; print its figures as JSON.")
    parser.add_argument("--messages", type=int, default=Options.messages)
    parser.add_argument("--profile", type=int, default=0, metavar="LINES",
                        help="run under cProfile; print the top LINES functions to stderr")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    return print_result("bench.core_pipeline", lambda: run_profiled(
        lambda: asyncio.run(measure(args.messages)), args.profile))


def benchmark(options: Options) -> list[Row]:
    """The best of RUNS fresh interpreters, then Node-RED's best of RUNS on the same
    work (at most NODE_RED_MESSAGES messages: it takes ten times as long)."""
    messages = options.messages
    measurement = (f"core pipeline: inject -> change -> switch -> range -> "
                   f"exception-filter -> count ({messages:,} msgs, best of {RUNS})")
    target = f">= {TARGET_RATE:,} msgs/s"
    results = []
    for _ in range(RUNS):
        try:
            results.append(run_json("bench.core_pipeline", ["--messages", str(messages)],
                                    timeout=120 + messages / 10_000))
        except BenchError as exc:
            return [Row(measurement, f"error: {exc}", target, False)]
    rate = max(float(result["rate"]) for result in results)
    cpu_us = min(float(result["cpu_us"]) for result in results)
    text = (f"{rate:,.0f} msgs/s (runs {_runs(float(r['rate']) for r in results)}), "
            f"{cpu_us:.1f} us CPU a message")
    red_messages = min(messages, NODE_RED_MESSAGES)
    attempts = [asyncio.run(core_pipeline_nodered.measure(red_messages, BAND_S))
                for _ in range(RUNS)]
    red_runs = [run for run, _ in attempts if run is not None]
    red_row = Row(f"Node-RED 4, the same: inject -> change -> switch -> range -> rbe -> "
                  f"function counting ({red_messages:,} msgs, best of {RUNS})",
                  attempts[-1][1])
    if red_runs:
        red_rates = [red_messages / max(run.milliseconds / 1000, 0.001) for run in red_runs]
        red_cpu_us = min(run.cpu_seconds for run in red_runs) / red_messages * 1e6
        text += (f": {rate / max(red_rates):.2f} x Node-RED's rate, "
                 f"{red_cpu_us / cpu_us:.1f} x less CPU a message")
        red_row = replace(red_row, result=f"{max(red_rates):,.0f} msgs/s (runs "
                                          f"{_runs(red_rates)}), {red_cpu_us:.1f} us CPU "
                                          f"a message")
    return [Row(measurement, text, target, rate >= TARGET_RATE), red_row]


def _runs(rates: Iterable[float]) -> str:
    return "/".join(f"{rate / 1000:.0f}k" for rate in rates)


if __name__ == "__main__":
    sys.exit(main())
