"""mqtt-broker: the device's one outbound MQTT connection, shared by mqtt-out and mqtt-in.

gmqtt is the transport, not the store. Measured with gmqtt 0.8.0 against mosquitto
2.0.11, and why this module is shaped as it is:

- ``publish()`` returns nothing and has no acknowledgement callback; PUBACK/PUBCOMP end
  in ``persistent_storage.remove_message_by_mid(mid)``. ``AckTracker`` is that storage:
  it maps packet ids to outbox records and deletes a record on its acknowledgement.
- Over MQTT 5 gmqtt honours the broker's receive maximum (mosquitto says 20) by raising
  ``OverflowError`` on the 20th unacknowledged publish. The sender keeps at most
  receive maximum - 2 in flight (one id spare for the birth message and subscriptions).
- Publishing while disconnected does not raise: gmqtt keeps the packet in memory and,
  after a reconnect without a saved session, silently discards it and, over MQTT 5,
  never frees its packet id, so every later QoS 1 publish raises for good. So we publish
  only while connected, use a fresh client per connection, and after every (re)connect
  resend whatever the outbox still holds, oldest first.
- gmqtt's own reconnect is switched off (a negative retry count it never reaches); this
  module reconnects with exponential backoff and jitter, and disconnects a client
  before dropping it, so no reconnect is left pending at shutdown.
- gmqtt does not read the reason code of a PUBACK. Over MQTT 5 a broker refuses a
  publish the ACL denies with PUBACK 0x87; the tracker reads it, so the outbox drops
  that message with a warning instead of resending it forever. Over MQTT 3.1.1 the
  broker silently drops such a publish and nobody can tell.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50, MQTTv311
from gmqtt.mqtt.handler import MQTTConnectError
from gmqtt.storage import PersistentStorage

from portless.nodes.outbox import Outbox, Record
from portless.runtime import Node
from portless.runtime.node import Fill

log = logging.getLogger("portless.mqtt")
gmqtt_log = logging.getLogger("portless.mqtt.gmqtt")


class _GmqttNarration(logging.Filter):
    """gmqtt logs every failed attempt and lost connection at WARNING and ERROR, some of it
    wrong here ("CONNACK 0x87 is permanent, not reconnecting", "max number of failed
    connection attempts achieved": this module reconnects itself), and tracebacks of
    resets. The node says what matters once per change of link state, so gmqtt's lines
    are DEBUG: shown with --log-level debug, dropped otherwise."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.CRITICAL:
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


# gmqtt's client and handler log through gmqtt_log (see _make_client); its protocol
# module through its own logger.
for _name in ("portless.mqtt.gmqtt", "gmqtt.mqtt.protocol"):
    logging.getLogger(_name).addFilter(_GmqttNarration())

MessageHandler = Callable[[str, bytes, int, dict[str, Any]], None]
StateListener = Callable[["LinkState"], None]

_REFUSALS = {
    1: "refused: protocol version not supported", 132: "refused: protocol version not "
    "supported", 2: "refused: client id rejected", 133: "refused: client id rejected",
    3: "refused: server unavailable", 136: "refused: server unavailable",
    137: "refused: server busy", 138: "refused: banned",
    4: "refused: bad username or password", 134: "refused: bad username or password",
    # mosquitto answers a wrong password with this too, never with "bad username".
    5: "refused: not authorised (check the username and password)",
    135: "refused: not authorised (check the username and password)",
}


@dataclass(frozen=True)
class LinkState:
    """What the connection is doing, as nodes show it under themselves."""

    fill: Fill
    text: str
    connected: bool = False


class MqttBroker(Node):
    type = "mqtt-broker"
    category = "network"
    color = "#d8bfd8"
    icon = "bridge"
    inputs = 0
    outputs = 0
    shared = True
    schema = {
        "title": "MQTT broker",
        "description": (
            "One outbound MQTT connection (TLS, username and password), shared by the "
            "mqtt-out and mqtt-in nodes that name it. Says \"online\" on a retained state "
            "topic at every connect, leaves a retained \"offline\" last will for when the "
            "device vanishes, keeps the link up with the MQTT keepalive, reconnects with "
            "backoff, and keeps QoS 1/2 messages in a durable outbox until acknowledged."),
        "type": "object",
        "additionalProperties": False,
        "required": ["host"],
        "properties": {
            "host": {"title": "Host", "type": "string", "minLength": 1,
                     "description": "Broker host name or address."},
            "port": {"title": "Port", "type": ["integer", "null"], "minimum": 1,
                     "maximum": 65535, "default": None,
                     "description": "Broker port; null means 1883, or 8883 with TLS."},
            "protocol": {"title": "Protocol", "enum": ["5", "3.1.1"], "default": "5",
                         "description": "MQTT protocol version."},
            "client_id": {"title": "Client id", "type": "string", "default": "",
                          "description": "Empty: portless-<host name>-<node id>, stable "
                                         "across restarts so the broker keeps the session."},
            "username": {"title": "Username", "type": "string", "default": "",
                         "description": "Empty for none. Use ${ENV} to keep it out of "
                                        "the flow file."},
            "password": {"title": "Password", "type": "string", "default": "",
                         "writeOnly": True,
                         "description": "Use ${ENV}; never logged, never shown back."},
            "tls": {
                "title": "TLS", "default": False,
                "description": "false for plain TCP, or the TLS settings. Certificates are "
                               "verified by default.",
                "oneOf": [
                    {"const": False},
                    {"type": "object", "additionalProperties": False, "properties": {
                        "ca_file": {"title": "CA file", "type": "string", "default": "",
                                    "description": "PEM file of the CA that signed the "
                                                   "broker's certificate; empty: the "
                                                   "system's CAs."},
                        "cert_file": {"title": "Client certificate", "type": "string",
                                      "default": "",
                                      "description": "PEM client certificate, if the "
                                                     "broker asks for one."},
                        "key_file": {"title": "Client key", "type": "string",
                                     "default": "", "description": "Its private key."},
                        "verify": {"title": "Verify certificate", "type": "boolean",
                                   "default": True,
                                   "description": "Turning this off is for tests only; "
                                                  "it logs a loud warning."},
                        "server_name": {"title": "Server name", "type": "string",
                                        "default": "",
                                        "description": "Name to expect in the broker's "
                                                       "certificate; empty: the host."},
                    }},
                ],
            },
            "keepalive": {"title": "Keepalive (s)", "type": "integer", "minimum": 0,
                          "maximum": 65535, "default": 60,
                          "description": "PINGREQ interval when idle (the 2-byte "
                                         "heartbeat); 0 turns it off."},
            "clean_start": {"title": "Clean start", "type": "boolean", "default": False,
                            "description": "false keeps the session on the broker, so QoS "
                                           "1/2 subscriptions get what was sent while the "
                                           "device was away."},
            "session_expiry": {"title": "Session expiry (s)", "type": "integer",
                               "minimum": 0, "maximum": 4294967295, "default": 86400,
                               "description": "MQTT 5: how long the broker keeps the "
                                              "session after a disconnect."},
            "state_topic": {"title": "State topic", "type": "string", "default": "",
                            "description": "Retained birth/will topic, e.g. "
                                           "device/valve-1/state; empty for none."},
            "birth_payload": {"title": "Birth payload", "type": "string",
                              "default": "online",
                              "description": "Published retained on every connect."},
            "will_payload": {"title": "Will payload", "type": "string", "default": "offline",
                             "description": "Published retained by the broker when the "
                                            "device vanishes, and by portless on a "
                                            "clean stop."},
            "connect_timeout": {"title": "Connect timeout (s)", "type": "number",
                                "exclusiveMinimum": 0, "default": 10,
                                "description": "Give up a connection attempt after this."},
            "reconnect_min_delay": {"title": "First reconnect delay (s)", "type": "number",
                                    "exclusiveMinimum": 0, "default": 0.5,
                                    "description": "Delay before the first retry; doubles "
                                                   "with each failure, with jitter."},
            "reconnect_max_delay": {"title": "Longest reconnect delay (s)",
                                    "type": "number", "exclusiveMinimum": 0, "default": 30,
                                    "description": "The doubling stops here."},
            "outbox_messages": {"title": "Outbox limit (messages)", "type": "integer",
                                "minimum": 1, "default": 100000,
                                "description": "Most QoS 1/2 messages kept while waiting."},
            "outbox_bytes": {"title": "Outbox limit (bytes)", "type": "integer",
                             "minimum": 1024, "default": 67108864,
                             "description": "Most payload and topic bytes kept while "
                                            "waiting."},
            "outbox_full": {"title": "When the outbox is full",
                            "enum": ["drop-oldest", "refuse-new"], "default": "drop-oldest",
                            "description": "drop-oldest deletes the oldest waiting "
                                           "messages; refuse-new drops the new one. Both "
                                           "are counted and logged."},
        },
    }

    async def start(self) -> None:
        config = self.config
        self.protocol = MQTTv50 if config["protocol"] == "5" else MQTTv311
        self.client_id = config["client_id"] or f"portless-{socket.gethostname()}-{self.id}"
        self.port = config["port"] or (8883 if config["tls"] else 1883)
        self.ssl_context = make_ssl_context(config["tls"], self)
        self.outbox = Outbox(self.state_dir / "outbox.sqlite3",
                             max_messages=config["outbox_messages"],
                             max_bytes=config["outbox_bytes"], policy=config["outbox_full"],
                             name=f"node {self.id}", on_problem=self.warn)
        self.state = LinkState("yellow", "connecting")
        self.qos0_dropped = 0
        self._listeners: list[StateListener] = []
        self._subscriptions: list[Subscription] = []
        self._client: gmqtt.Client | None = None
        self._tracker: AckTracker | None = None
        self._pending_subacks: dict[int, list[Subscription]] = {}
        self._reported = ""
        self.spawn(self._run(), "connection")

    async def stop(self) -> None:
        client, tracker = self._client, self._tracker
        if client and tracker and self.state.connected and self.config["state_topic"]:
            client.publish(self.config["state_topic"], self.config["will_payload"].encode(),
                           qos=1, retain=True)
            try:
                await asyncio.wait_for(tracker.drained(), 2.0)
            except TimeoutError:
                log.warning("node %s: no acknowledgement of the offline state in 2 s", self.id)
        await self._release()  # stop the connection loop before closing its client
        if client is not None:
            await _disconnect(client)
        self.outbox.close()

    # --- what mqtt-out and mqtt-in call -----------------------------------------------
    def publish(self, topic: str, payload: bytes, qos: int, retain: bool,
                properties: dict[str, Any]) -> bool:
        """Send a message: QoS 0 now if connected (else dropped and counted), QoS 1/2 via
        the outbox. Returns False if the message was dropped."""
        if qos == 0:
            if self._client is None or not self.state.connected:
                self.qos0_dropped += 1
                return False
            self._client.publish(topic, payload, qos=0, retain=retain,
                                 **self._mqtt5_only(properties))
            return True
        return self.outbox.add(topic, payload, qos, retain, properties)

    def subscribe(self, topic_filter: str, qos: int, handler: MessageHandler,
                  on_refused: Callable[[str], None]) -> Subscription:
        """Receive messages matching ``topic_filter``, on this and every later connection."""
        subscription = Subscription(topic_filter, qos, handler, on_refused)
        self._subscriptions.append(subscription)
        if self._client is not None and self.state.connected:
            self._send_subscribe(self._client, subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription, keep_on_broker: bool = False) -> None:
        """Stop delivering to ``subscription``; unless ``keep_on_broker``, also tell the
        broker (when no other node uses the same filter)."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            if not keep_on_broker and self._client is not None and self.state.connected \
                    and not any(
                    s.topic_filter == subscription.topic_filter for s in self._subscriptions):
                self._client.unsubscribe(subscription.topic_filter)

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every change of the link state (and now, once)."""
        self._listeners.append(listener)
        listener(self.state)
        return lambda: self._listeners.remove(listener) if listener in self._listeners \
            else None

    # --- the connection loop -------------------------------------------------------------
    async def _run(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        delay = config["reconnect_min_delay"]
        while True:
            lost = asyncio.Event()
            tracker = AckTracker(self.outbox, self)
            client = self._make_client(tracker, lost)
            self._set_state(LinkState("yellow", "connecting"))
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a
                # cancellation (stop) that arrives as the attempt fails, and the loop
                # would go on connecting until the engine's stop timeout.
                async with asyncio.timeout(config["connect_timeout"]):
                    await client.connect(config["host"], self.port,
                                         ssl=self.ssl_context or False,
                                         keepalive=config["keepalive"], version=self.protocol)
            except Exception as exc:  # any failure to connect means: wait, then retry
                await _disconnect(client)
                self._set_state(LinkState("red", self._describe(exc)))
            else:
                up_since = loop.time()
                await self._stay_connected(client, tracker, lost)
                if loop.time() - up_since >= config["reconnect_max_delay"]:
                    delay = config["reconnect_min_delay"]  # it was a good link: retry soon
            # Backoff also after a lost link, so a broker that drops us at once (a client
            # id taken by another device, say) is not hammered.
            await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))  # equal jitter
            delay = min(delay * 2, config["reconnect_max_delay"])

    async def _stay_connected(self, client: gmqtt.Client, tracker: AckTracker,
                              lost: asyncio.Event) -> None:
        """Serve one connection until the broker or the network drops it."""
        self._client, self._tracker = client, tracker
        self._connected(client)
        sender = self.spawn(self._send_outbox(client, tracker), "outbox sender")
        try:
            await lost.wait()
        finally:
            sender.cancel()
            self._client = self._tracker = None
            self.outbox.connection_lost()
        self._set_state(LinkState("red", "disconnected"))
        await _disconnect(client)

    def _make_client(self, tracker: AckTracker, lost: asyncio.Event) -> gmqtt.Client:
        config = self.config
        will = None
        if config["state_topic"]:
            will = gmqtt.Message(config["state_topic"], config["will_payload"], qos=1,
                                 retain=True)
        properties: dict[str, Any] = {}
        if self.protocol == MQTTv50:
            properties["session_expiry_interval"] = (
                0 if config["clean_start"] else config["session_expiry"])
        client = gmqtt.Client(self.client_id, clean_session=config["clean_start"],
                              will_message=will, persistent_storage=tracker,
                              logger=gmqtt_log, **properties)
        client.set_config({"reconnect_retries": -2, "reconnect_delay": 0})
        if config["username"]:
            client.set_auth_credentials(config["username"], config["password"] or None)
        client.on_message = self._on_message
        client.on_disconnect = lambda *_: lost.set()
        client.on_subscribe = self._on_subscribe
        tracker.watch_reason_codes(client)
        return client

    def _connected(self, client: gmqtt.Client) -> None:
        config = self.config
        _batch_writes(client)
        if config["state_topic"]:
            client.publish(config["state_topic"], config["birth_payload"].encode(), qos=1,
                           retain=True)
        self._pending_subacks.clear()
        for subscription in self._subscriptions:
            self._send_subscribe(client, subscription)
        log.info("node %s: connected to %s:%d as %s (MQTT %s)", self.id, config["host"],
                 self.port, self.client_id, config["protocol"])
        self._set_state(LinkState("green", "connected", connected=True))

    def _send_subscribe(self, client: gmqtt.Client, subscription: Subscription) -> None:
        # Over MQTT 5 a broker may send one copy of a message per matching subscription
        # (mosquitto 2.0 does); the identifier says which subscription each copy is for.
        identifier = ({"subscription_identifier": subscription.identifier}
                      if self.protocol == MQTTv50 else {})
        mid = client.subscribe(subscription.topic_filter, qos=subscription.qos, **identifier)
        self._pending_subacks.setdefault(mid, []).append(subscription)

    def _on_subscribe(self, client: gmqtt.Client, mid: int, codes: Any,
                      properties: Any) -> None:
        for subscription in self._pending_subacks.pop(mid, []):
            refused = [code for code in codes if code >= 0x80]
            if refused:
                reason = "not authorised" if refused[0] in (0x80, 0x87) \
                    else f"reason code {refused[0]:#x}"
                subscription.on_refused(f"subscription to {subscription.topic_filter} "
                                        f"refused by the broker: {reason}")

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                    properties: dict[str, Any]) -> int:
        identifiers = properties.get("subscription_identifier")
        for subscription in self._subscriptions:
            if (subscription.identifier in identifiers if identifiers
                    else subscription.matches(topic)):
                subscription.handler(topic, payload, qos, properties)
        return 0

    async def _send_outbox(self, client: gmqtt.Client, tracker: AckTracker) -> None:
        """Publish the outbox in order, keeping up to receive maximum - 2 in flight."""
        outbox = self.outbox
        window = max(1, tracker.receive_maximum(client) - 2)
        cursor = 0
        while True:
            records = outbox.read(cursor, 500)
            if not records:
                outbox.ready.clear()
                records = outbox.read(cursor, 500)
                if not records:
                    await outbox.ready.wait()
                    continue
            for record in records:
                while len(tracker.in_flight) >= window:
                    await tracker.slot_freed()
                cursor = record.seq
                if tracker.expect(record):
                    client.publish(record.topic, record.payload, qos=record.qos,
                                   retain=record.retain, **self._mqtt5_only(record.properties))
            await asyncio.sleep(0)

    def _mqtt5_only(self, properties: dict[str, Any]) -> dict[str, Any]:
        """Publish properties exist only in MQTT 5; over 3.1.1 they are left out."""
        return properties if self.protocol == MQTTv50 else {}

    # --- state --------------------------------------------------------------------------
    def _set_state(self, state: LinkState) -> None:
        if state == self.state:
            return
        self.state = state
        self.status(state.fill, state.text, "dot" if state.connected else "ring")
        if not state.connected and state.text != self._reported and state.fill == "red":
            self._reported = state.text
            log.warning("node %s: %s:%d: %s", self.id, self.config["host"], self.port,
                        state.text)
        elif state.connected:
            self._reported = ""
        for listener in tuple(self._listeners):
            listener(state)

    def _describe(self, exc: BaseException) -> str:
        """One line a user can act on, for a failed connection attempt."""
        host = self.config["host"]
        if isinstance(exc, MQTTConnectError):
            code = getattr(exc, "_code", None)
            return _REFUSALS.get(code, f"refused: {exc.message}") if isinstance(code, int) \
                else f"refused: {exc}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return f"TLS: certificate verify failed: {exc.verify_message}"
        if isinstance(exc, ssl.SSLError):
            return f"TLS: {exc.reason or exc}"
        if isinstance(exc, socket.gaierror):
            return f"DNS failure: cannot resolve {host}"
        if isinstance(exc, ConnectionRefusedError):
            return f"connection refused by {host}:{self.port}"
        if isinstance(exc, TimeoutError):
            return f"no answer from {host}:{self.port} within {self.config['connect_timeout']} s"
        if isinstance(exc, OSError):
            return f"network error: {exc.strerror or exc}"
        return f"{type(exc).__name__}: {exc}"


