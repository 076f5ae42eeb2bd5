"""The MQTT scenarios, each run against its own private mosquitto by ``python -m bench.mqtt``.

Every scenario counts at a ``mosquitto_sub`` process (bench.broker), from the first
message received to the last, so publishers of every kind are clocked the same way:

- ``mosquitto``: ``mosquitto_pub -l`` reading the messages from stdin, the ceiling;
- ``gmqtt``: a bare gmqtt publisher loop, as a careful user writes it;
- ``portless``: the real Engine and registry, a bench source into mqtt-out, QoS 1 and 2
  through the durable outbox;
- ``nodered``: Node-RED 4, a function node emitting into its mqtt out (bench.nodered);
- ``latency``: portless at a fixed rate, the send time in each payload;
- ``drain``: portless fills its outbox while the broker is down, then the broker starts.

All publishers send the same bytes: topic ``bench/mqtt``, the JSON of a counter as
payload, with content type application/json over MQTT 5 (mqtt-out always sets it).
Each throughput scenario does one ``Work``: QoS, count, protocol, the broker's receive
maximum.
"""

from __future__ import annotations

import asyncio
import bisect
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50, MQTTv311
from gmqtt.storage import PersistentStorage

from portless.nodes.link_state import LinkState
from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.runtime import Engine, Node, Registry, check_flow

from .broker import MOSQUITTO_PUB, RECEIVE_MAXIMUM, Arrivals, Broker, Subscriber
from .core import BenchError
from .mqtt_nodes import BenchPacedSource
from .nodered import START_TOPIC, NodeRed, flow, node_red
from .nodes import BenchSource

TOPIC = "bench/mqtt"
CONTENT_TYPE = "application/json"
YIELD_EVERY = 1000
"""Messages a source emits between yields to the event loop (the engine's batch)."""
SETTLE = 2.0
"""QoS 0: seconds without a new arrival after which the rest counts as lost."""
RESULT = dict[str, Any]
PROTOCOLS = ("5", "3.1.1")


@dataclass(frozen=True)
class Work:
    """What a throughput scenario does: ``count`` messages at ``qos`` over ``protocol``,
    to a broker announcing ``receive_maximum`` (MQTT 5's in-flight window)."""

    qos: int
    count: int
    yield_every: int = YIELD_EVERY
    protocol: str = "5"
    receive_maximum: int = RECEIVE_MAXIMUM
    inflight_window: int | None = None
    """portless over 3.1.1: mqtt-broker's ``inflight_window``; None for its default."""

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {self.protocol!r}")
        if min(self.count, self.yield_every, self.receive_maximum) < 1:
            raise ValueError("count, yield_every and receive_maximum must be positive")

    def broker(self, workdir: Path) -> Broker:
        return Broker(workdir / "broker", receive_maximum=self.receive_maximum)

    @property
    def idle(self) -> float:
        """Seconds without an arrival after which the subscriber stops waiting."""
        return SETTLE if self.qos == 0 else 10.0

    @property
    def timeout(self) -> float:
        return 60 + self.count / 1000
CHUNK = 60_000
"""Lines per mosquitto_pub process at QoS 1/2 (see mosquitto_pub)."""


def result(sent: int, arrivals: Arrivals, **more: Any) -> RESULT:
    return {"sent": sent, "received": arrivals.count, "rate": arrivals.rate,
            "seconds": arrivals.times[-1] - arrivals.times[0] if arrivals.count else 0.0,
            **more}


def check_all_arrived(sent: int, arrivals: Arrivals) -> None:
    if arrivals.count != sent:
        raise BenchError(f"the subscriber got {arrivals.count:,} of {sent:,} QoS 1 messages")
    if arrivals.payloads != [str(i) for i in range(sent)]:
        raise BenchError("QoS 1 messages arrived out of order or twice")


