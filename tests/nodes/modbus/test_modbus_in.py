"""modbus-in against a real pymodbus server: reads merged (the requests the server
sees, counted), the protocol's maximum per read, deadband, one message for all points,
and a poll that cannot keep up (status, stale, skipped)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.modbus_server import ModbusServer
from tests.nodes.modbus.flows import connection, flow, poll, status_text, write_registers

pytestmark = pytest.mark.slow  # a server subprocess per test


def reads(server: ModbusServer, since: int = 0) -> list[tuple[int, int, int]]:
    """(function code, address, count) of the reads the server answered."""
    return [(fc, address, count) for _, fc, address, count in server.requests()[since:]
            if fc in (1, 2, 3, 4)]


def registers(count: int, start: int = 0, **fields: Any) -> list[dict[str, Any]]:
    return [{"name": f"r{start + n}", "address": start + n, **fields} for n in range(count)]


@pytest.mark.parametrize(("points", "group", "plc", "expected"), [
    # touching points of every width: one read
    ([{"name": "a", "address": 0}, {"name": "b", "address": 1, "type": "int32"},
      {"name": "c", "address": 3, "type": "float64"}, {"name": "d", "address": 7}],
     {}, {}, [(3, 0, 8)]),
    # a gap splits; merge_gap bridges it
    ([{"name": "a", "address": 0}, {"name": "b", "address": 5}], {}, {},
     [(3, 0, 1), (3, 5, 1)]),
    ([{"name": "a", "address": 0}, {"name": "b", "address": 5}], {"merge_gap": 4}, {},
     [(3, 0, 6)]),
    # 130 registers: the protocol's 125, then the rest
    (registers(130), {}, {}, [(3, 0, 125), (3, 125, 5)]),
    # a device that takes fewer per read
    (registers(10), {}, {"max_read_registers": 4}, [(3, 0, 4), (3, 4, 4), (3, 8, 2)]),
    # an int32 is never split across two reads
    ([*registers(3), {"name": "wide", "address": 3, "type": "int32"}], {},
     {"max_read_registers": 4}, [(3, 0, 3), (3, 3, 2)]),
    # each table its own reads; coils up to max_read_bits
    ([{"name": "c", "table": "coil", "address": 0, "type": "bool"},
      {"name": "d", "table": "discrete-input", "address": 0, "type": "bool"},
      {"name": "i", "table": "input-register", "address": 0},
      {"name": "h", "table": "holding-register", "address": 0}], {}, {},
     [(1, 0, 1), (2, 0, 1), (3, 0, 1), (4, 0, 1)]),
    ([{"name": f"c{n}", "table": "coil", "address": n, "type": "bool"} for n in range(20)],
     {}, {"max_read_bits": 8}, [(1, 0, 1), (1, 8, 1), (1, 16, 1)]),
])
async def test_points_are_merged_into_few_reads(
        modbus_server: ModbusServer, points: list[dict[str, Any]], group: dict[str, Any],
        plc: dict[str, Any], expected: list[tuple[int, int, int]]) -> None:
    async with FlowHarness(flow(connection(modbus_server.port, **plc),
                                poll("group", points, interval=60, **group))) as h:
        await h.wait_for("group", len(points))
    modbus_server.wait_requests(len(expected))  # its output may lag behind its answers
    # the server logs a read of coils by the registers that hold them (16 to one)
    assert sorted(reads(modbus_server)) == sorted(expected)


async def sent_twice(h: FlowHarness, topic: str, value: Any) -> None:
    """Wait until the poll group has sent ``value`` for ``topic`` in two polls."""
    async with asyncio.timeout(10):
        while sum(1 for m in h.received("group")
                  if m["topic"] == topic and m["payload"] == value) < 2:
            await h.changed()


async def test_a_deadband_sends_only_moves_beyond_it(modbus_server: ModbusServer) -> None:
    port = modbus_server.port
    await write_registers(port, 0, [100, 100])
    points = [{"name": "banded", "address": 0, "deadband": 5},
              {"name": "every", "address": 1}]
    async with FlowHarness(flow(connection(port), poll("group", points, interval=0.05))) as h:
        await h.wait_for("group", 2)
        for value in (103, 104, 110, 108):  # 3 and 4 are within 5 of 100; 110 is not
            await write_registers(port, 0, [value, value])
            await sent_twice(h, "every", value)  # so "banded" was decided on it too
        sent = [m["payload"] for m in h.received("group") if m["topic"] == "banded"]
        every = [m["payload"] for m in h.received("group") if m["topic"] == "every"]
    assert sent == [100, 110]  # 108 is within 5 of 110, the last value sent
    assert set(every) == {100, 103, 104, 110, 108}
    assert len(every) > 5


async def test_all_points_in_one_message(modbus_server: ModbusServer) -> None:
    await write_registers(modbus_server.port, 0, [7, 0x4142])
    points = [{"name": "count", "address": 0},
              {"name": "label", "address": 1, "type": "string"},
              {"name": "missing", "address": 3000}]  # an address the server does not have
    async with FlowHarness(flow(connection(modbus_server.port),
                                poll("group", points, output="all-points", topic="plc/1",
                                     interval=60))) as h:
        await status_text(h, "group", "1 of 3 points bad")
        messages = h.received("group")
    assert len(messages) == 1  # two reads, one message
    last = messages[0]
    assert last["topic"] == "plc/1"
    assert last["payload"] == {"count": 7, "label": "AB", "missing": None}
    assert {name: point["quality"] for name, point in last["points"].items()} == {
        "count": "good", "label": "good", "missing": "bad: illegal data address"}
    assert all(isinstance(point["timestamp"], int) for point in last["points"].values())


async def test_a_poll_that_cannot_keep_up_skips_and_says_so(
        modbus_factory: Any) -> None:
    server = modbus_factory(units=(1,), slow={1: 0.3})
    points = [{"name": "level", "address": 0}]
    async with FlowHarness(flow(connection(server.port, timeout=2),
                                poll("group", points, interval=0.1))) as h:
        first = (await h.wait_for("group", 1))[0]
        await status_text(h, "group", "cannot keep up")
        stale = await h.wait_for("group", 2)
        fresh = await h.wait_for("group", 3)
    assert first["quality"] == "good"
    assert stale[1]["quality"] == "stale"
    assert stale[1]["timestamp"] == first["timestamp"]  # the value's, not now
    assert fresh[2]["quality"] == "good"
    # skipped, not queued: at most one read at a time, about one per 0.3 s
    assert all(r[0] == 3 for r in reads(server))
