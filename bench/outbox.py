"""The outbox's footprint: bytes written to disk per QoS 1 message, and memory after
a drain.

Flash wear: at 10, 100 and 1,000 msgs/s, an 11-byte payload (JSON of an 11-digit counter) on the
10-byte topic ``bench/mqtt``, through mqtt-out into the durable outbox and on to a
private mosquitto. Each rate runs in a fresh interpreter, which reads its own
``/proc/self/io`` before the source starts and after the outbox emptied and its next
checkpoint ran: ``write_bytes`` is what the process made the kernel write to the disk
(sqlite's WAL, its checkpoints into the database), ``wchar`` what it handed to write()
(the log on stderr included). The outbox commits in batches every
``outbox_flush_interval`` (FLUSH_INTERVAL by default): ``--flush-interval 0`` shows
the cost of a commit per event-loop turn, as before.

Memory: DRAIN_MESSAGES messages of DRAIN_SIZE bytes are put into the outbox while the
broker is down, then the broker starts; the process's RSS before the outage, when the
outbox is full, and once it drained (and its peak) show that a backlog is not held in
memory and that what a drain used is returned.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portless.nodes.mqtt.outbox import CHECKPOINT_DELAY, FLUSH_INTERVAL

from .broker import Broker, Subscriber
from .core import BenchError, Options, Row, megabytes, print_result, run_json
from .memory import own_peak_rss_kib, status_kib
from .mqtt_nodes import BenchPacedSource
from .mqtt_scenarios import TOPIC, Portless, flow_document

RATES = (10.0, 100.0, 1000.0)
DRAIN_MESSAGES = 50_000
DRAIN_SIZE = 1024
TARGET_DRAIN_GROWTH_KIB = 5 * 1024
"""RSS once drained, at most this much above the RSS before the outage."""
PAYLOAD_BYTES = 11
PACKET_BYTES = 47
"""The MQTT 5 PUBLISH of such a message: header, topic, packet id, content type, payload."""
TARGET_AT_1000 = 4 * PACKET_BYTES
"""At 1,000 msgs/s, at most this many bytes written per message: a small multiple of the
message (a commit per message wrote about 8,300)."""


def io_counters() -> dict[str, int]:
    """This process's I/O counters (write_bytes, wchar, ...) from /proc/self/io."""
    try:
        text = Path("/proc/self/io").read_text(encoding="ascii")
    except OSError as exc:
        raise BenchError(f"cannot read /proc/self/io (Linux only): {exc}") from None
    return {name: int(value) for name, value in
            (line.split(": ") for line in text.splitlines())}


async def measure(workdir: Path, rate: float, seconds: float, flush_interval: float
                  ) -> dict[str, Any]:
    count = max(1, round(rate * seconds))
    with Broker(workdir / "broker") as broker, \
            Subscriber(broker, TOPIC, 1, count) as subscriber:
        source = {"type": BenchPacedSource.type,
                  "config": {"count": count, "rate": rate, "counter_payload": True}}
        document = flow_document(broker.port, 1, source, count,
                                 outbox_flush_interval=flush_interval)
        async with Portless(document, workdir / "state") as device:
            await device.wait_connected()
            before = io_counters()
            await device.run_source()
            await device.outbox_empty(30.0)
            await asyncio.sleep(CHECKPOINT_DELAY + 0.5)  # the checkpoint of the last writes
            after = io_counters()
            arrivals = await subscriber.finish(idle=10.0, timeout=30.0)
    if arrivals.count < count:
        raise BenchError(f"the subscriber got {arrivals.count:,} of {count:,} messages")
    return {"rate": rate, "messages": count, "flush_interval": flush_interval,
            "write_bytes": after["write_bytes"] - before["write_bytes"],
            "wchar": after["wchar"] - before["wchar"]}


