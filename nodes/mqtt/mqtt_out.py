"""mqtt-out: publish messages through a shared mqtt-broker connection.

QoS 1/2 messages go into the connection's durable outbox and leave it only when the
broker acknowledged them; QoS 0 means "may be lost", as in MQTT, and is sent only
while connected.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from portless.nodes.link_state import LinkState
from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.nodes.payload import CONTENT_TYPES, PayloadError, encode
from portless.runtime import Message, Node


class MqttOut(Node):
    type = "mqtt-out"
    category = "network"
    color = "#d8bfd8"
    icon = "bridge"
    inputs = 1
    outputs = 0
    schema = {
        "title": "MQTT out",
        "description": (
            "Publishes `msg.payload` to `topic` (or to `msg.topic` when `topic` is empty). "
            "QoS 1 and 2 messages wait in a durable outbox until the broker acknowledged "
            "them, across outages and restarts; the status shows how many are waiting."),
        "type": "object",
        "additionalProperties": False,
        "required": ["broker"],
        "properties": {
            "broker": {"title": "Broker", "type": "string", "x-ref": "mqtt-broker",
                       "description": "The mqtt-broker connection to publish on."},
            "topic": {"title": "Topic", "type": "string", "default": "",
                      "maxLength": 65535,
                      "pattern": r"^[^+#\u0000-\u001f\u007f-\u009f]*$",
                      "x-error": "must be an MQTT topic: no + or # (they are for "
                                 "subscriptions) and no control characters (such as NUL)",
                      "description": "Topic to publish to; empty: use msg.topic."},
            "qos": {"title": "QoS", "enum": [0, 1, 2], "default": 1,
                    "description": "0 may be lost; 1 and 2 are kept until acknowledged."},
            "retain": {"title": "Retain", "type": "boolean", "default": False,
                       "description": "Ask the broker to keep the last message for new "
                                      "subscribers."},
            "format": {"title": "Format", "enum": ["json", "msgpack", "text", "raw"],
                       "default": "json",
                       "description": "How the payload is encoded; over MQTT 5 it also "
                                      "sets the content type."},
            "user_properties": {"title": "User properties", "type": "object",
                                "additionalProperties": {"type": "string"}, "default": {},
                                "description": "MQTT 5 user properties (name: value)."},
            "message_expiry": {"title": "Message expiry (s)", "type": "integer",
                               "minimum": 0, "default": 0,
                               "description": "MQTT 5: the broker discards the message if "
                                              "not delivered within this; 0 for never."},
        },
    }

    async def start(self) -> None:
        config = self.config
        self._broker = cast(MqttBroker, self.shared_node(config["broker"]))
        self._format = config["format"]
        self._qos = config["qos"]
        self._retain = config["retain"]
        self._topic = config["topic"]
        self._checked_topic: str | None = None
        """The last topic found publishable (the same object is not checked again)."""
        properties: dict[str, Any] = {"content_type": CONTENT_TYPES[self._format]}
        if config["user_properties"]:
            properties["user_property"] = sorted(config["user_properties"].items())
        if config["message_expiry"]:
            properties["message_expiry_interval"] = config["message_expiry"]
        self._properties = properties
        self._link = self._broker.state
        self._unlisten = self._broker.add_state_listener(self._on_link)
        self._status_timer: asyncio.TimerHandle | None = None

    async def stop(self) -> None:
        self._unlisten()

    def on_input(self, msg: Message) -> None:
        topic = self._topic or msg.get("topic")
        if topic is not self._checked_topic and not self._publishable(topic):
            return
        try:
            data = encode(msg.get("payload"), self._format)
        except PayloadError as exc:
            self.warn(f"{exc}; message dropped")
            return
        self._broker.publish(cast(str, topic), data, self._qos, self._retain,
                             self._properties)
        if not self._link.connected and self._status_timer is None:
            self._status_timer = self.call_later(0.5, self._show_waiting)

    def _publishable(self, topic: Any) -> bool:
        """Whether ``topic`` can be published to (if not, warn); the last good one is
        remembered, so the node's own topic, or a flow's, is checked once."""
        if not topic or not isinstance(topic, str):
            self.warn("no topic: set the node's topic or msg.topic; message dropped")
            return False
        if "+" in topic or "#" in topic or "\0" in topic or not _is_utf8(topic):
            # A broker disconnects a client that publishes to a filter; kept in the outbox
            # it would be sent first on every reconnect and block all behind it. A topic
            # that is not UTF-8 (a lone surrogate) cannot be stored: the outbox's whole
            # batch, other nodes' messages too, would fail with it.
            reason = ("an MQTT topic holds no NUL" if "\0" in topic
                      else "+ and # are for subscriptions" if "+" in topic or "#" in topic
                      else "an MQTT topic is UTF-8 text, without lone surrogates")
            self.warn(f"cannot publish to {topic!r}: {reason}; message dropped")
            return False
        self._checked_topic = topic
        return True

    def _on_link(self, state: LinkState) -> None:
        self._link = state
        self._show_waiting()

    def _show_waiting(self) -> None:
        """Status: the link's state, and while it is down, how many messages wait."""
        self._status_timer = None
        state = self._link
        if state.connected:  # "connected", or that the send buffer drops QoS 0 messages
            self.status(state.fill, state.text)
        else:
            if self._qos:
                outbox = self._broker.outbox
                text = f"{state.text}; {outbox.count} waiting"
                if outbox.refused_for_disk:
                    text += f", {outbox.refused_for_disk} refused (disk nearly full)"
            else:  # QoS 0 is not stored: say how many were lost
                text = f"{state.text}; {self._broker.qos0_dropped} dropped (QoS 0)"
            self.status(state.fill, text, "ring")


def _is_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (ASCII, the usual topic, is checked for free)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
