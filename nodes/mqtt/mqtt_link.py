"""gmqtt, adapted: the pieces that make gmqtt a transport the outbox can trust.

gmqtt is the transport, not the store. Measured with gmqtt 0.8.0 against mosquitto
2.0.11, and why these adapters exist (mqtt_broker.py uses them):

- ``publish()`` returns nothing and has no acknowledgement callback; PUBACK/PUBCOMP end
  in ``persistent_storage.remove_message_by_mid(mid)``. ``AckTracker``
  (mqtt_inflight.py) is that storage: it maps packet ids to outbox records and deletes
  a record on its acknowledgement.
- Over MQTT 5 gmqtt enforces the broker's receive maximum (mosquitto says 20) through
  its packet-id pool, which SUBSCRIBE and UNSUBSCRIBE share and which raises
  ``OverflowError`` one short of it (the 20th); the receive maximum limits QoS 1/2
  PUBLISH only, so ``AckTracker`` keeps the window itself (mqtt_inflight.py).
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
- ``Client.publish`` costs more than the rest of a QoS 1 message's path; the tracker
  writes the outbox's PUBLISH packets itself (mqtt_inflight.py).
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
from typing import Any

import gmqtt

log = logging.getLogger("portless.mqtt")
gmqtt_log = logging.getLogger("portless.mqtt.gmqtt")


class _GmqttNarration(logging.Filter):
    """gmqtt logs every failed attempt and lost connection at WARNING and ERROR, some of it
    wrong here ("CONNACK 0x87 is permanent, not reconnecting", "max number of failed
    connection attempts achieved": this module reconnects itself), and tracebacks of
    resets. The node says what matters once per change of link state, so gmqtt's lines
    are DEBUG: shown with --log-mqtt-packets (see portless/logs.py), dropped otherwise."""

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


class ClosedBeforeAccepting(ConnectionError):
    """The server closed the connection before it sent CONNACK."""


class LinkEnding:
    """The end of one connection: an event, and why, as far as anyone said."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        self.reason_code: int | None = None  # from the server's DISCONNECT (MQTT 5)
        self.reason = ""  # set by portless when it ends the link itself
        self.closed_by_broker = False  # the socket ended cleanly, from the broker's side

    def on_disconnect(self, client: gmqtt.Client, packet: Any = None, *_: Any) -> None:
        """gmqtt's on_disconnect: a server DISCONNECT brings its packet (reason code
        first), the closed socket an empty one; the first reason is kept."""
        if isinstance(packet, (bytes, bytearray)) and packet and self.reason_code is None:
            self.reason_code = packet[0]
        # The stream's end was fed without an error: the broker closed the socket, not
        # the network (a reset) and not portless (which says why in ``reason``).
        # (gmqtt's own reference to its reader: asyncio forgets it on connection_lost.)
        reader = getattr(getattr(client._connection, "_protocol", None), "_hard_reader",
                         None)
        self.closed_by_broker = reader is not None and reader._eof \
            and reader.exception() is None
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


async def disconnect(client: gmqtt.Client, reason_code: int = 0) -> None:
    """Close a client for good: no reconnect left pending, no exception escaping. A
    broker that stopped reading never takes the DISCONNECT, so after 2 s the socket is
    aborted rather than left open. ``reason_code`` (MQTT 5): 4 asks the broker to
    publish the will."""
    try:
        async with asyncio.timeout(2.0):  # not wait_for: it can lose a cancellation
            await client.disconnect(reason_code)
    except Exception as exc:
        log.debug("disconnect: %s", exc)
        if client._connection is not None:
            client._connection._transport.abort()
