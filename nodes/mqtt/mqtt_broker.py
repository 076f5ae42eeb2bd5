"""mqtt-broker: the device's one outbound MQTT connection, shared by mqtt-out and mqtt-in.

The node owns the connection loop (connect, birth, subscriptions, the outbox sender,
backoff with jitter after a failure or a lost link) and the link state that nodes show.
How it works around gmqtt, and why, is in mqtt_link.py; TLS is in ../tls.py;
failures in words in mqtt_reasons.py; subscriptions and topic matching in
mqtt_subscription.py; the transport (send buffer, keepalive) in mqtt_transport.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTCommands, MQTTv50, MQTTv311

from portless.nodes.connection_fields import credential_fields, reconnect_fields
from portless.nodes.link_state import CONNECTING, LinkState, StateListener
from portless.nodes.mqtt.mqtt_inflight import AckTracker
from portless.nodes.mqtt.mqtt_link import LinkEnding, connect, disconnect, gmqtt_log
from portless.nodes.mqtt.mqtt_packet_size import SMALLEST_MAXIMUM, limit_inbound, publish_head
from portless.nodes.mqtt.mqtt_publish import PublishEncoder
from portless.nodes.mqtt.mqtt_reasons import (
    SESSION_TAKEN_OVER,
    closed_quickly,
    describe_ending,
    describe_failure,
)
from portless.nodes.mqtt.mqtt_status import BrokerLinkStatus
from portless.nodes.mqtt.mqtt_subscription import MessageHandler, Subscription, Subscriptions
from portless.nodes.mqtt.mqtt_transport import WriteBatcher, batch_writes, watch_keepalive
from portless.nodes.mqtt.outbox import Outbox
from portless.nodes.mqtt.outbox_identity import BrokerIdentity
from portless.nodes.reconnect import Backoff
from portless.nodes.tls import make_ssl_context, tls_schema
from portless.runtime import Node

log = logging.getLogger("portless.mqtt")

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
            # x-destination: where the password goes; a masked password sent back
            # from the editor is kept only while these stay (docs/security.md).
            "host": {"title": "Host", "type": "string", "minLength": 1, "x-destination": True,
                     "description": "Broker host name or address."},
            "port": {"title": "Port", "type": ["integer", "null"], "minimum": 1,
                     "x-destination": True,
                     "maximum": 65535, "default": None,
                     "description": "Broker port; null means 1883, or 8883 with TLS."},
            "protocol": {"title": "Protocol", "enum": ["5", "3.1.1"], "default": "5",
                         "description": "MQTT protocol version."},
            "client_id": {"title": "Client id", "type": "string", "default": "",
                          "description": "Empty: portless-<host name>-<node id>, stable "
                                         "across restarts so the broker keeps the session."},
            **credential_fields("Empty for none."),
            "tls": tls_schema("broker", "plain TCP"),
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
            **reconnect_fields(),
            "inflight_window": {"title": "In-flight window (MQTT 3.1.1)", "type": "integer",
                                "minimum": 1, "maximum": 65535, "default": 1000,
                                "description": "Most QoS 1/2 messages sent and not yet "
                                               "acknowledged over MQTT 3.1.1, which has "
                                               "no receive maximum; also the most sent "
                                               "again after a lost connection. Over "
                                               "MQTT 5 the broker's receive maximum "
                                               "sets it."},
            "send_buffer_messages": {
                "title": "Send buffer (messages)", "type": "integer", "minimum": 1,
                "default": 10000,
                "description": "Most packets waiting to be sent on the connection (when the "
                               "broker reads slower than the flow publishes, or not at "
                               "all); QoS 0 messages beyond it are dropped and counted. "
                               "QoS 1/2 wait in the outbox instead."},
            "send_buffer_bytes": {
                "title": "Send buffer (bytes)", "type": "integer", "minimum": 1024,
                "default": 4194304,
                "description": "Most bytes waiting to be sent on the connection; bounds "
                               "the memory a stalled broker can cost. A bigger message "
                               "still goes when the buffer is empty."},
            "maximum_packet_size": {
                "title": "Maximum packet size (bytes)", "type": "integer",
                "minimum": SMALLEST_MAXIMUM, "maximum": 268435460, "default": 1048576,
                "description": "Largest MQTT packet taken from the broker, so one message "
                               "cannot exhaust the device's memory. MQTT 5 tells the "
                               "broker, which then does not send bigger ones; over 3.1.1 "
                               "a bigger message is skipped as it arrives, acknowledged, "
                               "and warned about."},
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
            "outbox_flush_interval": {
                "title": "Outbox flush interval (s)", "type": "number", "minimum": 0,
                "maximum": 1, "default": 0.05,
                "description": "New QoS 1/2 messages wait up to this long to be written "
                               "to disk together (1,000 at once sooner; acknowledged "
                               "ones are deleted within a second): fewer writes wear "
                               "flash less. While connected a message is sent at once, "
                               "and one the broker acknowledges within the interval is "
                               "never written. A message counts as accepted once "
                               "written, so a SIGKILL may lose this much of those not "
                               "yet acknowledged; 0 writes every event-loop turn."},
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
                             name=f"node {self.id}", on_problem=self.warn,
                             broker=BrokerIdentity(config["host"], self.port, self.client_id),
                             flush_interval=config["outbox_flush_interval"])
        self.link = BrokerLinkStatus(self, f"{config['host']}:{self.port}",
                                     f"{config['send_buffer_messages']} messages, "
                                     f"{config['send_buffer_bytes']} bytes")
        self._subscriptions = Subscriptions(mqtt5=self.protocol == MQTTv50)
        self._client: gmqtt.Client | None = None
        self._batcher: WriteBatcher | None = None
        self._encoder = PublishEncoder(self.protocol)
        self._connection: Any = None  # the connected client's gmqtt connection
        self._tracker: AckTracker | None = None
        self._quick_closes = 0  # links the broker closed at once without a reason, in a row
        self._will: gmqtt.Message | None = None  # the last will of the latest connection
        self._ending: LinkEnding | None = None  # how the current connection ends
        self.spawn(self._run(), "connection")

    async def stop(self) -> None:
        client = self._client
        await self._say_will()
        await self._release()  # stop the connection loop before closing its client
        if client is not None:
            await disconnect(client, self._farewell_reason())
        await self.outbox.close()

    def _farewell_reason(self) -> int:
        """The reason code of a clean DISCONNECT: 0, normal (the will was said already)."""
        return 0

    async def _say_will(self) -> None:
        """Publish this connection's will ourselves (QoS 1, waiting up to 2 s for the
        acknowledgement) before a clean DISCONNECT, which makes the broker drop it."""
        client, tracker, will = self._client, self._tracker, self._will
        if not (client and tracker and self.state.connected and will is not None):
            return
        try:
            async with asyncio.timeout(2.0):
                await tracker.reserve_slot()  # the receive maximum counts it too
                client.publish(will.topic.decode(), will.payload, qos=1, retain=will.retain)
                await tracker.drained()
        except TimeoutError:
            log.warning("node %s: no acknowledgement of %s in 2 s", self.id,
                        will.topic.decode())

    # --- what mqtt-out and mqtt-in call -----------------------------------------------
    def publish(self, topic: str, payload: bytes, qos: int, retain: bool,
                properties: dict[str, Any], beyond_buffer: bool = False) -> bool:
        """Send a message: QoS 0 now if connected (else dropped and counted), QoS 1/2 via
        the outbox. Returns False if the message was dropped. ``beyond_buffer``: a QoS 0
        message that goes even when the send buffer is full (a Sparkplug birth or death:
        a few packets the session cannot go on without)."""
        if qos == 0:
            batcher = self._batcher
            if batcher is None or not self.state.connected or not (
                    beyond_buffer or batcher.has_room(len(payload) + len(topic))):
                self.link.drop_qos0()
                return False
            packet = self._encoder.encode(topic, payload, 0, retain, 0, properties)
            if packet is None:
                self.warn(f"message of {len(payload)} bytes to {topic} is larger than MQTT "
                          f"can carry; dropped")
                return False
            self._connection._last_data_out = time.monotonic()  # gmqtt's keepalive reads it
            batcher.write(packet)
            return True
        return self.outbox.add(topic, payload, qos, retain, properties)

    def subscribe(self, topic_filter: str, qos: int, handler: MessageHandler,
                  on_refused: Callable[[str], None]) -> Subscription:
        """Receive messages matching ``topic_filter``, on this and every later connection."""
        subscription = Subscription(topic_filter, qos, handler, on_refused)
        self._subscriptions.add(subscription, self._live_client())
        return subscription

    def _live_client(self) -> gmqtt.Client | None:
        return self._client if self.state.connected else None

    def unsubscribe(self, subscription: Subscription, keep_on_broker: bool = False) -> None:
        """Stop delivering to ``subscription``; unless ``keep_on_broker``, also tell the
        broker (when no other node uses the same filter)."""
        self._subscriptions.remove(subscription,
                                   None if keep_on_broker else self._live_client())

    @property
    def state(self) -> LinkState:
        return self.link.state

    @property
    def qos0_dropped(self) -> int:
        """QoS 0 messages dropped: sent while disconnected, or beyond the send buffer."""
        return self.link.qos0_dropped

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every change of the link state (and now, once)."""
        return self.link.add_listener(listener)

    # --- the connection loop -------------------------------------------------------------
    async def _run(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        backoff = Backoff(config["reconnect_min_delay"], config["reconnect_max_delay"])
        while True:
            host, port = self._server()
            self.link.where = f"{host}:{port}"
            ending = LinkEnding()
            tracker = AckTracker(self.outbox, self.warn)
            client = self._make_client(tracker, ending)
            self.link.set(CONNECTING)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a
                # cancellation (stop) that arrives as the attempt fails, and the loop
                # would go on connecting until the engine's stop timeout.
                async with asyncio.timeout(config["connect_timeout"]):
                    await connect(client, ending, host, port,
                                  ssl=self.ssl_context or False,
                                  keepalive=config["keepalive"], version=self.protocol)
            except asyncio.CancelledError:  # stopped mid-attempt: close what it opened
                await disconnect(client)
                raise
            except Exception as exc:  # any failure to connect means: wait, then retry
                await disconnect(client)
                self._quick_closes = 0  # a broker that restarts, not one that kicks us out
                self.link.set(LinkState("red", describe_failure(
                    exc, host, port, config["connect_timeout"])))
            else:
                up_since = loop.time()
                await self._stay_connected(client, tracker, ending)
                if ending.reason_code != SESSION_TAKEN_OVER:
                    backoff.link_lasted(loop.time() - up_since)  # a good link: retry soon
            # Backoff also after a lost link, so a broker that drops us at once (a client
            # id taken by another device, say) is not hammered; after a take-over even if
            # the link was long, so two devices with one client id do not fight.
            await backoff.wait()

    async def _stay_connected(self, client: gmqtt.Client, tracker: AckTracker,
                              ending: LinkEnding) -> None:
        """Serve one connection until the broker or the network drops it."""
        self._client, self._tracker, self._ending = client, tracker, ending
        up_since = asyncio.get_running_loop().time()
        self._connected(client, ending)
        sender = self.spawn(self._send_outbox(client, tracker), "outbox sender")
        try:
            await ending.ended.wait()
        finally:
            sender.cancel()
            self._client = self._tracker = self._batcher = self._ending = None
            self.outbox.connection_lost()
        up_for = asyncio.get_running_loop().time() - up_since
        self._quick_closes = self._quick_closes + 1 if closed_quickly(ending, up_for) else 0
        self.link.set(LinkState("red", describe_ending(ending, self.client_id, up_for,
                                                       self._quick_closes)))
        await disconnect(client)

    def _make_client(self, tracker: AckTracker, ending: LinkEnding) -> gmqtt.Client:
        config = self.config
        self._will = will = self._last_will()
        clean_start, session_expiry = self._session()
        properties: dict[str, Any] = {}
        if self.protocol == MQTTv50:
            properties["session_expiry_interval"] = session_expiry
            properties["maximum_packet_size"] = config["maximum_packet_size"]
        client = gmqtt.Client(self.client_id, clean_session=clean_start,
                              will_message=will, persistent_storage=tracker,
                              logger=gmqtt_log, **properties)
        client.set_config({"reconnect_retries": -2, "reconnect_delay": 0})
        if config["username"]:
            client.set_auth_credentials(config["username"], config["password"] or None)
        client.on_message = self._subscriptions.on_message
        client.on_disconnect = ending.on_disconnect
        client.on_subscribe = self._subscriptions.on_subscribe
        tracker.attach(client)
        limit_inbound(client, config["maximum_packet_size"], self.warn,
                      partial(self._end_link, client, ending))
        return client

    # --- what a connection says, overridden by sparkplug-node ------------------------
    def _server(self) -> tuple[str, int]:
        """Host and port of the next connection attempt (a sparkplug-node walks a list)."""
        return self.config["host"], self.port

    def _last_will(self) -> gmqtt.Message | None:
        """The will of the next connection, which a clean stop publishes itself: the
        retained offline state, if there is a state topic. Asked once per CONNECT."""
        config = self.config
        if not config["state_topic"]:
            return None
        return gmqtt.Message(config["state_topic"], config["will_payload"], qos=1,
                             retain=True)

    def _session(self) -> tuple[bool, int]:
        """Clean start, and the session expiry interval (MQTT 5) asked for at CONNECT."""
        clean_start: bool = self.config["clean_start"]
        return clean_start, 0 if clean_start else self.config["session_expiry"]

    def _session_started(self, client: gmqtt.Client) -> None:
        """Connected, subscriptions sent: publish the retained "online" state."""
        if self.config["state_topic"]:
            client.publish(self.config["state_topic"],
                           self.config["birth_payload"].encode(), qos=1, retain=True)

    def _end_link(self, client: gmqtt.Client, ending: LinkEnding, reason: str) -> None:
        """End a connection now, saying why."""
        ending.end(reason)
        if client._connection is not None:
            client._connection._transport.abort()

    def _connected(self, client: gmqtt.Client, ending: LinkEnding) -> None:
        config = self.config
        self._batcher = batch_writes(client, config["send_buffer_messages"],
                                     config["send_buffer_bytes"])
        self._encoder = PublishEncoder(self.protocol)
        self._connection = client._connection
        watch_keepalive(client, partial(self._end_link, client, ending))
        broker_maximum = client._package_handler._connack_properties.get(
            "maximum_packet_size")
        if broker_maximum:
            self._batcher.refuse_above(broker_maximum[0],
                                       partial(self._too_big, client, broker_maximum[0]))
        self._subscriptions.connected(client)
        log.info("node %s: connected to %s as %s (MQTT %s)", self.id, self.link.where,
                 self.client_id, config["protocol"])
        self.link.connected()
        self._session_started(client)

    async def _send_outbox(self, client: gmqtt.Client, tracker: AckTracker) -> None:
        """Publish the outbox in order, keeping as many in flight as the broker's receive
        maximum allows (MQTT 5) or ``inflight_window`` says (3.1.1)."""
        tracker.take_window(client, self.protocol == MQTTv50, self.config["inflight_window"],
                            self._batcher)
        await tracker.run()

    def _too_big(self, client: gmqtt.Client, maximum: int, packet: bytes) -> None:
        """A publish above the broker's maximum packet size, held back: sent, the broker
        would close the connection (and the outbox would resend it on every reconnect)."""
        topic, qos, mid = publish_head(packet, 0) or ("?", 0, 0)
        self.warn(f"message to {topic} is {len(packet):,} bytes, above the broker's "
                  f"maximum packet size ({maximum:,} bytes); dropped")
        if qos:  # done with, as if acknowledged: its packet id is freed, the outbox forgets it
            asyncio.get_running_loop().call_soon(
                client._package_handler._handle_pubcomp_packet, MQTTCommands.PUBCOMP,
                mid.to_bytes(2, "big"))
