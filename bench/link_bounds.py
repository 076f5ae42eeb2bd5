"""Bounds of one MQTT connection: what a stalled broker and big messages cost in memory.

Each scenario runs in a fresh interpreter (``python -m bench.link_bounds NAME``) with a
private mosquitto (bench.broker) and a flow of mqtt-broker with mqtt-out or mqtt-in:

- stalled: the broker is SIGSTOPped and 2,000 QoS 0 messages of 256 KiB (500 MiB) are
  published into it: RSS growth (the send buffer is 4 MiB by default; the kernel's
  socket buffers take a few MB more), how many were dropped and counted, and how long
  until the keepalive (2 s here) ended the link;
- big: one 100 MB JSON message over MQTT 3.1.1, above the 1 MiB maximum packet size:
  RSS growth at its peak and after, and the longest the event loop stalled;
- burst: 20 JSON messages just below 1 MiB, parsed by mqtt-in: the same, "after" being
  a second and a half after the last.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portless.runtime import Event
from portless.testing import FlowHarness

from .broker import MOSQUITTO_PUB, Broker
from .core import BenchError, Options, Row, megabytes, run_json
from .memory import status_kib

STALL_MESSAGES = 2000
STALL_SIZE = 256 << 10
STALL_KEEPALIVE = 2
STALL_GROWTH_MB = 32
"""Target: what a stalled broker may cost (the 4 MiB send buffer, the kernel's socket
buffers, the allocator's slack), against 546 MB before the bound."""
BURST = 20
RETURNED_MB = 4
"""Target: RSS above the starting point once big messages have been handled."""


def signed_mb(kib: float) -> str:
    return f"{kib / 1024:+.1f} MB"


async def longest_stall(stop: asyncio.Event) -> float:
    """The longest the event loop went without running a 10 ms timer, until ``stop``."""
    longest, last = 0.0, time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        longest, last = max(longest, now - last - 0.01), now
    return longest


def rss_kib() -> int:
    return status_kib("self", "VmRSS")


def reset_peak() -> None:
    """Start VmHWM afresh from the current RSS (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_kib() -> int:
    return status_kib("self", "VmHWM")


def broker_flow(port: int, protocol: str, node: dict[str, Any], **broker: Any
                ) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, "protocol": protocol, **broker}},
        {**node, "config": {"broker": "broker", **node["config"]}}]}


def is_status(text: str) -> Any:
    return lambda e: e.node_id == "broker" and e.kind == "status" and \
        e.data.get("text", "").startswith(text)


async def stalled(workdir: Path) -> dict[str, Any]:
    with Broker(workdir / "broker") as broker:
        assert broker.process is not None
        document = broker_flow(broker.port, "5", {"id": "out", "type": "mqtt-out", "config": {
            "topic": "bench/big", "qos": 0, "format": "raw"}}, keepalive=STALL_KEEPALIVE)
        async with FlowHarness(document, state_dir=workdir / "state") as h:
            await h.wait_event(is_status("connected"), timeout=10)
            node = h.engine.nodes["broker"]
            payload = b"x" * STALL_SIZE
            gc.collect()
            before = rss_kib()
            reset_peak()
            os.kill(broker.process.pid, signal.SIGSTOP)
            try:
                stopped_at = time.monotonic()
                for _ in range(STALL_MESSAGES):
                    h.inject("out", {"payload": payload})
                    await asyncio.sleep(0)  # one turn: the batch goes to the transport
                await h.wait_event(is_status("disconnected"), since=0,
                                   timeout=3 * STALL_KEEPALIVE + 5)
                ended = next(e for e in h.events if is_status("disconnected")(e))
                ended_after = time.monotonic() - stopped_at
                peak = peak_kib()
            finally:
                os.kill(broker.process.pid, signal.SIGCONT)
            return {"growth_kib": peak - before, "dropped": node.qos0_dropped,  # type: ignore[attr-defined]
                    "ended_after_s": ended_after, "status": ended.data["text"]}


async def received(h: FlowHarness, count: int, timeout: float) -> list[Event]:
    await h.wait_for("cmd", count, timeout=timeout)
    return [e for e in h.events if e.kind == "warning"]


async def publish_file(port: int, path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-V", "311", "-q", "1",
        "-t", "cmd", "-f", str(path))
    if await process.wait():
        raise BenchError("mosquitto_pub failed")


async def big_messages(workdir: Path, scenario: str) -> dict[str, Any]:
    if scenario == "big":
        count, payload = 1, json.dumps(["x" * 1000] * 100_000)
    else:
        count, payload = BURST, json.dumps(["x" * 1000] * 1030)  # 1,034,120 bytes
    path = workdir / "payload.json"
    path.write_text(payload)
    small = workdir / "small.json"
    small.write_text('{"after": 1}')
    del payload
    with Broker(workdir / "broker") as broker:
        document = broker_flow(broker.port, "3.1.1", {"id": "cmd", "type": "mqtt-in", "config": {
            "topic": "cmd", "qos": 1, "format": "json", "max_decode_size": 1 << 20}})
        async with FlowHarness(document, state_dir=workdir / "state") as h:
            await h.wait_event(is_status("connected"), timeout=10)
            gc.collect()
            before = rss_kib()
            reset_peak()
            done = asyncio.Event()
            stall = asyncio.ensure_future(longest_stall(done))
            for _ in range(count):
                await publish_file(broker.port, path)
            await publish_file(broker.port, small)
            warnings = await received(h, count if scenario == "burst" else 1, timeout=60)
            done.set()
            peak = peak_kib()
            h.collector("cmd").received.clear()
            gc.collect()
            await asyncio.sleep(1.5)  # the allocator is asked to trim a second after
            after = rss_kib()
    return {"size": path.stat().st_size, "count": count, "peak_kib": peak - before,
            "after_kib": after - before, "warnings": len(warnings),
            "longest_stall_ms": await stall * 1000}


def benchmark(options: Options) -> list[Row]:
    rows = []
    result = run_json("bench.link_bounds", ["stalled"], timeout=120)
    growth = result["growth_kib"] / 1024
    rows.append(Row(f"MQTT, SIGSTOPped broker: RSS growth while {STALL_MESSAGES:,} QoS 0 "
                    f"messages of 256 KiB are published; dropped; link ended after",
                    f"+{megabytes(result['growth_kib'])}, {result['dropped']:,} dropped, "
                    f"{result['ended_after_s']:.1f} s (keepalive {STALL_KEEPALIVE} s)",
                    f"<= {STALL_GROWTH_MB} MB", growth <= STALL_GROWTH_MB))
    for scenario, what in (("big", "one 100 MB JSON message (MQTT 3.1.1, skipped)"),
                           ("burst", f"{BURST} JSON messages of 1 MiB less 1 KiB")):
        result = run_json("bench.link_bounds", [scenario], timeout=300)
        rows.append(Row(f"mqtt-in, {what}: RSS peak, after, longest event-loop stall",
                        f"{signed_mb(result['peak_kib'])}, {signed_mb(result['after_kib'])}, "
                        f"{result['longest_stall_ms']:.0f} ms",
                        f"after <= {RETURNED_MB} MB",
                        result["after_kib"] / 1024 <= RETURNED_MB))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.link_bounds",
                                     description="One measurement; prints JSON.")
    parser.add_argument("scenario", choices=["stalled", "big", "burst"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="portless-bench-") as workdir:
        try:
            if args.scenario == "stalled":
                result = asyncio.run(stalled(Path(workdir)))
            else:
                result = asyncio.run(big_messages(Path(workdir), args.scenario))
        except BenchError as exc:
            print(f"bench.link_bounds: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