class Subscription:
    """One mqtt-in node's interest in a topic filter."""

    def __init__(self, topic_filter: str, qos: int, handler: MessageHandler,
                 on_refused: Callable[[str], None]) -> None:
        self.topic_filter = topic_filter
        self.qos = qos
        self.handler = handler
        self.on_refused = on_refused
        # MQTT 5 subscription identifier (1 .. 268435455): the same for the same filter,
        # also across restarts, since a persistent session stamps queued messages with it.
        self.identifier = zlib.crc32(topic_filter.encode()) % 268_435_455 + 1
        pattern = topic_filter
        if pattern.startswith("$share/"):  # $share/group/filter: messages carry the filter's topics
            pattern = pattern.split("/", 2)[2]
        self._levels = pattern.split("/")

    def matches(self, topic: str) -> bool:
        """MQTT topic matching: ``+`` is one level, a final ``#`` any number (even none)."""
        levels = topic.split("/")
        pattern = self._levels
        if topic.startswith("$") and pattern[0] in ("+", "#"):
            return False  # wildcards do not match $SYS-style topics
        for index, part in enumerate(pattern):
            if part == "#":
                return True
            if index >= len(levels) or (part != "+" and part != levels[index]):
                return False
        return len(levels) == len(pattern)


class AckTracker(PersistentStorage):  # type: ignore[misc]
    """gmqtt's in-flight store, used as an acknowledgement hook: maps packet ids to
    outbox records and tells the outbox when the broker acknowledged one."""

    def __init__(self, outbox: Outbox, broker: MqttBroker) -> None:
        super().__init__()
        self.outbox = outbox
        self.broker = broker
        self.in_flight: dict[int, Record] = {}
        self._expected: Record | None = None
        self._freed = asyncio.Event()
        self._untracked: set[int] = set()
        self._drained = asyncio.Event()

    def expect(self, record: Record) -> bool:
        """The next QoS 1/2 publish carries ``record``; False if the outbox dropped it."""
        if not self.outbox.sending(record):
            return False
        self._expected = record
        return True

    def push_message(self, mid: int, raw_package: bytes) -> None:
        # Called on every QoS 1/2 publish, and again for QoS 2 when PUBREC swaps the
        # PUBLISH for its PUBREL (same mid). The raw packet is not kept: a fresh client
        # per connection never replays it; the outbox does.
        record, self._expected = self._expected, None
        if record is not None:
            self.in_flight[mid] = record
        elif mid not in self.in_flight:
            self._untracked.add(mid)
            self._drained.clear()

    def remove_message_by_mid(self, mid: int) -> None:
        record = self.in_flight.pop(mid, None)
        if record is not None:
            self.outbox.acked(record)
            self._freed.set()
        elif mid in self._untracked:
            self._untracked.discard(mid)
            if not self._untracked:
                self._drained.set()

    async def slot_freed(self) -> None:
        self._freed.clear()
        await self._freed.wait()

    async def drained(self) -> None:
        """Wait until the untracked publishes (birth, offline state) are acknowledged."""
        if self._untracked:
            await self._drained.wait()

    @property
    def is_empty(self) -> bool:
        return True

    def get_all(self) -> list[tuple[int, bytes]]:
        return []

    def clear(self) -> None:
        pass

    def receive_maximum(self, client: gmqtt.Client) -> int:
        """The broker's receive maximum from CONNACK (MQTT 5), else gmqtt's default."""
        return int(client._package_handler.id_generator._max)

    def watch_reason_codes(self, client: gmqtt.Client) -> None:
        """Read PUBACK/PUBREC reason codes, which gmqtt ignores (see module docstring)."""
        handler = client._package_handler
        for name in ("_handle_puback_packet", "_handle_pubrec_packet"):
            original = getattr(handler, name)
            setattr(handler, name, self._checking(original))

    def _checking(self, original: Callable[[int, bytes], None]
                  ) -> Callable[[int, bytes], None]:
        def check(cmd: int, packet: bytes) -> None:
            if len(packet) > 2 and packet[2] >= 0x80:
                mid = int.from_bytes(packet[:2], "big")
                record = self.in_flight.get(mid)
                if record is not None:
                    reason = "not authorised" if packet[2] == 0x87 else f"{packet[2]:#x}"
                    self.broker.warn(f"publish to {record.topic} refused by the broker: "
                                     f"{reason}; message dropped")
            original(cmd, packet)
        return check


