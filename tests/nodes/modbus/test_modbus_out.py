"""modbus-out against a real pymodbus server: writes confirmed by the device (read back
with a plain client, and the function codes the server saw), several points from one
payload, values that do not fit refused before anything is written, and a write the
device refuses as an error a catch node takes with its message."""

from __future__ import annotations

import math
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.modbus_server import ModbusServer
from tests.nodes.modbus.flows import connection, flow, read_registers

pytestmark = pytest.mark.slow  # a server subprocess per test


def writer(points: list[dict[str, Any]], **config: Any) -> dict[str, Any]:
    return {"id": "write", "type": "modbus-out",
            "config": {"connection": "plc", "points": points, **config}}


CATCH = {"id": "catch", "type": "catch", "config": {}}


def writes(server: ModbusServer, expected: int = 0) -> list[tuple[int, int]]:
    """(function code, address) of the writes the server answered, once it has said
    ``expected`` requests (its output may lag behind its answers)."""
    server.wait_requests(expected)
    return [(fc, address) for _, fc, address, _ in server.requests() if fc in (5, 6, 15, 16)]


async def run(server: ModbusServer, node: dict[str, Any], payloads: list[Any]
              ) -> list[dict[str, Any]]:
    """Send the payloads through ``node``; the errors a catch node took."""
    async with FlowHarness(flow(connection(server.port), node, CATCH)) as h:
        for payload in payloads:
            h.inject("write", {"payload": payload})
        await h.wait_event(lambda e: e.node_id == "write" and e.kind == "status"
                           and e.data.get("text") == "connected")
        while h.engine.nodes["write"].pending:
            await h.changed()
        return [{"payload": m["payload"], "error": m["error"]["message"],
                 "source": m["error"]["source"]["id"]} for m in h.received("catch")]


@pytest.mark.parametrize(("point", "payload", "table", "count", "expected", "function"), [
    ({"type": "uint16"}, 50, "holding-register", 1, [50], 6),
    ({"type": "int16"}, -2, "holding-register", 1, [0xFFFE], 6),
    ({"type": "int16", "order": "BADC"}, 0x1234, "holding-register", 1, [0x3412], 6),
    ({"type": "int32", "order": "CDAB"}, -19088744, "holding-register", 2,
     [0xBA98, 0xFEDC], 16),
    ({"type": "float32"}, -123.456, "holding-register", 2, [0xC2F6, 0xE979], 16),
    ({"type": "uint64", "order": "DCBA"}, 0x0102030405060708, "holding-register", 4,
     [0x0807, 0x0605, 0x0403, 0x0201], 16),
    ({"type": "int16", "scale": 0.1, "offset": -20}, 103.4, "holding-register", 1, [1234], 6),
    ({"type": "string", "registers": 3}, "Hi!", "holding-register", 3,
     [0x4869, 0x2100, 0], 16),
    ({"table": "coil", "type": "bool"}, True, "coil", 1, [True], 5),
])
async def test_a_write_is_confirmed_and_lands(
        modbus_server: ModbusServer, point: dict[str, Any], payload: Any, table: str,
        count: int, expected: list[Any], function: int) -> None:
    node = writer([{"name": "setpoint", "address": 20, **point}])
    assert await run(modbus_server, node, [payload]) == []
    assert await read_registers(modbus_server.port, 20, count, table=table) == expected
    assert writes(modbus_server, 2) == [(function, 20)]  # the write, then the read back


async def test_always_write_multiple(modbus_server: ModbusServer) -> None:
    node = writer([{"name": "a", "address": 1}, {"name": "b", "table": "coil",
                                                 "address": 2, "type": "bool"}],
                  always_write_multiple=True)
    assert await run(modbus_server, node, [{"a": 7, "b": True}]) == []
    assert writes(modbus_server, 2) == [(16, 1), (15, 2)]


async def test_several_points_from_one_payload_in_message_order(
        modbus_server: ModbusServer) -> None:
    node = writer([{"name": "low", "address": 0}, {"name": "high", "address": 1}])
    errors = await run(modbus_server, node, [{"high": 9}, {"low": 1, "high": 2},
                                             {"low": 3}])
    assert errors == []
    assert await read_registers(modbus_server.port, 0, 2) == [3, 2]
    assert writes(modbus_server, 5) == [(6, 1), (6, 0), (6, 1), (6, 0)]


