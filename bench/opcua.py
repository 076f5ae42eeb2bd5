"""OPC UA subscription throughput: 1,000 monitored items changing at 10 Hz on a local
asyncua server (bench/opcua_plc.py, its own process), through opcua-in and an
exception-filter to a counting sink, run by the real engine.

``python -m bench.opcua`` prints one JSON object: values a second through the filter
against what the server offered, portless's CPU % and RSS (this process), and the
server's CPU %. Every value changes each round, so the filter passes each one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

from portless.devbroker import die_with_parent
from portless.runtime import Engine, Registry, check_flow

from .broker import free_port
from .core import BenchError, Options, Row, cpu_seconds, megabytes, print_result, run_json
from .memory import rss_kib
from .nodes import BenchSink

ITEMS, RATE = 1000, 10.0
QUEUE_SIZE = 10
"""Samples the server keeps per item between publishes: every change is delivered, so
a round the server makes late (it catches up) is not folded into the next."""
TARGET_SHARE = 0.95
"""Of the values the server offered, the share that must reach the filter's far side."""


def flow_document(port: int, items: int, rate: float) -> dict[str, Any]:
    interval = 1000 / rate
    return {"version": 1, "nodes": [
        {"id": "plc", "type": "opcua-connection",
         "config": {"endpoint": f"opc.tcp://127.0.0.1:{port}/"}},
        {"id": "in", "type": "opcua-in",
         "config": {"connection": "plc", "publishing_interval": interval,
                    "queue_size": QUEUE_SIZE,
                    "items": [{"node_id": f"ns=2;s=Bulk.{i}"} for i in range(items)]},
         "wires": [["filter"]]},
        {"id": "filter", "type": "exception-filter", "config": {}, "wires": [["sink"]]},
        {"id": "sink", "type": BenchSink.type, "config": {"expected": 3 * items}},
    ]}


async def ticks(port: int) -> int:
    """Rounds of changes the server has made so far (read by a client of its own)."""
    from asyncua.client.client import Client

    async with Client(f"opc.tcp://127.0.0.1:{port}/") as client:
        return int(await client.get_node("ns=2;s=Ticks").read_value())


@contextlib.contextmanager
def plc(items: int, rate: float) -> Iterator[tuple[int, int]]:
    """The server process, listening: (its port, its pid); killed on leaving."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.opcua_plc", str(port),
                                str(items), str(rate)], stdout=subprocess.PIPE, text=True,
                               preexec_fn=die_with_parent)
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "listening":
            raise BenchError("the OPC UA server did not start")
        yield port, process.pid
    finally:
        process.kill()
        process.wait()
        if process.stdout:
            process.stdout.close()


async def measure(port: int, plc_pid: int, items: int, rate: float, seconds: float
                  ) -> dict[str, Any]:
    registry = Registry.discover()
    registry.add(BenchSink, "bench")
    flow = check_flow(flow_document(port, items, rate), registry, "<bench opcua>")
    with tempfile.TemporaryDirectory(prefix="portless-bench-") as state_dir:
        engine = Engine(registry, state_dir=state_dir)
        await engine.start(flow)
        try:
            sink = engine.nodes["sink"]
            assert isinstance(sink, BenchSink)
            async with asyncio.timeout(30):  # warm-up: every item subscribed, flowing
                await sink.finished.wait()
            start_ticks, start_received = await ticks(port), sink.received
            start_cpu, start_plc = time.process_time(), cpu_seconds(plc_pid)
            began = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - start_cpu
            plc_cpu = cpu_seconds(plc_pid) - start_plc
            offered = (await ticks(port) - start_ticks) * items
            received = sink.received - start_received
            rss = rss_kib(os.getpid())
        finally:
            await engine.stop()
    return {"offered": offered / elapsed, "received": received / elapsed,
            "cpu": 100 * cpu / elapsed, "plc_cpu": 100 * plc_cpu / elapsed, "rss_kib": rss}


def benchmark(options: Options) -> list[Row]:
    seconds = 3.0 if options.quick else 10.0
    what = f"OPC UA: {ITEMS:,} monitored items at {RATE:g} Hz through opcua-in and the filter"
    try:
        result = run_json("bench.opcua", ["--seconds", str(seconds)], timeout=120 + seconds)
    except BenchError as exc:
        return [Row(what, f"error: {exc}", passed=False)]
    offered, received = result["offered"], result["received"]
    return [
        Row(what, f"{received:,.0f} values/s of {offered:,.0f} offered",
            f">= {TARGET_SHARE:.0%} of offered", received >= TARGET_SHARE * offered),
        Row("OPC UA: portless CPU, RSS", f"{result['cpu']:.0f}% of one core, "
            f"{megabytes(result['rss_kib'])} (server: {result['plc_cpu']:.0f}%)"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.opcua")
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    def run() -> dict[str, Any]:
        with plc(args.items, args.rate) as (port, pid):
            return asyncio.run(measure(port, pid, args.items, args.rate, args.seconds))

    return print_result("bench.opcua", run)


if __name__ == "__main__":
    sys.exit(main())
