"""modbus-in decodes every type in every byte and word order as the device holds it.

The registers are written with a plain pymodbus client, as hand-worked hex: the
value's bytes most significant first are ABCD (ABCDEFGH for 64 bits); CDAB puts the
low word first, BADC swaps the bytes of each word, DCBA does both. Then one poll
group reads them all from a real pymodbus server.
"""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.modbus_server import ModbusServer
from tests.nodes.modbus.flows import connection, flow, poll, write_registers

# (type, value as read, {order: registers in address order})
CASES: list[tuple[str, Any, dict[str, list[int]]]] = [
    ("int16", -12345, {"ABCD": [0xCFC7], "CDAB": [0xCFC7], "BADC": [0xC7CF],
                       "DCBA": [0xC7CF]}),
    ("uint16", 0xABCD, {"ABCD": [0xABCD], "CDAB": [0xABCD], "BADC": [0xCDAB],
                        "DCBA": [0xCDAB]}),
    ("int32", -19088744, {"ABCD": [0xFEDC, 0xBA98], "CDAB": [0xBA98, 0xFEDC],
                          "BADC": [0xDCFE, 0x98BA], "DCBA": [0x98BA, 0xDCFE]}),
    ("uint32", 0x01020304, {"ABCD": [0x0102, 0x0304], "CDAB": [0x0304, 0x0102],
                            "BADC": [0x0201, 0x0403], "DCBA": [0x0403, 0x0201]}),
    ("int64", -0x7FFFFFFFFFFFFFFF, {
        "ABCD": [0x8000, 0, 0, 0x0001], "CDAB": [0x0001, 0, 0, 0x8000],
        "BADC": [0x0080, 0, 0, 0x0100], "DCBA": [0x0100, 0, 0, 0x0080]}),
    ("uint64", 0x0102030405060708, {
        "ABCD": [0x0102, 0x0304, 0x0506, 0x0708], "CDAB": [0x0708, 0x0506, 0x0304, 0x0102],
        "BADC": [0x0201, 0x0403, 0x0605, 0x0807], "DCBA": [0x0807, 0x0605, 0x0403, 0x0201]}),
    ("float32", pytest.approx(-123.456, rel=1e-7), {
        "ABCD": [0xC2F6, 0xE979], "CDAB": [0xE979, 0xC2F6], "BADC": [0xF6C2, 0x79E9],
        "DCBA": [0x79E9, 0xF6C2]}),
    ("float64", 123456.789, {
        "ABCD": [0x40FE, 0x240C, 0x9FBE, 0x76C9], "CDAB": [0x76C9, 0x9FBE, 0x240C, 0x40FE],
        "BADC": [0xFE40, 0x0C24, 0xBE9F, 0xC976], "DCBA": [0xC976, 0xBE9F, 0x0C24, 0xFE40]}),
    # a string keeps its characters in address order; only the byte swap applies
    ("string", "Hi! there", {
        "ABCD": [0x4869, 0x2120, 0x7468, 0x6572, 0x6500],
        "CDAB": [0x4869, 0x2120, 0x7468, 0x6572, 0x6500],
        "BADC": [0x6948, 0x2021, 0x6874, 0x7265, 0x0065],
        "DCBA": [0x6948, 0x2021, 0x6874, 0x7265, 0x0065]}),
]


@pytest.mark.slow
async def test_every_type_and_order_decodes_what_the_device_holds(
        modbus_server: ModbusServer) -> None:
    points, expected, address = [], {}, 0
    for data_type, value, layouts in CASES:
        for order, words in layouts.items():
            await write_registers(modbus_server.port, address, words)
            name = f"{data_type}-{order}"
            points.append({"name": name, "address": address, "type": data_type,
                           "order": order, "registers": len(words)})
            expected[name] = value
            address += len(words)
    await write_registers(modbus_server.port, 10, [1, 0, 1], table="coil")
    points += [{"name": f"coil-{n}", "table": "coil", "address": 10 + n, "type": "bool"}
               for n in range(3)]
    expected.update({"coil-0": True, "coil-1": False, "coil-2": True})
    before = len(modbus_server.requests())

    async with FlowHarness(flow(connection(modbus_server.port),
                                poll("group", points, interval=5))) as h:
        messages = await h.wait_for("group", len(points))
    read = {msg["topic"]: msg["payload"] for msg in messages}
    assert read == expected
    assert {msg["quality"] for msg in messages} == {"good"}
    modbus_server.wait_requests(before + 2)  # its output may lag behind its answers
    reads = [r for r in modbus_server.requests()[before:] if r[1] in (1, 3)]
    # 100 contiguous registers: one read of holding registers; 3 coils: one read
    assert address == 100
    assert sorted((fc, start) for _, fc, start, _ in reads) == [(1, 10), (3, 0)]


@pytest.mark.slow
async def test_scale_offset_and_a_float_that_is_not_a_number(
        modbus_server: ModbusServer) -> None:
    await write_registers(modbus_server.port, 0, [1234, 0x7FC0, 0x0000, 0xFFFF])
    points = [{"name": "temperature", "address": 0, "type": "int16", "scale": 0.1,
               "offset": -20},
              {"name": "flow", "address": 1, "type": "float32"},  # a quiet NaN
              {"name": "level", "address": 3, "type": "uint16", "scale": 2}]
    async with FlowHarness(flow(connection(modbus_server.port),
                                poll("group", points, interval=5))) as h:
        messages = {m["topic"]: m for m in await h.wait_for("group", 3)}
    assert messages["temperature"]["payload"] == pytest.approx(103.4)
    assert messages["flow"]["payload"] is None
    assert messages["flow"]["quality"] == "bad: not a finite number (nan)"
    assert messages["level"]["payload"] == 131070
