"""Flash wear: bytes written to disk per QoS 1 message through the outbox.

At 10, 100 and 1,000 msgs/s, an 11-byte payload (JSON of an 11-digit counter) on the
10-byte topic ``bench/mqtt``, through mqtt-out into the durable outbox and on to a
private mosquitto. Each rate runs in a fresh interpreter, which reads its own
``/proc/self/io`` before the source starts and after the outbox emptied and its next
checkpoint ran: ``write_bytes`` is what the process made the kernel write to the disk
(sqlite's WAL, its checkpoints into the database), ``wchar`` what it handed to write()
(the log on stderr included). The outbox commits in batches every
``outbox_flush_interval`` (FLUSH_INTERVAL by default): ``--flush-interval 0`` shows
the cost of a commit per event-loop turn, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portless.nodes.outbox import CHECKPOINT_DELAY, FLUSH_INTERVAL

from .broker import Broker, Subscriber
from .core import BenchError, Options, Row, run_json
from .mqtt_nodes import BenchPacedSource
from .mqtt_scenarios import TOPIC, Portless, flow_document

RATES = (10.0, 100.0, 1000.0)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbox_writes",
        description="Bytes written per QoS 1 message at one rate; print JSON.")
    parser.add_argument("--rate", type=float, default=1000.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long")
    parser.add_argument("--flush-interval", type=float, default=FLUSH_INTERVAL,
                        help=f"the broker's outbox_flush_interval (default {FLUSH_INTERVAL})")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or not 0 <= args.flush_interval <= 1:
        parser.error("--rate and --seconds must be positive, --flush-interval in 0..1")
    try:
        with tempfile.TemporaryDirectory(prefix="portless-bench-writes-") as workdir:
            result = asyncio.run(measure(Path(workdir), args.rate, args.seconds,
                                         args.flush_interval))
    except BenchError as exc:
        print(f"bench.outbox_writes: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def benchmark(options: Options) -> list[Row]:
    seconds = 3.0 if options.quick else 10.0
    rows = []
    for flush_interval in (FLUSH_INTERVAL, 0.0):
        for rate in RATES if flush_interval else RATES[-1:]:
            rows.append(rate_row(rate, seconds, flush_interval))
    return rows


def rate_row(rate: float, seconds: float, flush_interval: float) -> Row:
    measurement = (f"outbox: bytes written per {PAYLOAD_BYTES}-byte QoS 1 message, "
                   f"{rate:,.0f} msgs/s for {seconds:.0f} s, flush interval "
                   f"{flush_interval * 1000:.0f} ms")
    target = (f"<= {TARGET_AT_1000} B (4x the {PACKET_BYTES}-byte PUBLISH)"
              if rate == RATES[-1] and flush_interval else "-")
    try:
        result = run_json("bench.outbox_writes",
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
