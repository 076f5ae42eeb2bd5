"""QoS 1/2 in flight: the outbox's messages on the wire until the broker acknowledges them.

``AckTracker`` stands in for gmqtt's in-flight store (why, in mqtt_link.py): it maps
packet ids to outbox records, deletes a record on its PUBACK/PUBCOMP, and keeps the
window. The window is MQTT 5's receive maximum, which limits QoS 1/2 PUBLISH packets
only (3.3.4), the birth and offline state included; gmqtt's packet-id pool, which
SUBSCRIBE and UNSUBSCRIBE share and which raises one short of the receive maximum, is
widened to every id. Over 3.1.1, which has no receive maximum, the window is the
broker node's ``inflight_window``.

The tracker is also the outbox's sender: ``pump`` writes the outbox's messages as
PUBLISH packets, in order, while the window has room, not through
``gmqtt.Client.publish``: its Message object, packet builder and six debug-log calls
per publish were the largest share of the sender's time (bench/mqtt.py --profile),
and the sender only needs topic, packet id, the same properties again and again, and
the payload. PUBACK is parsed here too, as the bytes arrive, for the same reason and
for its reason code, which gmqtt ignores; gmqtt's per-packet dispatch (a Package, two
debug-log calls, a handler lookup) cost more than the rest of an acknowledgement.
Each chunk of acknowledgements pumps at once and writes what it freed room for in the
same turn of the event loop: over MQTT 5, with mosquitto's receive maximum of 20, a
round trip is the bound, and waking a sender task and then a write callback added two
turns to each one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTCommands, MQTTv50, MQTTv311
from gmqtt.mqtt.package import Package
from gmqtt.storage import PersistentStorage

from portless.nodes.mqtt.mqtt_packet_size import fixed_header
from portless.nodes.mqtt.mqtt_publish import PublishEncoder
from portless.nodes.mqtt.mqtt_transport import WriteBatcher
from portless.nodes.mqtt.outbox import Outbox, Record

MAX_PACKET_ID = 65535
"""Packet ids are 1..65535; also MQTT 5's receive maximum when CONNACK names none."""
READ_BATCH = 500
"""Records the sender reads from the outbox at a time."""
PUBACK = int(MQTTCommands.PUBACK)