def make_ssl_context(tls: Any, node: Node) -> ssl.SSLContext | None:
    """The TLS context for the broker's ``tls`` config (None for plain TCP)."""
    if not tls:
        return None
    context = _ServerNameContext(ssl.PROTOCOL_TLS_CLIENT)
    context.server_name = tls["server_name"] or None
    if tls["ca_file"]:
        _load("tls.ca_file", tls["ca_file"],
              lambda: context.load_verify_locations(cafile=tls["ca_file"]))
    else:
        context.load_default_certs()
    if tls["cert_file"]:
        _load("tls.cert_file", tls["cert_file"],
              lambda: context.load_cert_chain(tls["cert_file"], tls["key_file"] or None))
    if not tls["verify"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        log.warning("node %s: TLS CERTIFICATE VERIFICATION IS OFF: anyone on the path can "
                    "read and change this connection. Use it for tests only.", node.id)
        node.warn("TLS certificate verification is off")
    return context


def _load(field: str, path: str, load: Callable[[], None]) -> None:
    """Load a certificate file; a failure names the field and the file."""
    try:
        load()
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{field} {path}: {exc.strerror or exc}") from None


class _ServerNameContext(ssl.SSLContext):
    """Checks the certificate against ``server_name`` instead of the host connected to
    (gmqtt passes no ``server_hostname``), for brokers reached by address or tunnel."""

    server_name: str | None = None

    def wrap_bio(self, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                 server_side: bool = False, server_hostname: str | bytes | None = None,
                 session: ssl.SSLSession | None = None) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side,
                                self.server_name or server_hostname, session)


class _WriteBatcher:
    """Stands in for a connected client's transport: what gmqtt writes in one turn of
    the event loop leaves in one ``transport.write`` at the end of the turn.

    gmqtt writes every packet at once, and asyncio sends at once while its buffer is
    empty, so each publish cost a send() system call: about half of a QoS 0 publish,
    and a third of the sender's time at QoS 1 (bench/mqtt.py)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._chunks: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes) -> None:
        self._chunks.append(data)
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_handle = None
        if self._chunks:
            data = b"".join(self._chunks)
            self._chunks.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()  # DISCONNECT and whatever came before it go out first
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _batch_writes(client: gmqtt.Client) -> None:
    """Put a _WriteBatcher between a connected client and its transport (both places
    gmqtt writes from: the connection and its protocol)."""
    connection = client._connection
    batcher = _WriteBatcher(connection._transport)
    connection._transport = batcher
    connection._protocol._transport = batcher


async def _disconnect(client: gmqtt.Client) -> None:
    """Close a client for good: no reconnect left pending, no exception escaping."""
    try:
        async with asyncio.timeout(2.0):  # not wait_for: it can lose a cancellation
            await client.disconnect()
    except Exception as exc:
        log.debug("disconnect: %s", exc)
