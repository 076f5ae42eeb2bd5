"""gmqtt, adapted: the pieces that make gmqtt a transport the outbox can trust.

gmqtt is the transport, not the store. Measured with gmqtt 0.8.0 against mosquitto
2.0.11, and why these adapters exist (mqtt_broker.py uses them):

- ``publish()`` returns nothing and has no acknowledgement callback; PUBACK/PUBCOMP end
  in ``persistent_storage.remove_message_by_mid(mid)``. ``AckTracker`` is that storage:
  it maps packet ids to outbox records and deletes a record on its acknowledgement.
- Over MQTT 5 gmqtt enforces the broker's receive maximum (mosquitto says 20) through
  its packet-id pool, which SUBSCRIBE and UNSUBSCRIBE share and which raises
  ``OverflowError`` one short of it (the 20th). The receive maximum limits QoS 1/2
  PUBLISH packets only (MQTT 5, 3.3.4), so ``AckTracker.take_window`` widens the pool
  to every id and the tracker itself counts the publishes in flight, the birth and
  offline state included: exactly the receive maximum over MQTT 5, the configured
  window over 3.1.1 (which has no receive maximum).
- Publishing while disconnected does not raise: gmqtt keeps the packet in memory and,
  after a reconnect without a saved session, silently discards it and, over MQTT 5,
  never frees its packet id, so every later QoS 1 publish raises for good. So the broker
  node publishes only while connected, uses a fresh client per connection, and after
  every (re)connect resends whatever the outbox still holds, oldest first.
- gmqtt's own reconnect is switched off (a negative retry count it never reaches); the
  broker node reconnects with exponential backoff and jitter, and ``disconnect`` closes
  a client before it is dropped, so no reconnect is left pending at shutdown.
- gmqtt does not read the reason code of a PUBACK. Over MQTT 5 a broker refuses a
  publish the ACL denies with PUBACK 0x87; the tracker reads it, so the outbox drops
  that message with a warning instead of resending it forever. Over MQTT 3.1.1 the
  broker silently drops such a publish and nobody can tell.
- How the connected client's transport is used (batched writes, a bounded send buffer,
  a keepalive that aborts) is in mqtt_transport.py.
- ``connect()`` waits for a CONNACK even after the server has closed the connection,
  until the caller's timeout; ``connect`` here ends the attempt when the link ends.
- A server's DISCONNECT (MQTT 5) carries a reason code; ``LinkEnding`` keeps the first
  reason a connection ended for, so the status can say it.
- gmqtt narrates every attempt and lost connection at WARNING/ERROR, some of it wrong
  here; its lines are turned into DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import gmqtt
from gmqtt.storage import PersistentStorage

from portless.nodes.outbox import Outbox, Record

log = logging.getLogger("portless.mqtt")
MAX_PACKET_ID = 65535
"""Packet ids are 1..65535; also MQTT 5's receive maximum when CONNACK names none."""
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


class AckTracker(PersistentStorage):  # type: ignore[misc]
    """gmqtt's in-flight store, used as an acknowledgement hook: maps packet ids to
    outbox records and tells the outbox when the broker acknowledged one."""

    def __init__(self, outbox: Outbox, warn: Callable[[str], None]) -> None:
        super().__init__()
        self.outbox = outbox
        self.warn = warn
        self.in_flight: dict[int, Record] = {}
        self.window = MAX_PACKET_ID
        """Most QoS 1/2 publishes unacknowledged at once (see take_window)."""
        self._reserved = False
        self._expected: Record | None = None
        self._freed = asyncio.Event()
        self._untracked: set[int] = set()
        self._drained = asyncio.Event()

    def take_window(self, client: gmqtt.Client, mqtt5: bool, window_311: int) -> None:
        """Bound the publishes in flight by the broker's receive maximum (MQTT 5; 65,535
        when CONNACK names none) or by ``window_311`` (3.1.1), instead of gmqtt."""
        handler = client._package_handler
        if mqtt5:
            values = handler._connack_properties.get("receive_maximum")
            self.window = max(1, int(values[0])) if values else MAX_PACKET_ID
        else:
            self.window = window_311
        handler.id_generator._max = MAX_PACKET_ID + 1  # ids 1..65535, all of them

    @property
    def full(self) -> bool:
        """No QoS 1/2 publish of the sender may go out now."""
        return self._reserved or len(self.in_flight) + len(self._untracked) >= self.window

    async def reserve_slot(self) -> None:
        """Stop the sender for good and wait until one publish of the caller's own fits
        (the offline state at a clean stop)."""
        self._reserved = True
        while len(self.in_flight) + len(self._untracked) >= self.window:
            await self.slot_freed()

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
            self._freed.set()
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
                    self.warn(f"publish to {record.topic} refused by the broker: "
                                     f"{reason}; message dropped")
            original(cmd, packet)
        return check


class ClosedBeforeAccepting(ConnectionError):
    """The server closed the connection before it sent CONNACK."""


class LinkEnding:
    """The end of one connection: an event, and why, as far as anyone said."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        self.reason_code: int | None = None  # from the server's DISCONNECT (MQTT 5)
        self.reason = ""  # set by portless when it ends the link itself

    def on_disconnect(self, client: gmqtt.Client, packet: Any = None, *_: Any) -> None:
        """gmqtt's on_disconnect: a server DISCONNECT brings its packet (reason code
        first), the closed socket an empty one; the first reason is kept."""
        if isinstance(packet, (bytes, bytearray)) and packet and self.reason_code is None:
            self.reason_code = packet[0]
        self.ended.set()

    def end(self, reason: str) -> None:
        """Note why portless itself is ending the link (before it does)."""
        self.reason = self.reason or reason


async def connect(client: gmqtt.Client, ending: LinkEnding, host: str, port: int,
                  **options: Any) -> None:
    """``client.connect``, ended at once when the server closes the connection before
    its CONNACK (gmqtt would wait for the caller's timeout)."""
    attempt = asyncio.ensure_future(client.connect(host, port, **options))
    closed = asyncio.ensure_future(ending.ended.wait())
    try:
        await asyncio.wait({attempt, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
        finished = attempt.done()
        if not finished:
            attempt.cancel()
    if finished:
        attempt.result()  # connected, or raise the refusal
        return
    if client._package_handler.has_error:  # a CONNACK refusal, then the close
        client._package_handler.propagate_error()
    if not client._connack_received.is_set():
        raise ClosedBeforeAccepting("closed by the server before accepting the connection")
    # Accepted, then ended at once (a DISCONNECT right after CONNACK): the caller sees
    # the ending as that of a connection that was up.


async def disconnect(client: gmqtt.Client) -> None:
    """Close a client for good: no reconnect left pending, no exception escaping. A
    broker that stopped reading never takes the DISCONNECT, so after 2 s the socket is
    aborted rather than left open."""
    try:
        async with asyncio.timeout(2.0):  # not wait_for: it can lose a cancellation
            await client.disconnect()
    except Exception as exc:
        log.debug("disconnect: %s", exc)
        if client._connection is not None:
            client._connection._transport.abort()