class Stop(Enum):
    """Why ``pump`` stopped sending."""

    WINDOW = "the window is full"
    EMPTY = "nothing left to send"
    BUFFER = "the send buffer is full"


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
        self._batcher: WriteBatcher | None = None
        self._ids: Any = None
        self._used_ids: set[int] = set()
        """gmqtt's ids in use (its own publishes and subscriptions take theirs too)."""
        self._last_id = 0
        self._encoder = PublishEncoder(MQTTv311)
        self._records: deque[Record] = deque()
        """Read from the outbox, not sent yet."""
        self._cursor = 0
        """The seq of the last record read from the outbox."""
        self._pumping = False
        """The sender runs (``run``): acknowledgements pump."""
        self._stopped = Stop.EMPTY
        """Why the last ``pump`` stopped: only a full window is a reason for an
        acknowledgement to pump (new messages wake the sender task)."""

    # --- hooked into gmqtt -----------------------------------------------------------
    def attach(self, client: gmqtt.Client) -> None:
        """Parse PUBACK here (ids, reason codes) and read PUBREC's reason code; call once
        per client, before it connects (and before ``limit_inbound``)."""
        handler = client._package_handler
        self._ids = handler.id_generator
        self._used_ids = self._ids._used_ids
        original = handler._handle_pubrec_packet

        def on_pubrec(cmd: int, packet: bytes) -> None:
            if len(packet) > 2 and packet[2] >= 0x80:
                self._refused(int.from_bytes(packet[:2], "big"), packet[2])
            original(cmd, packet)
        handler._handle_pubrec_packet = on_pubrec
        create = client._create_connection

        async def create_reading_acks(*args: Any, **kwargs: Any) -> Any:
            connection = await create(*args, **kwargs)
            protocol = connection._protocol
            protocol._read_packet = lambda data: self._read_packets(connection, data)
            return connection
        client._create_connection = create_reading_acks

    def take_window(self, client: gmqtt.Client, mqtt5: bool, window_311: int,
                    batcher: WriteBatcher | None) -> None:
        """Once connected: bound the publishes in flight by the broker's receive maximum
        (MQTT 5; 65,535 when CONNACK names none) or by ``window_311`` (3.1.1), and write
        through ``batcher``."""
        handler = client._package_handler
        if mqtt5:
            values = handler._connack_properties.get("receive_maximum")
            self.window = max(1, int(values[0])) if values else MAX_PACKET_ID
        else:
            self.window = window_311
        handler.id_generator._max = MAX_PACKET_ID + 1  # ids 1..65535, all of them
        self._encoder = PublishEncoder(MQTTv50 if mqtt5 else MQTTv311)
        self._connection = client._connection
        self._batcher = batcher

    def push_message(self, mid: int, raw_package: bytes) -> None:
        # gmqtt calls this for its own QoS 1/2 publishes (birth, offline state), and
        # again for QoS 2 when PUBREC swaps a PUBLISH for its PUBREL (same mid). The
        # raw packet is not kept: a fresh client per connection never replays it.
        if mid not in self.in_flight:
            self._untracked.add(mid)
            self._drained.clear()

    def remove_message_by_mid(self, mid: int) -> None:
        # gmqtt's PUBCOMP (QoS 2), and a publish held back as too big.
        self._forget(mid)
        self._freed.set()

    def _forget(self, mid: int) -> None:
        record = self.in_flight.pop(mid, None)
        if record is not None:
            self.outbox.acked(record)
        elif mid in self._untracked:
            self._untracked.discard(mid)
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

    async def run(self) -> None:
        """Send the outbox in order, for as long as the connection lasts (after
        ``take_window``): pump, then wait for what stopped it."""
        ready = self.outbox.ready
        self._pumping = True
        try:
            while True:
                ready.clear()  # before pump reads: a message added after it sets it again
                stop = self.pump()
                if stop is Stop.EMPTY:
                    await ready.wait()
                elif stop is Stop.WINDOW:
                    await self.slot_freed()  # or until a chunk of acks pumps and stops
                elif self._batcher is not None:
                    await self._batcher.wait_for_room(self._records[0].size)
        finally:
            self._pumping = False  # the connection is over: acknowledgements send nothing

    def pump(self) -> Stop:
        """Publish the outbox's records in order while the window and the send buffer
        have room, and write them now; say what stopped it."""
        if self._reserved:
            return Stop.WINDOW
        records, in_flight, untracked = self._records, self.in_flight, self._untracked
        batcher, window = self._batcher, self.window
        stop = Stop.WINDOW
        sent = False
        while len(in_flight) + len(untracked) < window:
            if not records:
                if sent and batcher is not None:
                    batcher.flush_now()  # what is sent goes before the read (a SELECT)
                records.extend(self.outbox.read(self._cursor, READ_BATCH))
                if not records:
                    stop = Stop.EMPTY
                    break
            record = records[0]
            if batcher is not None \
                    and not batcher.has_room(len(record.payload) + len(record.topic)):
                stop = Stop.BUFFER
                break
            records.popleft()
            self._cursor = record.seq
            sent = self._send(record) or sent
        if sent:
            self._connection._last_data_out = time.monotonic()  # gmqtt's keepalive reads it
            if batcher is not None:
                batcher.flush_now()
        self._stopped = stop
        return stop

    def _send(self, record: Record) -> bool:
        """Write ``record`` as a PUBLISH, unless the outbox dropped it since it was read
        or it is larger than MQTT can carry; whether it was written."""
        if not self.outbox.sending(record):
            return False
        mid = self._new_id()
        packet = self._encoder.encode(record.topic, record.payload, record.qos,
                                      record.retain, mid, record.properties)
        if packet is None:
            self._used_ids.discard(mid)
            self.warn(f"message of {len(record.payload)} bytes to {record.topic} is larger "
                      f"than MQTT can carry; dropped")
            self.outbox.acked(record)
            return False
        self.in_flight[mid] = record
        self._connection._transport.write(packet)
        return True

    def _new_id(self) -> int:
        """The next free packet id after the last one given, as gmqtt's generator would
        give it, less its two debug-log calls."""
        used, mid = self._used_ids, self._last_id
        for _ in range(MAX_PACKET_ID):
            mid = mid % MAX_PACKET_ID + 1
            if mid not in used:
                used.add(mid)
                self._last_id = mid
                return mid
        raise OverflowError("every packet id is in use")

    # --- acknowledgements ------------------------------------------------------------------
    def _read_packets(self, connection: Any, data: bytes) -> int:
        """gmqtt's packet parser (``protocol._read_packet``: the bytes read so far; how
        many of them were whole packets, -1 if malformed), with PUBACK handled here and
        every other packet handed to gmqtt as it would; then the acknowledged room is
        used at once (``pump``)."""
        at, end = 0, len(data)
        acks = False
        while end - at >= 2:
            command = data[at]
            if data[at + 1] < 0x80:
                length, body = data[at + 1], at + 2
            else:
                header = fixed_header(data, at)
                if header is None:
                    if end - at >= 5:
                        return -1  # a remaining length of more than four bytes
                    break
                length, body = header[0], at + header[1]
            if body + length > end:
                break
            if command == PUBACK and length >= 2:
                mid = data[body] << 8 | data[body + 1]
                if length > 2 and data[body + 2] >= 0x80:
                    self._refused(mid, data[body + 2])
                self._used_ids.discard(mid)
                self._forget(mid)
                acks = True
            else:
                connection.put_package(Package(command, data[body:body + length]))
            at = body + length
        if acks:
            connection._last_data_in = time.monotonic()
            if not self._pumping or self._reserved or self._stopped is not Stop.WINDOW \
                    or self.pump() is not Stop.WINDOW:
                self._freed.set()  # for the sender task, or reserve_slot
        return at

    def _refused(self, mid: int, code: int) -> None:
        """Over MQTT 5 a broker refuses a publish (the ACL denies it: 0x87) in its
        acknowledgement; the message is dropped with a warning, not resent forever."""
        record = self.in_flight.get(mid)
        if record is not None:
            reason = "not authorised" if code == 0x87 else f"{code:#x}"
            self.warn(f"publish to {record.topic} refused by the broker: {reason}; "
                      f"message dropped")