# --- the ceiling and the bare client -------------------------------------------------
async def mosquitto_pub(workdir: Path, work: Work) -> RESULT:
    """``mosquitto_pub -l``: one C client publishing lines from stdin as fast as it can.

    At QoS 1/2 it stops at stdin's end once the packet id of the last line is acked,
    and ids wrap at 65,535: so no client is given more than CHUNK lines, and the
    chunks run one after another (their start-up gaps count against the rate)."""
    qos, count = work.qos, work.count
    version = ["-V", "5", "-D", "publish", "content-type", CONTENT_TYPE] \
        if work.protocol == "5" else ["-V", "311"]
    with work.broker(workdir) as broker, \
            Subscriber(broker, TOPIC, qos, count) as subscriber:
        step = CHUNK if qos else count
        for first in range(0, count, step):
            lines = "".join(f"{i}\n" for i in range(first, min(first + step, count)))
            process = await asyncio.create_subprocess_exec(
                MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(broker.port), *version,
                "-q", str(qos), "-t", TOPIC, "-l", stdin=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            _, err = await process.communicate(lines.encode())
            if process.returncode:
                raise BenchError(f"mosquitto_pub exited {process.returncode}: "
                                 f"{err.decode(errors='replace').strip()[-200:]}")
        arrivals = await subscriber.finish(work.idle, work.timeout)
    if qos:
        check_all_arrived(count, arrivals)
    return result(count, arrivals)


class _Window(PersistentStorage):  # type: ignore[misc]
    """gmqtt's default in-flight store, plus what a user needs to respect the broker's
    receive maximum: a count of unacknowledged publishes and a wake-up on each PUBACK."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.freed = asyncio.Event()

    def push_message(self, mid: int, raw_package: bytes) -> None:
        super().push_message(mid, raw_package)
        self.in_flight += 1

    def remove_message_by_mid(self, mid: int) -> None:
        super().remove_message_by_mid(mid)
        self.in_flight -= 1
        self.freed.set()


async def bare_gmqtt(workdir: Path, work: Work) -> RESULT:
    """gmqtt alone: publish in a loop; for QoS 1 keep at most receive maximum - 2 in
    flight (gmqtt raises OverflowError at receive maximum - 1), waking on PUBACK. Over
    3.1.1 that is gmqtt's default of 65,535: no bound but the packet ids."""
    qos, count, yield_every = work.qos, work.count, work.yield_every
    properties = {"content_type": CONTENT_TYPE} if work.protocol == "5" else {}
    with work.broker(workdir) as broker, \
            Subscriber(broker, TOPIC, qos, count) as subscriber:
        window = _Window()
        connack: dict[str, Any] = {}
        client = gmqtt.Client("bench-gmqtt", persistent_storage=window)
        client.on_connect = lambda _client, _flags, _rc, properties: connack.update(properties)
        await client.connect("127.0.0.1", broker.port,
                             version=MQTTv50 if work.protocol == "5" else MQTTv311)
        limit = max(1, connack.get("receive_maximum", [65535])[0] - 2)
        publish = client.publish
        try:
            began = time.perf_counter()
            if qos == 0:
                for start in range(0, count, yield_every):
                    for i in range(start, min(start + yield_every, count)):
                        publish(TOPIC, str(i).encode(), qos=0, **properties)
                    await asyncio.sleep(0)
            else:
                freed = window.freed
                for i in range(count):
                    while window.in_flight >= limit:
                        freed.clear()
                        await freed.wait()
                    publish(TOPIC, str(i).encode(), qos=qos, **properties)
            published = time.perf_counter() - began
            arrivals = await subscriber.finish(work.idle, work.timeout)
        finally:
            await client.disconnect()
    if qos:
        check_all_arrived(count, arrivals)
    return result(count, arrivals, window=limit if qos else None,
                  publish_loop_s=published)


# --- portless ------------------------------------------------------------------------
def bench_registry() -> Registry:
    registry = Registry.discover()
    for line in registry.load_errors:
        print(f"bench: {line}", file=sys.stderr)
    registry.add(BenchSource, "bench")
    registry.add(BenchPacedSource, "bench")
    return registry


def flow_document(port: int, qos: int, source: dict[str, Any], outbox_messages: int,
                  **broker: Any) -> dict[str, Any]:
    """source -> mqtt-out -> mqtt-broker at 127.0.0.1:port."""
    return {"version": 1, "name": "bench mqtt", "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, "client_id": "bench-portless",
                    # The default bound is 100,000: a burst of that many at once fits
                    # exactly, one more would drop the oldest.
                    "outbox_messages": max(100_000, outbox_messages), **broker}},
        {**source, "id": "source", "wires": [["out"]]},
        {"id": "out", "type": "mqtt-out",
         "config": {"broker": "broker", "topic": TOPIC, "qos": qos, "format": "json"}},
    ]}


