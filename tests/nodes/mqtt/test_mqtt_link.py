"""The MQTT connection itself, against a real mosquitto: a peer that closes before
CONNACK, a client id taken over by another client, a broker that stops reading
(SIGSTOP), and the maximum packet size in both directions."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import os
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import gmqtt
import pytest
from gmqtt.mqtt.constants import MQTTv50, MQTTv311

from portless.nodes.link_state import LinkState
from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.nodes.mqtt.mqtt_link import LinkEnding, disconnect
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.nodes.mqtt.test_mqtt_broker import (
    CMD,
    after,
    connected,
    flow,
    mqtt_in,
    out,
    status_is,
    until,
    wait_after,
)

pytestmark = pytest.mark.broker

CLOSED_EARLY = "closed by the server before accepting the connection"


def broker_node(h: FlowHarness) -> MqttBroker:
    return cast(MqttBroker, h.engine.nodes["broker"])


async def test_a_peer_that_closes_before_connack_is_named_and_left_at_once() -> None:
    """A fake peer (a TCP server that reads the CONNECT and closes), since no real
    broker does this on purpose; a full disk or a connection limit makes some do it."""
    attempts = 0

    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                            ) -> None:
        nonlocal attempts
        attempts += 1
        await reader.read(1)  # the CONNECT has arrived
        writer.close()

    server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # connect_timeout 30 s: each attempt must end when the peer closes, not then.
    document = flow({"port": port, "connect_timeout": 30})
    async with server, FlowHarness(document) as h:
        start = 0
        for _ in range(3):
            event = await wait_after(h, start, status_is(
                "broker", lambda text: text == CLOSED_EARLY), timeout=5)
            start = after(h, event)
            await wait_after(h, start, status_is("broker", lambda t: t == "connecting"))
    assert attempts >= 3


class ConnectionTimes:
    """When the broker node connected, from its state listener."""

    def __init__(self, broker: MqttBroker, enough: int) -> None:
        self.times: list[float] = []
        self.texts: list[str] = []
        self.enough = enough
        self.reached = asyncio.Event()
        self.unlisten = broker.add_state_listener(self._on_state)

    def _on_state(self, state: LinkState) -> None:
        self.texts.append(state.text)
        if state.connected:
            self.times.append(asyncio.get_running_loop().time())
            if len(self.times) >= self.enough:
                self.reached.set()

    def gaps(self) -> list[float]:
        return [later - earlier for earlier, later in itertools.pairwise(self.times)]


async def fight_for(port: int, client_id: str, protocol: str) -> None:
    """A second device with the same client id: it connects again 0.2 s after each kick."""
    version = MQTTv50 if protocol == "5" else MQTTv311
    while True:
        client = gmqtt.Client(client_id, clean_session=False)
        client.set_config({"reconnect_retries": -2, "reconnect_delay": 0})
        kicked = LinkEnding()
        client.on_disconnect = kicked.on_disconnect
        try:
            await client.connect("127.0.0.1", port, version=version)
            await kicked.ended.wait()
        finally:
            await disconnect(client)
        await asyncio.sleep(0.2)  # that device's own reconnect delay, not a wait


@pytest.mark.slow  # watches the reconnect rate for seconds of real time
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_two_devices_with_one_client_id_do_not_fight_at_a_constant_rate(
        mosquitto: Mosquitto, protocol: str) -> None:
    """mosquitto 2.0.11 closes the old connection without a reason (no DISCONNECT 0x8E,
    even over MQTT 5), so this is the "lost right after connecting" case: the time
    between portless's connections must grow (0.1 s doubling with jitter, up to 5 s),
    and after the second such close in a row the status names the likely cause."""
    document = flow({"port": mosquitto.port, "protocol": protocol, "client_id": "valve-1",
                     "reconnect_min_delay": 0.1, "reconnect_max_delay": 5})
    async with FlowHarness(document) as h:
        await connected(h)
        connections = ConnectionTimes(broker_node(h), enough=6)
        other = asyncio.create_task(fight_for(mosquitto.port, "valve-1", protocol))
        try:
            await asyncio.wait_for(connections.reached.wait(), 30)
        finally:
            other.cancel()
            await asyncio.gather(other, return_exceptions=True)
    gaps = connections.gaps()
    # The first gap is about 0.2 s + 0.05..0.1 s; the fifth 0.2 s + 0.8..1.6 s.
    assert gaps[-1] > 2.5 * gaps[0], gaps
    # From the second such close on, the status says what probably happens.
    hint = re.compile(r"disconnected by the broker \d+\.\d s after connecting, (\d+) times in "
                      r"a row, without a reason: is another client using the client id "
                      r"valve-1\? backing off")
    counts = [int(m[1]) for m in map(hint.fullmatch, connections.texts) if m]
    assert counts[:3] == [2, 3, 4], connections.texts


async def test_a_session_taken_over_says_so_and_backs_off(
        caplog: pytest.LogCaptureFixture) -> None:
    """A fake peer that accepts (CONNACK) and then sends DISCONNECT 0x8E "session taken
    over", as MQTT 5 brokers do when another client connects with the same client id:
    mosquitto 2.0.11, the broker installed here, closes the socket without saying so."""

    async def take_over(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                        ) -> None:
        await reader.read(1)
        writer.write(b"\x20\x03\x00\x00\x00")  # CONNACK: accepted, no properties
        writer.write(b"\xe0\x02\x8e\x00")  # DISCONNECT 0x8E, no properties
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(take_over, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    document = flow({"port": port, "client_id": "valve-1", "reconnect_min_delay": 0.1,
                     "reconnect_max_delay": 5})
    async with server, FlowHarness(document) as h:
        connections = ConnectionTimes(broker_node(h), enough=5)
        await asyncio.wait_for(connections.reached.wait(), 30)
        connections.unlisten()
    said = "another client connected with the same client id valve-1; backing off"
    assert said in connections.texts
    assert any(r.getMessage().endswith(said) for r in caplog.records
               if r.levelno == logging.WARNING)
    gaps = connections.gaps()
    assert gaps[-1] > 2.5 * gaps[0], gaps


# --- a broker that stops reading -----------------------------------------------------

@contextlib.contextmanager
def stopped(broker: Mosquitto) -> Iterator[None]:
    """SIGSTOP the broker (by PID): it neither reads nor answers, like a hung host."""
    assert broker.process is not None
    pid = broker.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.mark.slow  # waits for a stalled broker's keepalive to run out
async def test_a_broker_that_stops_reading_costs_a_bounded_buffer_then_the_link_ends(
        mosquitto: Mosquitto) -> None:
    """256 KB QoS 0 messages to a SIGSTOPped mosquitto: once the kernel's socket buffers
    are full, the send buffer (1 MiB here) holds what waits and QoS 0 beyond it is
    dropped and counted in the status; at the keepalive timeout (1.5 times 1 s) the
    link ends at once, saying why, and reconnecting starts."""
    document = flow({"port": mosquitto.port, "keepalive": 1, "send_buffer_bytes": 1 << 20},
                    out(topic="device/valve-1/big", qos=0, format="text"))
    big = "x" * (256 << 10)
    async with FlowHarness(document) as h:
        await connected(h)
        broker = broker_node(h)
        start = len(h.events)
        unsent = []
        with stopped(mosquitto):
            full = asyncio.ensure_future(wait_after(h, start, status_is(
                "broker", lambda t: t.startswith("connected; send buffer full: ")),
                timeout=10))
            while not full.done():  # publish until the buffer refuses, then some more
                h.inject("out", {"payload": big})
                await asyncio.sleep(0)  # one turn: the batch goes to the transport
                unsent.append(buffered(broker))
            for _ in range(20):
                h.inject("out", {"payload": big})
                await asyncio.sleep(0)
                unsent.append(buffered(broker))
            lost = await wait_after(h, start, status_is(
                "broker", lambda t: t.startswith("disconnected")), timeout=5)
        await connected(h, after(h, lost), timeout=10)
    assert max(unsent) <= (1 << 20) + (256 << 10) + 1024, max(unsent)
    assert broker.qos0_dropped >= 20
    assert full.result().data["fill"] == "yellow"
    assert any(e.node_id == "out" and e.data.get("text", "").startswith(
        "connected; send buffer full: ") for e in h.events)  # on mqtt-out too
    assert lost.data["text"] == ("disconnected: no answer from the broker within the "
                                 "keepalive (1.5 s: 1.5 times 1 s); reconnecting")


def buffered(broker: MqttBroker) -> int:
    """Bytes this connection holds unsent (asyncio's write buffer), 0 when down."""
    client = broker._client
    if client is None or client._connection is None:
        return 0
    return int(client._connection._transport.get_write_buffer_size())


# --- the maximum packet size ---------------------------------------------------------

@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_message_above_the_maximum_packet_size_never_reaches_the_device(
        mosquitto: Mosquitto, tmp_path: Path, protocol: str) -> None:
    """A 2 MiB command against the default maximum of 1 MiB. Over MQTT 5 mosquitto is
    told in CONNECT and does not send it; over 3.1.1 it does, and the device skips it as
    it streams in, with a warning, and acknowledges it: after a restart of the device
    (a persistent session) it does not come again. The link stays up throughout."""
    document = flow({"port": mosquitto.port, "protocol": protocol, "client_id": "valve-1"},
                    mqtt_in("cmd", CMD, qos=1, format="raw"))
    state_dir = tmp_path / "state"
    big = b"[" + b"1," * (1 << 20) + b"1]"
    async with Watcher(mosquitto.port) as operator:
        async with FlowHarness(document, state_dir=state_dir) as h:
            await connected(h)
            start = len(h.events)
            operator.publish(CMD, big, qos=1)
            operator.publish(CMD, b"after", qos=1)
            (got,) = await h.wait_for("cmd", 1)
            events = h.events[start:]
        async with FlowHarness(document, state_dir=state_dir) as h:
            await connected(h)
            operator.publish(CMD, b"again", qos=1)
            (again,) = await h.wait_for("cmd", 1)
    assert got["payload"] == b"after"
    assert again["payload"] == b"again"
    assert [e for e in events if e.node_id == "broker" and e.kind == "status"] == []
    warnings = [e.data["text"] for e in events if e.kind == "warning"]
    if protocol == "3.1.1":
        size = 1 + 4 + 2 + len(CMD) + 2 + len(big)  # type, length, topic, packet id, payload
        assert warnings == [f"a message of {size:,} bytes on "
                            f"{CMD} is above the maximum packet size (1,048,576 bytes); "
                            f"skipped"]
    else:
        assert warnings == []


async def test_a_message_above_the_brokers_maximum_is_refused_and_the_link_stays_up(
        mosquitto_factory: Callable[..., Mosquitto]) -> None:
    """mosquitto with max_packet_size 100000 says so in CONNACK (MQTT 5) and drops a
    client that sends more; the device holds such messages back with a warning (QoS 1
    leaves the outbox too), and what follows arrives."""
    broker = mosquitto_factory("small", extra_config=["max_packet_size 100000"])
    document = flow({"port": broker.port},
                    out("out0", topic="device/valve-1/q0", qos=0, format="raw"),
                    out("out1", topic="device/valve-1/q1", qos=1, format="raw"))
    async with Watcher(broker.port, "device/valve-1/#") as operator, \
            FlowHarness(document) as h:
        await connected(h)
        start = len(h.events)
        for node in ("out0", "out1"):
            h.inject(node, {"payload": b"x" * 200_000})
            h.inject(node, {"payload": b"small"})
        got = await operator.wait_for(2)
        outbox = broker_node(h).outbox
        await until(h, lambda: outbox.count == 0)
        events = h.events[start:]
    assert sorted((m.topic, m.payload) for m in got) == [
        ("device/valve-1/q0", b"small"), ("device/valve-1/q1", b"small")]
    assert [e for e in events if e.node_id == "broker" and e.kind == "status"] == []
    warnings = [e.data["text"] for e in events if e.kind == "warning"]
    assert len(warnings) == 2, warnings
    for topic, text in zip(("q0", "q1"), warnings, strict=True):
        assert re.fullmatch(rf"message to device/valve-1/{topic} is 200,0\d\d bytes, above the "
                            r"broker's maximum packet size \(100,000 bytes\); dropped", text)


def resident_mb() -> float:
    """This process's resident memory (VmRSS), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024  # type: ignore[index]


async def test_memory_goes_back_after_a_burst_of_messages_just_below_the_maximum(
        mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    """20 JSON messages just below the default maximum of 1 MiB: once they are decoded,
    handled and dropped, the process is back within 3 MB of where it was. Left to
    itself glibc kept about 10 MB of freed heap here (24 MB in a process of its own)."""
    document = flow({"port": mosquitto.port},
                    mqtt_in("cmd", CMD, qos=1, format="json", max_decode_size=1 << 20))
    payload = json.dumps(["x" * 1000] * 1030).encode()  # 1,034,120 bytes
    for name in ("portless.mqtt.gmqtt", "gmqtt"):  # at DEBUG, log records keep payloads
        caplog.set_level(logging.INFO, logger=name)
    async with Watcher(mosquitto.port) as operator, FlowHarness(document) as h:
        await connected(h)
        gc.collect()
        before = resident_mb()
        for n in range(1, 21):
            operator.publish(CMD, payload, qos=1)
            await h.wait_for("cmd", n)
        h.collector("cmd").received.clear()
        gc.collect()
        try:
            await until(h, lambda: resident_mb() <= before + 3, timeout=5)
        except TimeoutError:
            pytest.fail(f"{resident_mb() - before:.1f} MB more than before the burst")


@pytest.mark.slow  # waits out a stalled broker
async def test_a_stop_while_the_broker_is_stalled_closes_the_socket(
        mosquitto: Mosquitto) -> None:
    """A clean stop sends the offline state and DISCONNECT; a SIGSTOPped broker takes
    neither, and a graceful close would wait for ever for the unsent data to drain. The
    stop ends within its timeouts and the socket is closed, not left open."""
    document = flow({"port": mosquitto.port, "state_topic": "device/valve-1/state"},
                    out(topic="device/valve-1/big", qos=0, format="text"))
    big = "x" * (256 << 10)
    with contextlib.ExitStack() as until_the_end:  # SIGCONT after the stop
        async with FlowHarness(document) as h:
            await connected(h)
            broker = broker_node(h)
            assert broker._client is not None
            sock = broker._client._connection._transport.get_extra_info("socket")
            until_the_end.enter_context(stopped(mosquitto))
            while broker.qos0_dropped == 0:  # until the kernel and the send buffer are full
                h.inject("out", {"payload": big})
                await asyncio.sleep(0)
        assert sock.fileno() == -1  # closed, before SIGCONT
    errors = [e for e in h.events if e.kind == "error"]
    assert errors == []


async def test_a_big_message_arriving_slowly_does_not_trip_the_keepalive() -> None:
    """A fake peer (no real broker can be made to send slowly here): it accepts, then
    sends a 2 MiB PUBLISH over 3 s, longer than the 1.5 s the keepalive of 1 s allows
    a silent broker. Bytes arriving are a sign of life: the link stays up, the message
    is skipped (above the maximum packet size) with a warning."""
    sent, closed = asyncio.Event(), asyncio.Event()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(b"\x20\x02\x00\x00")  # CONNACK (3.1.1): accepted
        topic, length = b"cmd", 2 + 3 + (2 << 20)
        header = bytes([0x30, length & 0x7F | 0x80, length >> 7 & 0x7F | 0x80,
                        length >> 14 & 0x7F | 0x80, length >> 21])  # 4-byte varint
        writer.write(header + len(topic).to_bytes(2, "big") + topic)
        for _ in range(30):  # 2 MiB in 30 slices, 0.1 s apart: a slow link
            writer.write(b"x" * ((2 << 20) // 30))
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.write(b"x" * ((2 << 20) % 30))
        await writer.drain()
        sent.set()
        await reader.read()  # until portless closes
        writer.close()
        closed.set()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    document = flow({"port": port, "protocol": "3.1.1", "keepalive": 1})
    async with server, FlowHarness(document) as h:
        await connected(h)
        start = len(h.events)
        await asyncio.wait_for(sent.wait(), 10)
        events = h.events[start:]
    await asyncio.wait_for(closed.wait(), 5)
    assert [e for e in events if e.node_id == "broker" and e.kind == "status"] == []
    assert [e.data["text"] for e in h.events if e.kind == "warning"] == [
        f"a message of {1 + 4 + length:,} bytes on cmd is above the maximum packet size "
        f"(1,048,576 bytes); skipped" for length in [2 + 3 + (2 << 20)]]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_qos1_messages_wait_for_the_send_buffer_of_a_stalled_broker(
        mosquitto: Mosquitto, protocol: str) -> None:
    """QoS 1 messages are not dropped when the send buffer is full: the sender waits, so
    a SIGSTOPped broker holds at most the buffer (1 MiB here) unsent in the process,
    whatever the in-flight window (500 over 3.1.1); the rest waits in the outbox and
    arrives when the broker reads again."""
    document = flow({"port": mosquitto.port, "protocol": protocol, "keepalive": 60,
                     "send_buffer_bytes": 1 << 20},
                    out(topic="device/valve-1/big", qos=1, format="text"))
    big = "x" * (256 << 10)
    async with Watcher(mosquitto.port, "device/valve-1/big", version=protocol) as operator, \
            FlowHarness(document) as h:
        await connected(h)
        broker = broker_node(h)
        unsent = []
        with stopped(mosquitto):
            for _ in range(120):  # 30 MiB: more than the kernel's buffers and the window
                h.inject("out", {"payload": big})
                await asyncio.sleep(0)
            await until(h, lambda: broker.outbox.count == 120)
            for _ in range(200):  # the sender runs meanwhile; look at what it left unsent
                await h.changed()
                unsent.append(buffered(broker))
        got = await operator.wait_for(120, timeout=30)
    assert max(unsent) <= (1 << 20) + (256 << 10) + 1024, max(unsent)
    assert broker.qos0_dropped == 0
    assert len(got) >= 120  # QoS 1: each at least once
