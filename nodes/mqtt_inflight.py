"""QoS 1/2 in flight: the outbox's messages on the wire until the broker acknowledges them.

``AckTracker`` stands in for gmqtt's in-flight store (why, in mqtt_link.py): it maps
packet ids to outbox records, deletes a record on its PUBACK/PUBCOMP, and keeps the
window. The window is MQTT 5's receive maximum, which limits QoS 1/2 PUBLISH packets
only (3.3.4), the birth and offline state included; gmqtt's packet-id pool, which
SUBSCRIBE and UNSUBSCRIBE share and which raises one short of the receive maximum, is
widened to every id. Over 3.1.1, which has no receive maximum, the window is the
broker node's ``inflight_window``.

The outbox's messages are written as PUBLISH packets here, not through
``gmqtt.Client.publish``: its Message object, packet builder and six debug-log calls
per publish were the largest share of the sender's time (bench/mqtt.py --profile),
and the sender only needs topic, packet id, the same properties again and again, and
the payload. PUBACK is read here too, for the same reason and for its reason code,
which gmqtt ignores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50, MQTTv311
from gmqtt.storage import PersistentStorage

from portless.nodes.mqtt_publish import PublishEncoder
from portless.nodes.outbox import Outbox, Record

MAX_PACKET_ID = 65535
"""Packet ids are 1..65535; also MQTT 5's receive maximum when CONNACK names none."""


class AckTracker(PersistentStorage):  # type: ignore[misc]
    """gmqtt's in-flight store, used as an acknowledgement hook, and the sender's
    window: which outbox record each packet id carries, and how many may be out."""

    def __init__(self, outbox: Outbox, warn: Callable[[str], None]) -> None:
        super().__init__()
        self.outbox = outbox
        self.warn = warn
        self.in_flight: dict[int, Record] = {}
        self.window = MAX_PACKET_ID
        """Most QoS 1/2 publishes unacknowledged at once (see take_window)."""
        self._reserved = False
        self._freed = asyncio.Event()
        self._untracked: set[int] = set()
        self._drained = asyncio.Event()
        self._connection: Any = None
        self._ids: Any = None
        self._encoder = PublishEncoder(MQTTv311)

    # --- hooked into gmqtt -----------------------------------------------------------
    def attach(self, client: gmqtt.Client) -> None:
        """Read PUBACK here (ids, reason codes) and PUBREC's reason code; call once per
        client, before it connects."""
        handler = client._package_handler
        self._ids = handler.id_generator
        handler._handle_puback_packet = self._on_puback
        original = handler._handle_pubrec_packet

        def on_pubrec(cmd: int, packet: bytes) -> None:
            if len(packet) > 2 and packet[2] >= 0x80:
                self._refused(int.from_bytes(packet[:2], "big"), packet[2])
            original(cmd, packet)
        handler._handle_pubrec_packet = on_pubrec

    def take_window(self, client: gmqtt.Client, mqtt5: bool, window_311: int) -> None:
        """Once connected: bound the publishes in flight by the broker's receive maximum
        (MQTT 5; 65,535 when CONNACK names none) or by ``window_311`` (3.1.1)."""
        handler = client._package_handler
        if mqtt5:
            values = handler._connack_properties.get("receive_maximum")
            self.window = max(1, int(values[0])) if values else MAX_PACKET_ID
        else:
            self.window = window_311
        handler.id_generator._max = MAX_PACKET_ID + 1  # ids 1..65535, all of them
        self._encoder = PublishEncoder(MQTTv50 if mqtt5 else MQTTv311)
        self._connection = client._connection

    def push_message(self, mid: int, raw_package: bytes) -> None:
        # gmqtt calls this for its own QoS 1/2 publishes (birth, offline state), and
        # again for QoS 2 when PUBREC swaps a PUBLISH for its PUBREL (same mid). The
        # raw packet is not kept: a fresh client per connection never replays it.
        if mid not in self.in_flight:
            self._untracked.add(mid)
            self._drained.clear()

    def remove_message_by_mid(self, mid: int) -> None:
        record = self.in_flight.pop(mid, None)
        if record is not None:
            self.outbox.acked(record)
            self._freed.set()
        elif mid in self._untracked:
            self._untracked.discard(mid)
            self._freed.set()
            if not self._untracked:
                self._drained.set()

    @property
    def is_empty(self) -> bool:
        return True

    def get_all(self) -> list[tuple[int, bytes]]:
        return []

    def clear(self) -> None:
        pass

    # --- the sender's side ---------------------------------------------------------------
    @property
    def full(self) -> bool:
        """No QoS 1/2 publish of the sender may go out now."""
        return self._reserved or len(self.in_flight) + len(self._untracked) >= self.window

    async def slot_freed(self) -> None:
        self._freed.clear()
        await self._freed.wait()

    async def reserve_slot(self) -> None:
        """Stop the sender for good and wait until one publish of the caller's own fits
        (the offline state at a clean stop)."""
        self._reserved = True
        while len(self.in_flight) + len(self._untracked) >= self.window:
            await self.slot_freed()

    async def drained(self) -> None:
        """Wait until the untracked publishes (birth, offline state) are acknowledged."""
        if self._untracked:
            await self._drained.wait()

    def send(self, record: Record) -> None:
        """Write ``record`` as a PUBLISH on the connection (after ``take_window``), unless
        the outbox dropped it since it was read."""
        if not self.outbox.sending(record):
            return
        mid = self._ids.next_id()
        packet = self._encoder.encode(record.topic, record.payload, record.qos,
                                      record.retain, mid, record.properties)
        if packet is None:
            self._ids.free_id(mid)
            self.warn(f"message of {len(record.payload)} bytes to {record.topic} is larger "
                      f"than MQTT can carry; dropped")
            self.outbox.acked(record)
            return
        self.in_flight[mid] = record
        connection = self._connection
        connection._last_data_out = time.monotonic()  # gmqtt's keepalive reads it
        connection._transport.write(packet)

    # --- acknowledgements ------------------------------------------------------------------
    def _on_puback(self, cmd: int, packet: bytes) -> None:
        mid = int.from_bytes(packet[:2], "big")
        if len(packet) > 2 and packet[2] >= 0x80:
            self._refused(mid, packet[2])
        self._ids.free_id(mid)
        self.remove_message_by_mid(mid)

    def _refused(self, mid: int, code: int) -> None:
        """Over MQTT 5 a broker refuses a publish (the ACL denies it: 0x87) in its
        acknowledgement; the message is dropped with a warning, not resent forever."""
        record = self.in_flight.get(mid)
        if record is not None:
            reason = "not authorised" if code == 0x87 else f"{code:#x}"
            self.warn(f"publish to {record.topic} refused by the broker: {reason}; "
                      f"message dropped")