async def drain_memory(workdir: Path, count: int, size: int) -> dict[str, Any]:
    broker = Broker(workdir / "broker")  # its port is chosen; nothing listens there yet
    subscriber = Subscriber(broker, TOPIC, 1, count)
    document = flow_document(broker.port, 1, {"type": BenchPacedSource.type}, count,
                             reconnect_min_delay=0.05, reconnect_max_delay=0.2)
    try:
        async with Portless(document, workdir / "state") as device:
            before = status_kib("self", "VmRSS")
            outbox = device.broker.outbox
            for first in range(0, count, 1000):  # as a source would, 1,000 a turn
                for i in range(first, min(first + 1000, count)):
                    device.broker.publish(TOPIC, str(i).encode().ljust(size), 1, False, {})
                await asyncio.sleep(0)
            outbox.flush()
            if device.connected.is_set() or outbox.count != count:
                raise BenchError(f"expected {count:,} messages waiting in the outbox while "
                                 f"the broker is down, found {outbox.count:,}")
            full = status_kib("self", "VmRSS")
            broker.start()
            subscriber.start()
            await device.wait_connected()
            await device.outbox_empty(60 + count / 1000)
            await asyncio.sleep(1.0)
            drained = status_kib("self", "VmRSS")
    finally:
        subscriber.stop()
        broker.stop()
    return {"messages": count, "size": size, "before_kib": before, "full_kib": full,
            "drained_kib": drained, "peak_kib": own_peak_rss_kib()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbox",
        description="Bytes written per QoS 1 message at one rate, or (--drain) memory "
                    "around a drain; print JSON.")
    parser.add_argument("--drain", action="store_true",
                        help=f"memory around a drain of {DRAIN_MESSAGES:,} messages of "
                             f"{DRAIN_SIZE} bytes")
    parser.add_argument("--rate", type=float, default=1000.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long")
    parser.add_argument("--flush-interval", type=float, default=FLUSH_INTERVAL,
                        help=f"the broker's outbox_flush_interval (default {FLUSH_INTERVAL})")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or not 0 <= args.flush_interval <= 1:
        parser.error("--rate and --seconds must be positive, --flush-interval in 0..1")
    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="portless-bench-outbox-") as workdir:
            return asyncio.run(
                drain_memory(Path(workdir), DRAIN_MESSAGES, DRAIN_SIZE) if args.drain
                else measure(Path(workdir), args.rate, args.seconds, args.flush_interval))
    return print_result("bench.outbox", run)


def benchmark(options: Options) -> list[Row]:
    seconds = 3.0 if options.quick else 10.0
    rows = []
    for flush_interval in (FLUSH_INTERVAL, 0.0):
        for rate in RATES if flush_interval else RATES[-1:]:
            rows.append(rate_row(rate, seconds, flush_interval))
    rows.append(drain_row())
    return rows


def drain_row() -> Row:
    measurement = (f"outbox: RSS around a QoS 1 drain of {DRAIN_MESSAGES:,} messages of "
                   f"{DRAIN_SIZE} bytes")
    target = f"drained <= before + {megabytes(TARGET_DRAIN_GROWTH_KIB)}"
    try:
        result = run_json("bench.outbox", ["--drain"], timeout=120 + DRAIN_MESSAGES / 1000)
    except BenchError as exc:
        return Row(measurement, f"error: {exc}", target, False)
    growth = result["drained_kib"] - result["before_kib"]
    return Row(measurement, f"before {megabytes(result['before_kib'])}, outbox full "
                            f"{megabytes(result['full_kib'])}, drained "
                            f"{megabytes(result['drained_kib'])} (peak "
                            f"{megabytes(max(result['peak_kib'], result['drained_kib']))})",
               target, growth <= TARGET_DRAIN_GROWTH_KIB)


def rate_row(rate: float, seconds: float, flush_interval: float) -> Row:
    measurement = (f"outbox: bytes written per {PAYLOAD_BYTES}-byte QoS 1 message, "
                   f"{rate:,.0f} msgs/s for {seconds:.0f} s, flush interval "
                   f"{flush_interval * 1000:.0f} ms")
    target = (f"<= {TARGET_AT_1000} B (4x the {PACKET_BYTES}-byte PUBLISH)"
              if rate == RATES[-1] and flush_interval else "-")
    try:
        result = run_json("bench.outbox",
                          ["--rate", str(rate), "--seconds", str(seconds),
                           "--flush-interval", str(flush_interval)], timeout=60 + seconds)
    except BenchError as exc:
        return Row(measurement, f"error: {exc}", target, False if target != "-" else None)
    per_message = result["write_bytes"] / result["messages"]
    text = (f"{per_message:,.0f} B to disk ({per_message * rate / 1024:,.0f} KiB/s); "
            f"{result['wchar'] / result['messages']:,.0f} B through write()")
    return Row(measurement, text, target,
               per_message <= TARGET_AT_1000 if target != "-" else None)


if __name__ == "__main__":
    sys.exit(main())
