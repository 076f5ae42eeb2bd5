"""PUBLISH packets written by portless itself, for QoS 0 and for the outbox's QoS 1/2.

gmqtt's ``Client.publish`` builds a Message object, runs a general packet builder and
logs six debug lines for every publish: most of what a publish costs (bench/mqtt.py
--profile). A flow publishes to the same topic with the same properties again and again (one
mqtt-out node's), so the encoder keeps the encoded topic and properties of the last
ones it saw.
"""

from __future__ import annotations

from typing import Any

from gmqtt.mqtt.package import PackageFactory

MAX_REMAINING_LENGTH = 268_435_455
"""The largest packet body MQTT can frame (a four-byte variable length)."""


class PublishEncoder:
    """PUBLISH packets of one connection's protocol version (properties exist only in
    MQTT 5; over 3.1.1 they encode to nothing)."""

    def __init__(self, version: int) -> None:
        self._version = version
        self._properties: dict[str, Any] = {}
        self._properties_bytes = bytes(PackageFactory._build_properties_data({}, version))
        self._topic = ""
        self._topic_bytes = b"\0\0"
        """The last topic, and its encoding with its length in front."""

    def encode(self, topic: str, payload: bytes, qos: int, retain: bool, packet_id: int,
               properties: dict[str, Any]) -> bytes | None:
        """The whole packet, or None when it is larger than MQTT can carry. ``packet_id``
        is left out at QoS 0, as the protocol says."""
        if properties is not self._properties and properties != self._properties:
            self._properties = properties
            self._properties_bytes = bytes(
                PackageFactory._build_properties_data(properties, self._version))
        if topic != self._topic:
            encoded = topic.encode()
            self._topic, self._topic_bytes = topic, len(encoded).to_bytes(2, "big") + encoded
        identifier = packet_id.to_bytes(2, "big") if qos else b""
        length = (len(self._topic_bytes) + len(identifier) + len(self._properties_bytes)
                  + len(payload))
        if length < 0x80:
            header = bytes((0x30 | qos << 1 | retain, length))
        elif length <= MAX_REMAINING_LENGTH:
            header = fixed_header(0x30 | qos << 1 | retain, length)
        else:
            return None
        return b"".join((header, self._topic_bytes, identifier, self._properties_bytes,
                         payload))


def fixed_header(first_byte: int, remaining_length: int) -> bytes:
    """A packet's first byte and its remaining length as MQTT's variable-length integer."""
    if remaining_length < 0x80:
        return bytes((first_byte, remaining_length))
    header = bytearray((first_byte,))
    while True:
        byte, remaining_length = remaining_length & 0x7F, remaining_length >> 7
        header.append(byte | 0x80 if remaining_length else byte)
        if not remaining_length:
            return bytes(header)