class Portless:
    """The engine running a flow, with its broker node and source at hand."""

    def __init__(self, document: dict[str, Any], state_dir: Path) -> None:
        self.registry = bench_registry()
        self.flow = check_flow(document, self.registry, "<bench mqtt>")
        self.engine = Engine(self.registry, state_dir=state_dir)
        self.connected = asyncio.Event()
        self.connected_at = 0.0

    async def __aenter__(self) -> Portless:
        await self.engine.start(self.flow)
        broker = self.engine.nodes.get("broker")
        if not isinstance(broker, MqttBroker) or "source" not in self.engine.nodes:
            await self.engine.stop()
            raise BenchError("the mqtt-broker node or the bench source failed to start")
        self.broker: MqttBroker = broker
        self.source: Node = self.engine.nodes["source"]
        broker.add_state_listener(self._on_link)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.stop()

    def _on_link(self, state: LinkState) -> None:
        if state.connected and not self.connected.is_set():
            self.connected_at = time.time()
            self.connected.set()

    async def wait_connected(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            raise BenchError(f"portless did not connect: {self.broker.state.text}") from None

    async def run_source(self) -> float:
        """Let the source emit; return the seconds until it was done and every message
        it sent was handed to mqtt-out."""
        source = self.source
        if not isinstance(source, BenchSource | BenchPacedSource):
            raise BenchError("the source is not a bench source")
        began = time.perf_counter()
        source.begin()
        await source.finished.wait()
        await self.engine.wait_idle()
        return time.perf_counter() - began

    async def outbox_empty(self, timeout: float) -> float:
        """Wait until every QoS 1/2 message is acknowledged; return time.time() then."""
        outbox = self.broker.outbox
        deadline = time.monotonic() + timeout
        while outbox.count:
            if time.monotonic() > deadline:
                raise BenchError(f"{outbox.count:,} messages still in the outbox "
                                 f"after {timeout:.0f} s")
            await asyncio.sleep(0.005)
        return time.time()

    def errors(self) -> dict[str, int]:
        return {node.id: node.error_count for node in self.engine.nodes.values()
                if node.error_count}


def bench_source(count: int, yield_every: int) -> dict[str, Any]:
    return {"type": BenchSource.type, "config": {"count": count, "yield_every": yield_every}}


async def portless(workdir: Path, work: Work) -> RESULT:
    """A bench source emitting as fast as it can into mqtt-out, in this process."""
    qos, count = work.qos, work.count
    window = {} if work.inflight_window is None else {"inflight_window": work.inflight_window}
    with work.broker(workdir) as broker, \
            Subscriber(broker, TOPIC, qos, count) as subscriber:
        document = flow_document(broker.port, qos, bench_source(count, work.yield_every),
                                 count, protocol=work.protocol, **window)
        async with Portless(document, workdir / "state") as device:
            await device.wait_connected()
            cpu, broker_cpu = time.process_time(), broker.cpu_seconds()
            published = await device.run_source()
            emitted_at = time.time()
            arrivals = await subscriber.finish(work.idle, work.timeout)
            if qos:
                await device.outbox_empty(10.0)
            cpu = time.process_time() - cpu
            broker_cpu = broker.cpu_seconds() - broker_cpu
            errors = device.errors()
            dropped = device.broker.qos0_dropped
    if errors:
        raise BenchError(f"node errors: {errors}")
    if qos:
        check_all_arrived(count, arrivals)
    return result(count, arrivals, publish_loop_s=published,
                  cpu_us_per_message=cpu / count * 1e6,
                  broker_us_per_message=broker_cpu / count * 1e6,
                  arrived_while_emitting=bisect.bisect_right(arrivals.times, emitted_at),
                  qos0_dropped_while_disconnected=dropped)


async def latency(workdir: Path, rate: float, seconds: float) -> RESULT:
    """QoS 1 through the outbox at a fixed rate; latency = receive time - send time."""
    count = max(2, round(rate * seconds))
    with Broker(workdir / "broker") as broker, \
            Subscriber(broker, TOPIC, 1, count) as subscriber:
        source = {"type": BenchPacedSource.type, "config": {"count": count, "rate": rate}}
        document = flow_document(broker.port, 1, source, count)
        async with Portless(document, workdir / "state") as device:
            await device.wait_connected()
            await device.run_source()
            arrivals = await subscriber.finish(idle=10.0, timeout=30 + seconds)
    if arrivals.count != count:
        raise BenchError(f"the subscriber got {arrivals.count:,} of {count:,} messages")
    delays = sorted((received - float(sent)) * 1000
                    for received, sent in zip(arrivals.times, arrivals.payloads, strict=True))
    percentiles = statistics.quantiles(delays, n=100, method="inclusive")
    return {"sent": count, "received": arrivals.count, "rate": rate, "seconds": seconds,
            "p50_ms": statistics.median(delays), "p99_ms": percentiles[98],
            "max_ms": delays[-1]}


async def drain(workdir: Path, count: int, yield_every: int) -> RESULT:
    """Fill the outbox while the broker is down, then start the broker: how fast does
    the backlog reach the subscriber?"""
    broker = Broker(workdir / "broker")  # its port is chosen; nothing listens there yet
    subscriber = Subscriber(broker, TOPIC, 1, count)
    document = flow_document(broker.port, 1, bench_source(count, yield_every), count,
                             reconnect_min_delay=0.05, reconnect_max_delay=0.2)
    try:
        async with Portless(document, workdir / "state") as device:
            await device.run_source()
            outbox = device.broker.outbox
            outbox.flush()
            if device.connected.is_set() or outbox.count != count:
                raise BenchError(f"expected {count:,} messages waiting in the outbox while "
                                 f"the broker is down, found {outbox.count:,}")
            # The broker comes back. Until the next await, portless cannot run: the
            # subscriber is in place before portless can reconnect and send.
            broker.start()
            subscriber.start()
            started = time.time()
            await device.wait_connected()
            emptied = await device.outbox_empty(60 + count / 1000)
            arrivals = await subscriber.finish(idle=10.0, timeout=60 + count / 1000)
            errors = device.errors()
    finally:
        subscriber.stop()
        broker.stop()
    if errors:
        raise BenchError(f"node errors: {errors}")
    check_all_arrived(count, arrivals)
    return result(count, arrivals, reconnect_s=device.connected_at - started,
                  emptied_s=emptied - device.connected_at,
                  outbox_rate=count / (emptied - device.connected_at))


async def nodered(workdir: Path, work: Work) -> RESULT:
    """Node-RED 4: a function node emitting ``count`` messages into its mqtt out."""
    red_js, why_not = node_red()
    if red_js is None:
        raise BenchError(why_not)
    with work.broker(workdir) as broker, \
            Subscriber(broker, TOPIC, work.qos, work.count) as subscriber:
        # Retained, so Node-RED gets it once its connection is up, then emits.
        broker.publish_retained(START_TOPIC, "go")
        red = NodeRed(red_js, workdir / "node-red",
                      flow(broker.port, work.protocol, work.qos, work.count, TOPIC,
                           CONTENT_TYPE))
        try:
            broker_cpu = broker.cpu_seconds()
            await red.start()
            cpu = red.cpu_seconds()
            arrivals = await subscriber.finish(work.idle, work.timeout)
            cpu = red.cpu_seconds() - cpu
            broker_cpu = broker.cpu_seconds() - broker_cpu
        finally:
            await red.stop()
    if work.qos:
        check_all_arrived(work.count, arrivals)
    return result(work.count, arrivals, cpu_us_per_message=cpu / work.count * 1e6,
                  broker_us_per_message=broker_cpu / work.count * 1e6,
                  node_red_problems=red.errors()[:5])


SCENARIOS = {"mosquitto": mosquitto_pub, "gmqtt": bare_gmqtt, "portless": portless,
             "nodered": nodered}
"""The throughput scenarios: scenario(workdir, work)."""
