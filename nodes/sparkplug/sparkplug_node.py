"""sparkplug-node: one Sparkplug B 3.0 edge node, the device's one MQTT connection.

An mqtt-broker whose connection follows Sparkplug instead of portless's own MQTT habits:
a clean session (3.1.1) / Clean Start with session expiry 0 (MQTT 5); the will is
NDEATH with the bdSeq of that CONNECT (QoS 1, not retained) instead of a retained
"offline" state; NCMD, DCMD (QoS 1) and the primary host's STATE are subscribed before
NBIRTH; NBIRTH (seq 0), a DBIRTH per device, then NDATA/DDATA with seq + 1 (255 wraps
to 0); a clean stop publishes NDEATH, then disconnects. A subclass, not a mode of
mqtt-broker, so that each form shows only the fields that mean something.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from portless.nodes.link_state import LinkState
from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.nodes.mqtt.mqtt_link import disconnect
from portless.nodes.payload import preview
from portless.nodes.sparkplug.bdseq import BdSeq
from portless.nodes.sparkplug.datatypes import MetricValueError
from portless.nodes.sparkplug.metric import Metric
from portless.nodes.sparkplug.node_schema import OTHER_SERVERS, SCHEMA
from portless.nodes.sparkplug.topics import EdgeTopics, state_topic
from portless.runtime.config import items_with_defaults

if TYPE_CHECKING:  # protobuf (payload.py and what uses it) is imported when a node starts
    from portless.nodes.sparkplug.history import History
    from portless.nodes.sparkplug.metric_book import Entry

log = logging.getLogger("portless.sparkplug")

DISCONNECT_WITH_WILL = 0x04
"""MQTT 5 DISCONNECT reason code: the broker publishes the will."""
REBIRTH = "Node Control/Rebirth"
NEXT_SERVER = "Node Control/Next Server"
CommandListener = Callable[[str, Metric, str], None]
"""Called with (device, metric, metric name) for every command metric ("" device: NCMD)."""

def now_ms() -> int:
    return int(time.time() * 1000)


class NdeathWill:
    """The will gmqtt puts in CONNECT (it reads topic, payload, qos, retain, properties),
    with a payload made when gmqtt reads it: after the TCP (and TLS) connection is up, as
    the CONNECT packet is built. So bdSeq goes up with every CONNECT sent, not with every
    attempt that found no broker listening."""

    def __init__(self, topic: str, make_payload: Callable[[], bytes]) -> None:
        self.topic = topic.encode()
        self.qos, self.retain = 1, False
        self.properties: dict[str, Any] = {}
        self._make_payload = make_payload
        self._payload: bytes | None = None

    @property
    def payload(self) -> bytes:
        if self._payload is None:
            self._payload = self._make_payload()
        return self._payload


class SparkplugNode(MqttBroker):
    type = "sparkplug-node"
    schema = SCHEMA

    async def start(self) -> None:
        from portless.nodes.sparkplug.history import History  # protobuf: from here on
        from portless.nodes.sparkplug.metric_book import MetricBook
        from portless.nodes.sparkplug.payload import encode_payload

        self._encode = encode_payload  # bound once: data messages call it each time

        config = self.config
        twice = sorted({d for d in config["devices"] if config["devices"].count(d) > 1})
        if twice:  # not uniqueItems: the schema compiler leaves that keyword out
            raise ValueError(f"devices: {', '.join(map(repr, twice))} listed twice; a "
                             f"device id is unique within its edge node")
        self.topics = EdgeTopics(config["group_id"], config["edge_node_id"])
        self.book = MetricBook(config["devices"])
        self.bdseq = BdSeq(self.state_dir / "bdseq.json", self.warn)
        self.seq = 0
        self.born = False
        """NBIRTH sent on this connection (and, with a primary host, the host online)."""
        self.dropped = 0
        """Data messages dropped since start: no Sparkplug session to send them in."""
        self._host_online_at: int | None = None  # the latest STATE timestamp taken
        self._host_online = not config["primary_host_id"]  # births wait while False
        self._command_listeners: list[CommandListener] = []
        self._dead: set[str] = set()  # devices whose DDEATH was the last word
        self.history = History(self.state_dir / "history.sqlite3", config,
                               f"node {self.id} history", self.warn) \
            if config["store_and_forward"] else None
        self.history_dropped = 0
        """Kept values not sent: their metric is not in this session's births (a metric
        inferred from its first value, after a restart), or has another datatype now."""
        self._replay: asyncio.Task[None] | None = None
        self._leaving = False  # this session is ending: NDEATH said or about to be
        default_port = 8883 if config["tls"] else 1883
        self._servers = [(config["host"], config["port"] or default_port)] + [
            (server["host"], server["port"] or default_port)
            for server in items_with_defaults(OTHER_SERVERS, config["other_servers"])]
        self._next_server = 0
        await super().start()
        self.subscribe(self.topics.node("NCMD"), 1, self._on_command, self.warn)
        for device in config["devices"]:
            self.subscribe(self.topics.device("DCMD", device), 1, self._on_command,
                           self.warn)
        if config["primary_host_id"]:
            self.subscribe(state_topic(config["primary_host_id"]), 1, self._on_state,
                           self.warn)
        self.add_state_listener(self._on_link)

    async def stop(self) -> None:
        await super().stop()
        if self.history is not None:
            await self.history.close()

    # --- what sparkplug-out and sparkplug-in call ------------------------------------
    def publish_metric(self, device: str, name: str, value: Any,
                       timestamp: int | None = None) -> bool:
        """Send a metric's new value (NDATA, or DDATA of ``device``); a metric the last
        birth did not carry makes a rebirth instead. MetricValueError if the value does
        not fit the metric. Returns False if there is no session to send it in."""
        stamp = now_ms() if timestamp is None else timestamp
        entry, needs_birth = self.book.update(device, name, value, stamp)
        revived = device in self._dead
        self._dead.discard(device)
        history = self.history
        if history is not None and (not self.born or history.count):  # in order, after it
            if self.born and needs_birth:  # a new metric: its birth carries the value
                self.rebirth()
                return True
            return history.keep(device, name, entry.datatype or "", value, stamp)
        if not self.born:
            self.dropped += 1
            return False
        if needs_birth:
            self.rebirth()
        elif revived:  # its DBIRTH carries the new value
            self._device_birth(device, now_ms())
        else:
            self._send_data(device, entry)
        return True

    def device_death(self, device: str) -> None:
        """DDEATH of ``device`` (seq + 1): the host marks it and its metrics stale. It is
        left out of births until its next value, which brings its DBIRTH first."""
        if device in self._dead:
            return
        self._dead.add(device)
        if self.born:
            self._publish_certificate(self.topics.device("DDEATH", device),
                                      self._encode([], now_ms(), self._next_seq()))

    def add_command_listener(self, listener: CommandListener) -> Callable[[], None]:
        """Call ``listener`` for every command metric other than Node Control's."""
        self._command_listeners.append(listener)
        return lambda: self._command_listeners.remove(listener)

    def rebirth(self) -> None:
        """NBIRTH (seq 0, the bdSeq of this connection's CONNECT), then every DBIRTH."""
        bdseq = self.bdseq.current
        if bdseq is None or not self.state.connected or not self._host_online:
            return
        self.seq = 0
        now = now_ms()
        node_metrics = [Metric("Int64", bdseq, name="bdSeq", timestamp=now),
                        Metric("Boolean", False, name=REBIRTH, timestamp=now),
                        Metric("Boolean", False, name=NEXT_SERVER, timestamp=now),
                        *self.book.birth("", now)]
        self._publish_certificate(self.topics.node("NBIRTH"),
                                  self._encode(node_metrics, now, 0))
        for device in self.book.devices:
            if device not in self._dead:
                self._device_birth(device, now)
        self.born = True
        log.info("node %s: born as %s (bdSeq %d)", self.id, self.topics.node("NBIRTH"),
                 bdseq)
        if self.history is not None and self.history.count and self._replay is None:
            self._replay = self.spawn(self._send_history(self.history), "history")

    async def _send_history(self, history: History) -> None:
        """Send what was kept, oldest first, as data with is_historical, while born: a
        batch at a time, no bigger than the send buffer, each once it is empty, so none
        is dropped for a full buffer. Live values wait behind the history meanwhile."""
        from portless.nodes.sparkplug.history import BATCH

        size = min(BATCH, self.config["send_buffer_messages"])
        try:
            while self.born and history.count:
                for device, kept in history.batch(size):
                    self._send_kept(device, kept)
                await self._send_buffer_empty()
        finally:
            self._replay = None

    async def _send_buffer_empty(self) -> None:
        """Until the send buffer is empty or the session is over. Polled, as mqtt-out's
        QoS 1 messages wait for room: no event says the kernel took some."""
        batcher = self._batcher
        while self.born and batcher is not None and batcher is self._batcher \
                and not batcher.has_room(self.config["send_buffer_bytes"]):  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    def _send_kept(self, device: str, kept: Metric) -> None:
        try:
            entry = self.book.entry(device, kept.name or "")
        except MetricValueError:  # a device no longer configured
            entry = None
        if entry is None or not entry.born or entry.datatype != kept.datatype:
            self.history_dropped += 1
            return
        metric = Metric(kept.datatype, kept.value, alias=entry.alias, timestamp=kept.timestamp,
                        is_historical=True, with_datatype=False)
        self._publish_data(device, metric)

    def _device_birth(self, device: str, now: int) -> None:
        self._publish_certificate(
            self.topics.device("DBIRTH", device),
            self._encode(self.book.birth(device, now), now, self._next_seq()))

    def _publish_certificate(self, topic: str, payload: bytes) -> None:
        """A birth or DDEATH: QoS 0 like data, but never dropped for a full send buffer
        (the host could not read the data after a lost birth)."""
        self.publish(topic, payload, 0, False, {}, beyond_buffer=True)

    # --- the Sparkplug session -------------------------------------------------------
    def _last_will(self) -> gmqtt.Message:
        """NDEATH with the bdSeq of the CONNECT about to be made (one more than the
        last, saved first)."""
        return NdeathWill(self.topics.node("NDEATH"), self._ndeath_payload)

    def _ndeath_payload(self) -> bytes:
        return self._encode([Metric("Int64", self.bdseq.next(), name="bdSeq")], now_ms(),
                              None)

    def _session(self) -> tuple[bool, int]:
        return True, 0

    def _server(self) -> tuple[str, int]:
        """Each attempt after a session ended or an attempt failed goes to the next
        server of the list, the last followed by the first: Sparkplug's walk."""
        server = self._servers[self._next_server]
        self._next_server = (self._next_server + 1) % len(self._servers)
        return server

    def _session_started(self, client: gmqtt.Client) -> None:
        """Subscriptions are sent: be born now, or once the primary host is online."""
        self._host_online_at = None  # a new session reads the retained STATE afresh
        self._leaving = False
        host = self.config["primary_host_id"]
        self._host_online = not host
        if host:
            self.link.set(LinkState("yellow", f"connected; waiting for primary host "
                                              f"{host} to be online", connected=True))
        else:
            self.rebirth()

    def _on_link(self, state: LinkState) -> None:
        if not state.connected:
            self.born = False

    def _next_seq(self) -> int:
        self.seq = (self.seq + 1) % 256
        return self.seq

    def _send_data(self, device: str, entry: Entry) -> None:
        self._publish_data(device, Metric(entry.datatype or "", entry.value, alias=entry.alias,
                                          timestamp=entry.timestamp, with_datatype=False))

    def _publish_data(self, device: str, metric: Metric) -> None:
        topic = self.topics.device("DDATA", device) if device else self.topics.node("NDATA")
        seq = self._next_seq()
        if not self.publish(topic, self._encode([metric], now_ms(), seq), 0, False, {}):
            self.seq = (seq - 1) % 256  # not sent: the next message takes its seq, no gap

    def _on_command(self, topic: str, data: bytes, qos: int,
                    properties: dict[str, Any]) -> None:
        device = self.topics.command_device(topic)
        if device is None:
            return
        from portless.nodes.sparkplug.payload import decode_payload

        known = self.book.known(device)
        if not device:
            known.update({REBIRTH: "Boolean", NEXT_SERVER: "Boolean"})
        try:
            decoded = decode_payload(data, known)
        except MetricValueError as exc:
            self.warn(f"undecodable command on {topic}: {str(exc)[:200]}: {preview(data)}; "
                      f"dropped")
            return
        for metric in decoded.metrics:
            name = metric.name if metric.name is not None \
                else self.book.name_of(device, metric.alias or 0)
            if name is None:
                self.warn(f"command on {topic} for alias {metric.alias}, which no metric "
                          f"has; dropped")
            elif not device and name == REBIRTH:
                if metric.value is True:
                    self.rebirth()
            elif not device and name == NEXT_SERVER:
                if metric.value is True:
                    self.spawn(self._end_session(f"{NEXT_SERVER} from the host"),
                               "next server")
            else:
                for listener in list(self._command_listeners):
                    listener(device, metric, name)

    def _on_state(self, topic: str, data: bytes, qos: int,
                  properties: dict[str, Any]) -> None:
        """The primary host's STATE (3.0 JSON): online → births; offline → NDEATH,
        disconnect, start again. One older than the latest taken is ignored."""
        try:
            state = json.loads(data)
            online, timestamp = state["online"], state["timestamp"]
            if not isinstance(online, bool) or not isinstance(timestamp, int) \
                    or isinstance(timestamp, bool):
                raise TypeError("online must be true or false, timestamp an integer")
        except (ValueError, KeyError, TypeError) as exc:
            self.warn(f"unreadable STATE on {topic} ({str(exc)[:100]}): {preview(data)}; "
                      f"ignored")
            return
        if self._host_online_at is not None and timestamp < self._host_online_at:
            return
        self._host_online_at = timestamp
        was_online, self._host_online = self._host_online, online
        if online and not was_online and self.state.connected:
            self.link.connected()
            self.rebirth()
        elif not online and self.state.connected and (was_online or len(self._servers) > 1):
            # Walk on: with one server, wait here for the host instead of reconnecting.
            self.spawn(self._end_session(f"primary host {self.config['primary_host_id']} "
                                         f"is offline"), "primary host offline")

    async def _say_will(self) -> None:
        """NDEATH before a clean DISCONNECT: published over MQTT 3.1.1; over MQTT 5 the
        DISCONNECT asks the broker to publish the will instead (reason code 4, as the
        specification requires), so the host gets it once."""
        if self.protocol != MQTTv50:
            await super()._say_will()

    def _farewell_reason(self) -> int:
        return DISCONNECT_WITH_WILL if self.protocol == MQTTv50 else 0

    async def _end_session(self, reason: str) -> None:
        """NDEATH, a clean disconnect; the connection loop then connects again, to the
        next server if there are several."""
        if self._leaving:
            return
        self._leaving = True
        self.born = False
        if self._ending is not None:
            host, port = self._servers[self._next_server]
            self._ending.end(f"{reason}; on to {host}:{port}" if len(self._servers) > 1
                             else f"{reason}; connecting again")
        await self._say_will()
        client = self._client
        if client is not None:
            await disconnect(client, self._farewell_reason())