@pytest.mark.parametrize(("point", "payload", "error"), [
    ({"type": "int16"}, 70000,
     "msg.payload (point 'p', int16): 70000 does not fit int16 (-32,768 to 32,767)"),
    ({"type": "uint16"}, -1, "msg.payload (point 'p', uint16): -1 does not fit uint16 "
                             "(0 to 65,535)"),
    ({"type": "uint64"}, 2 ** 64, "does not fit uint64 (0 to 18,446,744,073,709,551,615)"),
    pytest.param({"type": "int64"}, 10 ** 5000, "a 16610-bit number does not fit int64",
                 id="a-5000-digit-number"),
    ({"type": "int16"}, -1e308, "-1e+308 does not fit int16"),
    ({"type": "int16"}, 1.5, "1.5 is not a whole number of the register's units (1.5)"),
    ({"type": "int16", "scale": 0.1}, 3276.8, "3276.8 does not fit int16"),
    ({"type": "float32"}, 1e39, "1e+39 does not fit float32 (at most 3.402823e+38 either "
                                "way)"),
    ({"type": "float64"}, math.nan, "nan is not a finite number"),
    ({"type": "uint16"}, "12", "'12' is not a number"),
    ({"type": "uint16"}, True, "true is not a number"),
    ({"type": "uint16"}, None, "null is not a number"),
    ({"type": "string", "registers": 2}, "hello", "text of 5 UTF-8 bytes does not fit 2 "
                                                  "registers (4 bytes)"),
    ({"type": "string", "registers": 2}, "a\0b", "text holding NUL cannot be written"),
    ({"table": "coil", "type": "bool"}, "yes", "'yes' is not a bool (true, false, 1 or 0)"),
    ({"table": "coil", "type": "bool"}, 2, "2 is not a bool"),
])
async def test_a_value_that_does_not_fit_is_refused(
        modbus_server: ModbusServer, point: dict[str, Any], payload: Any, error: str) -> None:
    errors = await run(modbus_server, writer([{"name": "p", "address": 3, **point}]),
                       [payload])
    assert len(errors) == 1
    assert error in errors[0]["error"]
    assert errors[0]["error"].endswith("; nothing written")
    assert errors[0]["source"] == "write"
    assert writes(modbus_server) == []


@pytest.mark.parametrize(("payload", "error"), [
    ({"low": 1, "nope": 2}, "msg.payload.nope: no point of that name (the points are "
                            "high, low); nothing written"),
    ({}, "msg.payload is an empty object: name a point to write; nothing written"),
    (5, "msg.payload must be an object {point name: value} for a node with several "
        "points; nothing written"),
    # one bad value stops the whole message: the good one before it is not written
    ({"low": 1, "high": 1e6}, "msg.payload['high'] (point 'high', uint16): 1000000.0 "
                              "does not fit uint16"),
])
async def test_a_payload_that_names_points_wrongly_is_refused(
        modbus_server: ModbusServer, payload: Any, error: str) -> None:
    node = writer([{"name": "low", "address": 0}, {"name": "high", "address": 1}])
    errors = await run(modbus_server, node, [payload])
    assert [e["error"][:len(error)] for e in errors] == [error]
    assert writes(modbus_server) == []


async def test_a_write_the_device_refuses_is_an_error_with_its_message(
        modbus_factory: Any) -> None:
    server = modbus_factory(units=(1,), readonly={1: 8})
    node = writer([{"name": "ok", "address": 7}, {"name": "locked", "address": 8}])
    errors = await run(server, node, [{"ok": 1, "locked": 2}, {"ok": 3}])
    assert errors == [{"payload": {"ok": 1, "locked": 2}, "source": "write",
                       "error": "unit 1 did not take the write of 'locked' (holding "
                                "register 8): device failure; written before it: ok"}]
    assert await read_registers(server.port, 7, 2) == [3, 0]  # the next message went on
