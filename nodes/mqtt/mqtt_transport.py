"""The connected client's transport: batched writes, a bounded send buffer, and a
keepalive check that aborts.

gmqtt writes each packet to the socket at once, keeps whatever the kernel does not take
in asyncio's unbounded write buffer, and on a keepalive timeout closes the transport
gracefully, which waits for that buffer to drain. A broker that stops reading (a
SIGSTOPped mosquitto) grew the process by half a gigabyte of QoS 0 messages, and the
link looked connected for 22 s after the timeout while publishes vanished. Here every
write goes through a ``WriteBatcher`` that knows how much is still unsent, and silence
ends the link at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gmqtt


class WriteBatcher:
    """Stands in for a connected client's transport: what gmqtt writes in one turn of
    the event loop leaves in one ``transport.write`` at the end of the turn, and it
    keeps count of what is still unsent (``has_room``).

    gmqtt writes every packet at once, and asyncio sends at once while its buffer is
    empty, so each publish cost a send() system call: about half of a QoS 0 publish,
    and a third of the sender's time at QoS 1 (bench/mqtt.py)."""

    def __init__(self, transport: asyncio.Transport, max_messages: int, max_bytes: int
                 ) -> None:
        self._transport = transport
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._chunks: list[bytes] = []
        self._pending_bytes = 0
        self._flush_handle: asyncio.Handle | None = None
        self._handed = 0  # bytes given to the transport on this connection
        # While the transport holds unsent bytes: (stream offset where a flush ended,
        # packets in it), so the packets still unsent can be counted.
        self._backlog: deque[tuple[int, int]] = deque()
        self._packets_in_transport = 0
        self._largest = 1 << 62
        self._on_too_big: Callable[[bytes], None] = lambda packet: None

    def refuse_above(self, maximum: int, on_too_big: Callable[[bytes], None]) -> None:
        """Hold back packets bigger than ``maximum`` (the broker's, from CONNACK), which
        the broker would answer by closing the connection; ``on_too_big`` gets each."""
        self._largest = maximum
        self._on_too_big = on_too_big

    def write(self, data: bytes) -> None:
        if len(data) > self._largest:
            self._on_too_big(data)
            return
        self._chunks.append(data)
        self._pending_bytes += len(data)
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self.flush)

    def flush_now(self) -> None:
        """Write what waits now, not at the end of this turn of the event loop."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self.flush()

    def flush(self) -> None:
        self._flush_handle = None
        if not self._chunks:
            return
        data = b"".join(self._chunks)
        packets = len(self._chunks)
        self._chunks.clear()
        self._pending_bytes = 0
        transport = self._transport
        if transport.is_closing():
            return
        transport.write(data)
        self._handed += len(data)
        if transport.get_write_buffer_size():
            self._backlog.append((self._handed, packets))
            self._packets_in_transport += packets
        else:  # the kernel took everything, this flush and all before it
            self._backlog.clear()
            self._packets_in_transport = 0

    def has_room(self, size: int) -> bool:
        """Whether one more packet of ``size`` bytes fits in the send buffer: what this
        turn wrote plus what the transport has not handed to the kernel yet, at most
        ``max_messages`` packets and ``max_bytes`` bytes. A packet bigger than the whole
        buffer still goes when the buffer is empty."""
        if self._backlog:
            return self._room_beside_backlog(size)
        pending = self._pending_bytes  # the common case, once per QoS 0 publish: kept short
        return (pending == 0 or pending + size <= self.max_bytes) \
            and len(self._chunks) < self.max_messages

    async def wait_for_room(self, size: int) -> None:
        """Wait until a packet of ``size`` bytes fits in the send buffer (QoS 1/2 wait
        while QoS 0 is dropped). Polled every 10 ms while full: only a broker that reads
        slower than the flow publishes makes it wait at all."""
        # No event says "the kernel took some": asyncio tells a protocol only when its
        # buffer crosses the low-water mark, which is not this bound; hence the poll.
        while not self.has_room(size):  # noqa: ASYNC110
            await asyncio.sleep(0 if self._chunks and not self._backlog else 0.01)

    def _room_beside_backlog(self, size: int) -> bool:
        buffered = self._transport.get_write_buffer_size()
        sent = self._handed - buffered
        backlog = self._backlog
        while backlog and backlog[0][0] <= sent:
            self._packets_in_transport -= backlog.popleft()[1]
        unsent = self._pending_bytes + buffered
        return (len(self._chunks) + self._packets_in_transport < self.max_messages
                and (unsent == 0 or unsent + size <= self.max_bytes))

    def close(self) -> None:
        self.flush()  # DISCONNECT and whatever came before it go out first
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def batch_writes(client: gmqtt.Client, max_messages: int, max_bytes: int) -> WriteBatcher:
    """Put a WriteBatcher between a connected client and its transport (both places
    gmqtt writes from: the connection and its protocol)."""
    connection = client._connection
    batcher = WriteBatcher(connection._transport, max_messages, max_bytes)
    connection._transport = batcher
    connection._protocol._transport = batcher
    return batcher


def watch_keepalive(client: gmqtt.Client, on_silence: Callable[[str], None]) -> None:
    """Replace gmqtt's keepalive check with one that aborts: after 1.5 times the keepalive
    without a packet from the broker (what a broker allows a client), ``on_silence`` is
    told why and the transport is aborted, unsent data and all, so the link ends now
    and reconnecting starts. PINGREQ goes out as gmqtt sends it, after 0.8 times the keepalive
    of silence in either direction."""
    connection = client._connection
    loop = asyncio.get_running_loop()

    def check() -> None:
        keepalive = connection._keepalive
        if connection.is_closing() or not keepalive:
            return
        now = time.monotonic()
        silent = now - connection._last_data_in
        if silent >= 1.5 * keepalive:
            on_silence(f"no answer from the broker within the keepalive "
                       f"({1.5 * keepalive:g} s: 1.5 times {keepalive} s); reconnecting")
            connection._transport.abort()
            return
        if silent >= 0.8 * keepalive or now - connection._last_data_out >= 0.8 * keepalive:
            connection._send_ping_request()
        connection._keep_connection_callback = loop.call_later(keepalive / 2, check)

    connection._keep_connection_callback.cancel()
    # What gmqtt's keepalive setter reschedules, should the keepalive change later.
    connection._keep_connection = check
    connection._keep_connection_callback = loop.call_later(connection._keepalive / 2, check)
