"""mqtt-in: receive messages (commands) over the device's own outbound connection."""

from __future__ import annotations

from typing import Any, cast

from portless.nodes.link_state import LinkState
from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.nodes.payload import MAX_DEPTH, PayloadError, decode, preview
from portless.runtime import Node, make_message

_LEVEL_TEXT = r"[^/+#\u0000-\u001f\u007f-\u009f]"
TOPIC_FILTER = (rf"^(\$share/{_LEVEL_TEXT}+/(?=[\s\S])|(?!\$share/))"
                rf"(#|(({_LEVEL_TEXT}*|\+)(/({_LEVEL_TEXT}*|\+))*(/#)?))$")
"""An MQTT topic filter (MQTT 5 4.7, 4.8.2): ``+`` a whole level, ``#`` only last and a
whole level, optional ``$share/group/`` (a group name, then a filter); no NUL (a broker
drops the connection of a SUBSCRIBE that has one) and no other control characters."""


class MqttIn(Node):
    type = "mqtt-in"
    category = "network"
    color = "#d8bfd8"
    icon = "bridge"
    inputs = 0
    outputs = 1
    schema = {
        "title": "MQTT in",
        "description": (
            "Subscribes to a topic filter (wildcards `+` and `#`, shared subscriptions "
            "`$share/group/filter`) and emits `{topic, payload, qos, retain, properties}` "
            "for every message. The subscription is restored on every reconnect. A "
            "payload that cannot be decoded (malformed, JSON or msgpack nested deeper "
            f"than {MAX_DEPTH} levels, or too long to parse) is dropped with a warning "
            "and counted in the status."),
        "type": "object",
        "additionalProperties": False,
        "required": ["broker", "topic"],
        "properties": {
            "broker": {"title": "Broker", "type": "string", "x-ref": "mqtt-broker",
                       "description": "The mqtt-broker connection to subscribe on."},
            "topic": {"title": "Topic filter", "type": "string", "minLength": 1,
                      "maxLength": 65535, "pattern": TOPIC_FILTER,
                      "x-error": "must be an MQTT topic filter: levels separated by /, "
                                 "+ and # each a whole level, # only as the last one, "
                                 "no control characters (such as NUL); shared: "
                                 "$share/GROUP/FILTER",
                      "description": "e.g. device/valve-1/cmd/#"},
            "qos": {"title": "QoS", "enum": [0, 1, 2], "default": 1,
                    "description": "Highest QoS to receive at."},
            "format": {"title": "Format", "enum": ["auto", "json", "msgpack", "text", "raw"],
                       "default": "auto",
                       "description": "auto: by the MQTT 5 content type, then JSON if it "
                                      "parses, else UTF-8 text, else bytes."},
            "max_decode_size": {
                "title": "Maximum size to parse (bytes)", "type": "integer", "minimum": 1,
                "default": 262144,
                "description": (
                    "A JSON or msgpack payload longer than this is dropped with a warning "
                    "instead of parsed: parsing holds the event loop (about 35 ms per MiB, "
                    "and a worker thread would not help, as the parsers hold the GIL). "
                    "Text and raw payloads are not parsed and not limited here.")},
        },
    }

    async def start(self) -> None:
        self._broker = cast(MqttBroker, self.shared_node(self.config["broker"]))
        self._format = self.config["format"]
        self._max_decode_size = self.config["max_decode_size"]
        self.dropped = 0
        """Payloads dropped as undecodable since start; shown in the status."""
        self._link: LinkState | None = None
        self._subscription = self._broker.subscribe(
            self.config["topic"], self.config["qos"], self._on_message, self._on_refused)
        self._unlisten = self._broker.add_state_listener(self._on_link)

    async def stop(self) -> None:
        self._unlisten()
        # On shutdown the broker keeps the subscription in the persistent session, so
        # commands sent while the device is away wait for it; on a deploy it goes.
        self._broker.unsubscribe(self._subscription, keep_on_broker=self.shutting_down)

    def _on_message(self, topic: str, data: bytes, qos: int,
                    properties: dict[str, Any]) -> None:
        content_type = properties.get("content_type")
        try:
            payload = decode(data, self._format, content_type[0] if content_type else None,
                             self._max_decode_size)
        except PayloadError as exc:
            self.dropped += 1
            self.warn(f"undecodable payload on {topic}: {exc}: {preview(data)}; dropped")
            self._show_status()
            return
        msg = make_message(payload, topic)
        msg["qos"] = qos
        msg["retain"] = bool(properties.get("retain"))
        msg["properties"] = {key: value for key, value in properties.items()
                             if key not in ("retain", "dup")}
        self.send(msg)

    def _on_refused(self, text: str) -> None:
        self.warn(text)
        self.status("red", text[:80], "ring")

    def _on_link(self, state: LinkState) -> None:
        self._link = state
        self._show_status()

    def _show_status(self) -> None:
        """The link's state, and how many payloads were dropped (the link is not to blame)."""
        state = self._link
        if state is None:
            return
        text = f"{state.text} · {self.dropped} undecodable dropped" if self.dropped \
            else state.text
        self.status(state.fill, text, "dot" if state.connected else "ring")
