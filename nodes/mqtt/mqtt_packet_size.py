"""The maximum packet size on the link, inbound: a packet above it is skipped as it
streams in, never held whole in memory; after big packets the memory goes back to the
operating system.

gmqtt appends every chunk it reads to one bytes buffer until a packet is complete, so
one 100 MB message cost 1.62 GB of RSS and an 18.8 s stall of the event loop. Over
MQTT 5 the broker is told the maximum in CONNECT and should send nothing bigger; over
3.1.1 (and from a broker that ignores it) this is the bound. A skipped QoS 1/2 message
is acknowledged, so the broker does not send it again on every reconnect.

glibc keeps freed memory in its heap rather than returning it: after a burst of 20
messages of 1 MiB the process stayed 24 MB larger. A second after a read buffer grew past
256 KiB, ``malloc_trim`` gives it back (3 ms after such a burst; not glibc: nothing).
"""

from __future__ import annotations

import asyncio
import ctypes
import time
from collections.abc import Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTCommands

# gmqtt reads at most this much at a time; a maximum above it guarantees that an
# oversized packet is seen incomplete first, before gmqtt could parse it whole.
READ_CHUNK = 65536
SMALLEST_MAXIMUM = 2 * READ_CHUNK
BIG_READ = 4 * READ_CHUNK
"""A read buffer this big means a big packet: memory is given back a second later."""

_malloc_trim: Callable[[int], int] | None = getattr(
    ctypes.CDLL(None), "malloc_trim", None)  # glibc only
# When the pending trim is due, on which loop (a loop that closed took its timer along).
_trim_at: tuple[asyncio.AbstractEventLoop, float] | None = None


def return_memory_soon() -> None:
    """Ask the C allocator, a second after the last time this was called, to give its
    free memory back to the operating system."""
    global _trim_at
    if _malloc_trim is None:
        return
    loop = asyncio.get_running_loop()
    if _trim_at is None or _trim_at[0] is not loop:
        loop.call_later(1.0, _trim)
    _trim_at = (loop, loop.time() + 1.0)


def _trim() -> None:
    global _trim_at
    loop = asyncio.get_running_loop()
    if _trim_at is not None and _trim_at[0] is loop and _trim_at[1] > loop.time():
        loop.call_at(_trim_at[1], _trim)  # asked again since: later
        return
    _trim_at = None
    if _malloc_trim is not None:
        _malloc_trim(0)


def fixed_header(data: bytes, start: int) -> tuple[int, int] | None:
    """(remaining length, header size) of the packet at ``start``, None if the header
    is not all there yet."""
    length, multiplier = 0, 1
    for index in range(start + 1, min(start + 5, len(data))):
        byte = data[index]
        length += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            return length, index - start + 1
        multiplier *= 128
    return None


def publish_head(data: bytes, start: int) -> tuple[str, int, int] | None:
    """Topic (as it may be logged), QoS and packet id (0 at QoS 0) of the PUBLISH at
    ``start``, None if its variable header has not arrived yet."""
    header = fixed_header(data, start)
    if header is None:
        return None
    qos = (data[start] >> 1) & 3
    at = start + header[1]
    if len(data) < at + 2:
        return None
    topic_end = at + 2 + int.from_bytes(data[at:at + 2], "big")
    if len(data) < topic_end + (2 if qos else 0):
        return None
    topic = data[at + 2:topic_end].decode("utf-8", "replace")
    if not topic.isprintable():  # a hostile topic must not split or forge log lines
        topic = repr(topic)
    mid = int.from_bytes(data[topic_end:topic_end + 2], "big") if qos else 0
    return topic, qos, mid


class InboundLimit:
    """Wraps a connection's protocol: reads pass through until a packet above
    ``maximum`` starts; its bytes are then dropped as they come, the broker is
    acknowledged, and ``on_skipped`` is told. An oversized packet that is not a
    PUBLISH (or whose topic does not fit a read) ends the link via ``on_fatal``."""

    def __init__(self, protocol: Any, maximum: int, on_skipped: Callable[[str], None],
                 on_fatal: Callable[[str], None]) -> None:
        self._protocol = protocol
        self.maximum = maximum
        self._on_skipped = on_skipped
        self._on_fatal = on_fatal
        self._parse = protocol._read_packet
        self._read = protocol.read
        self._to_skip = 0
        self._acknowledge: tuple[int, int] | None = None  # (qos, packet id)
        protocol._read_packet = self.parse
        protocol.read = self.read

    def parse(self, data: bytes) -> int:
        """gmqtt's packet parser, then a look at the incomplete packet left over."""
        parsed: int = self._parse(data)
        if len(data) >= BIG_READ:
            return_memory_soon()
        if parsed < 0 or len(data) - parsed < 2:
            return parsed
        header = fixed_header(data, parsed)
        if header is None or header[0] + header[1] <= self.maximum:
            return parsed
        size = header[0] + header[1]
        head = publish_head(data, parsed) if data[parsed] & 0xF0 == MQTTCommands.PUBLISH \
            else None
        if head is None:
            self._on_fatal(f"the broker sent a packet of {size:,} bytes, above the maximum "
                           f"packet size ({self.maximum:,} bytes)")
            return -1  # gmqtt stops reading; on_fatal has ended the link
        topic, qos, mid = head
        self._to_skip = size - (len(data) - parsed)
        self._acknowledge = (qos, mid) if qos else None
        self._on_skipped(f"a message of {size:,} bytes on {topic} is above the maximum "
                         f"packet size ({self.maximum:,} bytes); skipped")
        return len(data)  # gmqtt forgets the start of the packet; read() drops the rest

    async def read(self, n: int = -1) -> bytes:
        """gmqtt's read, less the bytes of a packet being skipped. Any bytes count as a
        sign of life for the keepalive check, which otherwise sees only whole packets and
        would end a slow link in the middle of a big one."""
        while True:
            data: bytes = await self._read(n)
            if data:
                self._protocol._connection._last_data_in = time.monotonic()
            if not self._to_skip or not data:
                return data
            if len(data) < self._to_skip:
                self._to_skip -= len(data)
                continue
            data = data[self._to_skip:]
            self._to_skip = 0
            self._skipped()
            if data:
                return data

    def _skipped(self) -> None:
        if self._acknowledge is not None:
            qos, mid = self._acknowledge
            self._acknowledge = None
            command = MQTTCommands.PUBACK if qos == 1 else MQTTCommands.PUBREC
            self._protocol.send_command_with_mid(command, mid, False)


def limit_inbound(client: gmqtt.Client, maximum: int, on_skipped: Callable[[str], None],
                  on_fatal: Callable[[str], None]) -> None:
    """Guard every connection ``client`` makes, from before its CONNECT is sent (a
    persistent session's queued messages can follow CONNACK at once)."""
    create = client._create_connection

    async def create_limited(*args: Any, **kwargs: Any) -> Any:
        connection = await create(*args, **kwargs)
        InboundLimit(connection._protocol, maximum, on_skipped, on_fatal)
        return connection

    client._create_connection = create_limited
