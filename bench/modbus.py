"""Modbus polling against pymodbus's own server on 127.0.0.1 (tests/modbus_server.py,
in its own process): a poll group of 100 holding registers every 100 ms (requests per
poll after merging, p99 latency of a poll's read, CPU of the portless process), and
the same group polled every 10 ms (points read a second). Each scenario runs in its
own interpreter (``python -m bench.modbus SCENARIO``, printing one JSON object)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from portless.nodes.modbus.modbus_in import ModbusIn
from portless.runtime import Engine, Registry, check_flow

from .core import ROOT, BenchError, Options, Row, print_result, run_json
from .nodes import BenchSink

POINTS = 100
SCENARIOS = {"100ms": 0.1, "10ms": 0.01}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[str]:
    """The PLC: pymodbus's server, as the tests run it; returns once it listens."""
    process = subprocess.Popen([sys.executable, "-m", "tests.modbus_server", "--port",
                                str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "ready":
            return process
    raise BenchError(f"the Modbus server exited ({process.wait()})")


def flow_document(port: int, interval: float) -> dict[str, Any]:
    return {"version": 1, "name": "bench modbus", "nodes": [
        {"id": "plc", "type": "modbus-connection",
         "config": {"host": "127.0.0.1", "port": port, "timeout": 1}},
        {"id": "source", "type": "modbus-in",
         "config": {"connection": "plc", "interval": interval, "points": [
             {"name": f"r{n}", "address": n} for n in range(POINTS)]},
         "wires": [["sink"]]},
        {"id": "sink", "type": BenchSink.type, "config": {}},
    ]}


async def measure(interval: float, seconds: float) -> dict[str, Any]:
    """Poll for ``seconds``; the figures."""
    port = free_port()
    server = start_server(port)
    try:
        registry = Registry.discover()
        registry.add(BenchSink, "bench")
        flow = check_flow(flow_document(port, interval), registry, "<bench modbus>")
        with tempfile.TemporaryDirectory(prefix="portless-bench-") as state_dir:
            engine = Engine(registry, state_dir=state_dir)
            await engine.start(flow)
            try:
                figures = await _poll(engine, seconds)
            finally:
                await engine.stop()
    finally:
        server.kill()
        server.wait(10)
    return figures


async def _poll(engine: Engine, seconds: float) -> dict[str, Any]:
    source, sink = engine.nodes["source"], engine.nodes["sink"]
    if not isinstance(source, ModbusIn) or not isinstance(sink, BenchSink):
        raise BenchError("the poll group or the sink failed to start")
    latencies: list[float] = []
    first = asyncio.Event()
    connection: Any = engine.nodes["plc"]
    connection.read = _timed(connection.read, latencies, first)
    async with asyncio.timeout(10):
        await first.wait()  # connected, and read once
    latencies.clear()
    received, cpu, wall = sink.received, time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    points, per_poll = sink.received - received, source.requests_per_poll
    if not latencies:
        raise BenchError("no read answered")
    latencies.sort()
    return {"points_per_second": points / wall, "polls": len(latencies) / max(per_poll, 1),
            "requests_per_poll": per_poll, "cpu_percent": 100 * cpu / wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}


def _timed(read: Callable[..., Coroutine[Any, Any, Any]], into: list[float],
           answered: asyncio.Event) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``read``, keeping how long each call took."""
    async def timed(*args: Any) -> Any:
        started = time.perf_counter()
        result = await read(*args)
        into.append(time.perf_counter() - started)
        answered.set()
        return result
    return timed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.modbus",
                                     description="Run one Modbus polling scenario.")
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    return print_result("bench.modbus", lambda: asyncio.run(
        measure(SCENARIOS[args.scenario], args.seconds)))


def benchmark(options: Options) -> list[Row]:
    seconds = 2.0 if options.quick else 10.0
    rows = []
    for scenario, interval in SCENARIOS.items():
        what = f"Modbus TCP poll group, {POINTS} holding registers every " \
               f"{interval * 1000:g} ms ({seconds:g} s)"
        try:
            result = run_json("bench.modbus", [scenario, "--seconds", str(seconds)],
                              timeout=60 + seconds)
        except BenchError as exc:
            rows.append(Row(what, f"error: {exc}", passed=False))
            continue
        per_poll = result["requests_per_poll"]
        rows.append(Row(what, f"{per_poll} request per poll; read p50 "
                              f"{result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms; "
                              f"{result['points_per_second']:,.0f} points/s; CPU "
                              f"{result['cpu_percent']:.0f} %",
                        "1 request per poll", per_poll == 1))
    return rows


if __name__ == "__main__":
    sys.exit(main())
