"""A TCP proxy on 127.0.0.1 between one MQTT client and a real broker, reading the
packets that go by: it counts the QoS 1/2 PUBLISH packets the broker has not yet
acknowledged (what MQTT 5's receive maximum limits) and can hold the acknowledgements
back, so a client fills its window while the broker stays real and running.

Counting at the proxy sees a publish once it left the client and an acknowledgement
once it is on its way to the client, so the count is never above the client's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

PUBLISH, PUBACK, PUBREC, PUBCOMP, SUBACK = 3, 4, 5, 7, 9
ACKS = (PUBACK, PUBREC, PUBCOMP)
HELD = (*ACKS, SUBACK)


class MqttStream:
    """Splits one direction of an MQTT byte stream into (packet type, flags, body)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, int, bytes, bytes]]:
        """Whole packets now complete: (type, flags, body, the packet's bytes)."""
        self._buffer += data
        packets = []
        while True:
            length, shift, index = 0, 0, 1
            while True:
                if index >= len(self._buffer):
                    return packets
                byte = self._buffer[index]
                length |= (byte & 0x7F) << shift
                shift += 7
                index += 1
                if not byte & 0x80:
                    break
            end = index + length
            if end > len(self._buffer):
                return packets
            raw = bytes(self._buffer[:end])
            del self._buffer[:end]
            packets.append((raw[0] >> 4, raw[0] & 0x0F, raw[index:], raw))


class InFlightProxy:
    """``async with InFlightProxy(broker_port) as proxy``: connect the client to
    ``proxy.port``; ``proxy.peak`` is the most QoS 1/2 publishes unacknowledged at once."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.port = 0
        self.in_flight: set[int] = set()
        self.peak = 0
        self.publishes = 0
        self.refusals: list[int] = []
        """Reason codes >= 0x80 of acknowledgements (MQTT 5), e.g. 0x97 quota exceeded."""
        self._holding = False
        self._held: list[tuple[int, bytes, bytes]] = []
        self._to_client: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> InFlightProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def hold_acks(self) -> None:
        """Keep PUBACK/PUBREC/PUBCOMP (and SUBACK) from the broker until ``release_acks``."""
        self._holding = True

    def release_acks(self) -> None:
        self._holding = False
        held, self._held = self._held, []
        for kind, body, _ in held:
            if kind in ACKS:
                self._acknowledge(kind, body)
        if self._to_client is not None:
            self._to_client.write(b"".join(raw for *_, raw in held))

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1",
                                                                     self.broker_port)
        self._to_client = client_writer
        for pump in (self._pump(client_reader, broker_writer, self._from_client),
                     self._pump(broker_reader, client_writer, self._from_broker)):
            task = asyncio.get_running_loop().create_task(pump)
            self._tasks.add(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    inspect: Callable[[list[tuple[int, int, bytes, bytes]]], bytes]) -> None:
        stream = MqttStream()
        try:
            while data := await reader.read(65536):
                writer.write(inspect(stream.feed(data)))
                await writer.drain()
        finally:
            writer.close()

    def _from_client(self, packets: list[tuple[int, int, bytes, bytes]]) -> bytes:
        for kind, flags, body, _ in packets:
            if kind == PUBLISH and (flags >> 1) & 3:
                topic_length = int.from_bytes(body[:2], "big")
                self.in_flight.add(int.from_bytes(body[2 + topic_length:4 + topic_length],
                                                  "big"))
                self.publishes += 1
        self.peak = max(self.peak, len(self.in_flight))
        return b"".join(raw for *_, raw in packets)

    def _from_broker(self, packets: list[tuple[int, int, bytes, bytes]]) -> bytes:
        passing = []
        for kind, _, body, raw in packets:
            if kind in HELD and self._holding:
                self._held.append((kind, body, raw))
                continue
            if kind in ACKS:
                self._acknowledge(kind, body)
            passing.append(raw)
        return b"".join(passing)

    def _acknowledge(self, kind: int, body: bytes) -> None:
        mid = int.from_bytes(body[:2], "big")
        if len(body) > 2 and body[2] >= 0x80:
            self.refusals.append(body[2])
        # QoS 2 stays in flight from PUBLISH to PUBCOMP, unless PUBREC refused it.
        if kind != PUBREC or (len(body) > 2 and body[2] >= 0x80):
            self.in_flight.discard(mid)
