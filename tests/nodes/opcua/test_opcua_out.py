"""opcua-out against a real asyncua server: every basic type written and confirmed
(read back from the server), values that do not fit refused before anything is sent,
a write the server refuses, an unknown node id, fields, msg.topic, order, and errors
caught by a catch node."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.opcua_server import OpcUaServer

pytestmark = pytest.mark.slow  # each test starts an OPC UA server process


def out_flow(url: str, **config: Any) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "plc", "type": "opcua-connection",
         "config": {"endpoint": url, "reconnect_min_delay": 0.1, "reconnect_max_delay": 0.5}},
        {"id": "out", "type": "opcua-out", "config": {"connection": "plc", **config}},
        {"id": "catch", "type": "catch", "config": {}}]}


async def read_back(url: str, *node_ids: str) -> list[Any]:
    """What the server holds now, read by a second client."""
    from asyncua import Client

    async with Client(url) as client:
        return [await client.get_node(node_id).read_value() for node_id in node_ids]


async def written(h: FlowHarness, count: int) -> None:
    """Wait until ``count`` messages were written (sent on) or failed (caught)."""
    async with asyncio.timeout(15):
        while len(h.received("out")) + len(h.received("catch")) < count:
            await h.changed()


def caught(h: FlowHarness) -> list[str]:
    return [msg["error"]["message"] for msg in h.received("catch")]


FITS = [  # (type, value written, value the server then holds)
    ("Boolean", True, True),
    ("SByte", -128, -128), ("Byte", 255, 255),
    ("Int16", -32768, -32768), ("UInt16", 65535, 65535),
    ("Int32", 2**31 - 1, 2**31 - 1), ("UInt32", 2**32 - 1, 2**32 - 1),
    ("Int64", -(2**63), -(2**63)), ("UInt64", 2**64 - 1, 2**64 - 1),
    ("Int16", 12.0, 12),  # a whole number written as a float
    ("Float", 1.5, 1.5), ("Float", -3.4e38, pytest.approx(-3.4e38, rel=1e-6)),
    ("Double", 1e308, 1e308), ("Double", 7, 7.0),
    ("String", "Ventil offen ✓", "Ventil offen ✓"), ("String", "", ""),
]


async def test_every_basic_type_is_written_and_confirmed(opcua_server: OpcUaServer) -> None:
    async with FlowHarness(out_flow(opcua_server.url)) as h:
        for count, (kind, value, expected) in enumerate(FITS, 1):
            h.inject("out", {"topic": f"ns=2;s=Types.{kind}", "payload": value})
            await written(h, count)
            assert caught(h) == []
            assert await read_back(opcua_server.url, f"ns=2;s=Types.{kind}") == [expected]
        assert [msg["payload"] for msg in h.received("out")] == [value for _, value, _ in FITS]


REFUSED = [  # (type, value, the error after "ns=2;s=Types.<type> (payload): ")
    ("Byte", 256, "256 does not fit Byte (0 to 255)"),
    ("SByte", -129, "-129 does not fit SByte (-128 to 127)"),
    ("Int16", 40000, "40000 does not fit Int16 (-32768 to 32767)"),
    ("UInt16", -1, "-1 does not fit UInt16 (0 to 65535)"),
    ("UInt32", 2**32, "4294967296 does not fit UInt32 (0 to 4294967295)"),
    ("Int64", 2**63, "9223372036854775808 does not fit Int64 "
     "(-9223372036854775808 to 9223372036854775807)"),
    ("UInt64", 2**64, "18446744073709551616 does not fit UInt64 (0 to 18446744073709551615)"),
    ("Int32", 2.5, "2.5 is not a whole number, as Int32 needs (it is not rounded)"),
    ("Int32", "12", "must be a whole number for Int32, not the text '12'"),
    ("Int32", True, "must be a whole number for Int32, not true"),
    ("Boolean", 1, "must be true or false for Boolean, not 1"),
    ("Float", 3.5e38, "3.5e+38 does not fit Float (at most 3.402823e+38 either way)"),
    ("Double", float("nan"), "nan is not a finite number, as Double needs here"),
    ("Double", None, "must be a number for Double, not null"),
    ("Double", {"v": 1}, "must be a number for Double, not a dict"),
    ("String", 5, "must be text for String, not 5"),
]


async def test_values_that_do_not_fit_are_refused_and_not_written(
        opcua_server: OpcUaServer) -> None:
    async with FlowHarness(out_flow(opcua_server.url)) as h:
        for count, (kind, value, _) in enumerate(REFUSED, 1):
            h.inject("out", {"topic": f"ns=2;s=Types.{kind}", "payload": value})
            await written(h, count)
        held = await read_back(opcua_server.url, *{f"ns=2;s=Types.{k}" for k, _, _ in REFUSED})
        assert caught(h) == [f"ns=2;s=Types.{kind} (payload): {sentence}; nothing written"
                             for kind, _, sentence in REFUSED]
        assert h.received("out") == []
    assert all(value in (0, 0.0, False, "") for value in held)  # the initial values


async def test_write_refused_by_the_server_and_unknown_node_id(
        opcua_server: OpcUaServer) -> None:
    async with FlowHarness(out_flow(opcua_server.url)) as h:
        h.inject("out", {"topic": "ns=2;s=Valve1.Locked", "payload": 1})
        h.inject("out", {"topic": "ns=2;s=NoSuchValve", "payload": 1})
        h.inject("out", {"topic": "Valve1.Flow", "payload": 1})
        h.inject("out", {"payload": 1})
        h.inject("out", {"topic": "ns=2;s=Valve\n1", "payload": 1})
        await written(h, 5)
        locked, unknown, bad_id, no_topic, control = caught(h)
        topics = [msg["topic"] for msg in h.received("catch")]
    # asyncua's server answers a write to a read-only variable with BadUserAccessDenied.
    assert locked == ("ns=2;s=Valve1.Locked (payload): the server refused the write: user "
                      "access denied (BadUserAccessDenied)")
    assert unknown == ("ns=2;s=NoSuchValve (payload): cannot read its data type: node id "
                       "unknown (BadNodeIdUnknown); nothing written")
    assert bad_id.startswith("msg.topic: 'Valve1.Flow' must be an OPC UA node id")
    assert no_topic == "no node id: set the node's node_id, or msg.topic; not written"
    assert control.startswith("msg.topic: 'ns=2;s=Valve\\n1' must be an OPC UA node id")
    assert topics == ["ns=2;s=Valve1.Locked", "ns=2;s=NoSuchValve", "Valve1.Flow", "",
                      "ns=2;s=Valve\n1"]  # each error with its own message


async def test_fields_are_written_in_one_request(opcua_server: OpcUaServer) -> None:
    fields = [{"field": "flow", "node_id": "ns=2;s=Valve1.Flow"},
              {"field": "open", "node_id": "ns=2;s=Types.Boolean"},
              {"field": "mode", "node_id": "ns=2;s=Types.String"}]
    async with FlowHarness(out_flow(opcua_server.url, fields=fields)) as h:
        h.inject("out", {"payload": {"flow": 12.5, "open": True, "mode": "auto"}})
        h.inject("out", {"payload": {"flow": 3.0, "open": "yes", "mode": "manual"}})
        h.inject("out", {"payload": {"flow": 3.0}})
        h.inject("out", {"payload": 3.0})
        await written(h, 4)
        held = await read_back(opcua_server.url, *(item["node_id"] for item in fields))
        errors = caught(h)
    assert held == [12.5, True, "auto"]  # the second message wrote nothing at all
    assert errors == [
        "ns=2;s=Types.Boolean (payload.open): must be true or false for Boolean, not the "
        "text 'yes'; nothing written",
        "msg.payload has no field open, mode; nothing written",
        "msg.payload must be an object holding the fields flow, open, mode; not written"]


async def test_writes_are_confirmed_one_at_a_time_in_order(opcua_server: OpcUaServer) -> None:
    async with FlowHarness(out_flow(opcua_server.url, node_id="ns=2;s=Types.Int32")) as h:
        for value in range(200):
            h.inject("out", {"payload": value})
        await written(h, 200)
        (held,) = await read_back(opcua_server.url, "ns=2;s=Types.Int32")
        assert [msg["payload"] for msg in h.received("out")] == list(range(200))
    assert held == 199


async def test_write_without_a_connection_fails_with_the_reason(
        opcua_factory: Any) -> None:
    server: OpcUaServer = opcua_factory()
    server.kill()  # a port nothing listens on any more
    async with FlowHarness(out_flow(server.url, connect_wait=0.5)) as h:
        h.inject("out", {"topic": "ns=2;s=Valve1.Flow", "payload": 1.0})
        await written(h, 1)
        (error,) = caught(h)
    assert error == (f"not written: not connected to {server.url}: connection refused "
                     f"({server.url})")
