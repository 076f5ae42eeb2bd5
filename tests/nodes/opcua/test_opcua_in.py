"""opcua-in against a real asyncua server: subscriptions deliver changes, deadband,
polling, the message's fields, a node id the server does not know, and the server
killed and started again (session and subscriptions rebuilt, values flow again)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.opcua_server import OpcUaServer

pytestmark = pytest.mark.slow  # each test starts an OPC UA server process

COUNTER = "ns=2;s=Valve1.Counter"
FLOW = "ns=2;s=Valve1.Flow"


def connection(url: str, **config: Any) -> dict[str, Any]:
    return {"id": "plc", "type": "opcua-connection",
            "config": {"endpoint": url, "reconnect_min_delay": 0.1,
                       "reconnect_max_delay": 0.5, "keepalive": 0.5, **config}}


def reader(*node_ids: str, node_id: str = "in", **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "opcua-in",
            "config": {"connection": "plc",
                       "items": [{"node_id": item} for item in node_ids], **config}}


def flow(url: str, *nodes: dict[str, Any], **config: Any) -> dict[str, Any]:
    return {"version": 1, "nodes": [connection(url, **config), *nodes]}


async def until(h: FlowHarness, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await h.changed()


def status_texts(h: FlowHarness, node_id: str) -> list[str]:
    return [e.data.get("text", "") for e in h.events
            if e.node_id == node_id and e.kind == "status"]


async def write(url: str, node_id: str, value: Any, variant: str) -> None:
    """Change a value on the server, as the PLC program would (a second client)."""
    from asyncua import Client, ua

    async with Client(url) as client:
        await client.get_node(node_id).write_value(
            ua.Variant(value, getattr(ua.VariantType, variant)))


def payloads(h: FlowHarness) -> list[Any]:
    return [msg["payload"] for msg in h.received("in")]


async def test_subscription_delivers_changes_with_quality_and_timestamps(
        opcua_server: OpcUaServer) -> None:
    document = flow(opcua_server.url, reader(COUNTER, publishing_interval=50))
    async with FlowHarness(document) as h:
        messages = await h.wait_for("in", 3, timeout=15)
    values = [msg["payload"] for msg in messages]
    assert values == sorted(values)
    assert len(set(values)) == 3
    first = messages[0]
    assert first["topic"] == COUNTER
    assert first["nodeId"] == COUNTER
    assert first["quality"] == "good"
    assert first["statusCode"] == "Good"
    now = time.time() * 1000
    assert now - 10_000 < first["timestamp"] <= now + 1000  # source timestamp, ms
    assert isinstance(first["serverTimestamp"], int)
    assert "connected" in status_texts(h, "plc")


async def test_name_is_the_topic(opcua_server: OpcUaServer) -> None:
    node = reader(publishing_interval=50)
    node["config"]["items"] = [{"node_id": FLOW, "name": "valve-1/flow"}]
    async with FlowHarness(flow(opcua_server.url, node)) as h:
        (msg,) = await h.wait_for("in", 1, timeout=15)
    assert msg["topic"] == "valve-1/flow"
    assert msg["payload"] == 0.0


async def test_absolute_deadband_drops_small_changes(opcua_server: OpcUaServer) -> None:
    document = flow(opcua_server.url, reader(FLOW, publishing_interval=20,
                                             sampling_interval=0,
                                             deadband={"absolute": 0.5}))
    async with FlowHarness(document) as h:
        await h.wait_for("in", 1, timeout=15)  # the current value, 0.0
        # Each step is beyond the band from both the last value reported and the last
        # sample, or within it from both (asyncua's server compares with the sample).
        for small, big in ((0.2, 1.0), (1.3, 2.0)):
            await write(opcua_server.url, FLOW, small, "Double")
            await write(opcua_server.url, FLOW, big, "Double")
            await until(h, lambda big=big: payloads(h)[-1] == big)
        assert payloads(h) == [0.0, 1.0, 2.0]


async def test_unknown_node_id_is_bad_and_said_in_status(opcua_server: OpcUaServer) -> None:
    document = flow(opcua_server.url, reader("ns=2;s=NoSuchThing", FLOW))
    async with FlowHarness(document) as h:
        await until(h, lambda: len(h.received("in")) >= 2)
        by_node = {msg["nodeId"]: msg for msg in h.received("in")}
        missing = by_node["ns=2;s=NoSuchThing"]
        assert missing["quality"] == "bad: node id unknown"
        assert missing["statusCode"] == "BadNodeIdUnknown"
        assert missing["payload"] is None
        assert by_node[FLOW]["quality"] == "good"
        await until(h, lambda: any("1 of 2 refused (ns=2;s=NoSuchThing: BadNodeIdUnknown)"
                                   in text for text in status_texts(h, "in")))


async def test_poll_reads_every_interval(opcua_server: OpcUaServer) -> None:
    document = flow(opcua_server.url, reader(FLOW, "ns=2;s=NoSuchThing", mode="poll",
                                             poll_interval=50))
    async with FlowHarness(document) as h:
        messages = await h.wait_for("in", 6, timeout=15)
    flows = [msg for msg in messages if msg["nodeId"] == FLOW]
    assert len(flows) >= 3
    assert all(msg["payload"] == 0.0 for msg in flows)
    assert all(msg["quality"] == "good" for msg in flows)  # every poll, changed or not
    missing = [msg for msg in messages if msg["nodeId"] != FLOW]
    assert missing
    assert missing[0]["quality"] == "bad: node id unknown"


async def test_poll_that_cannot_keep_up_skips_and_says_so(opcua_server: OpcUaServer) -> None:
    # 10,000 reads in twenty requests cannot be done every 10 ms on this machine.
    document = flow(opcua_server.url, reader(*[FLOW] * 10000, mode="poll", poll_interval=10))
    async with FlowHarness(document) as h:
        await until(h, lambda: any("polls skipped: a read took longer than 10 ms" in text
                                   for text in status_texts(h, "in")), timeout=30)
        polls = len(h.received("in")) // 10000
    assert polls >= 1


async def test_server_restart_rebuilds_session_and_subscriptions(
        opcua_server: OpcUaServer) -> None:
    document = flow(opcua_server.url, reader(COUNTER, FLOW, publishing_interval=50))
    async with FlowHarness(document) as h:
        await until(h, lambda: len({msg["payload"] for msg in h.received("in")
                                    if msg["nodeId"] == COUNTER}) >= 2)
        opcua_server.kill()
        await until(h, lambda: any(text.startswith("connection lost")
                                   for text in status_texts(h, "plc")))
        await until(h, lambda: {msg["nodeId"] for msg in h.received("in")
                                if msg["quality"] == "stale"} == {COUNTER, FLOW})
        await until(h, lambda: any(text.startswith("connection refused")
                                   for text in status_texts(h, "plc")))
        before = len(h.received("in"))
        opcua_server.start()  # a new server: the counter starts again from 0
        await until(h, lambda: status_texts(h, "plc")[-1] == "connected", timeout=20)
        await until(h, lambda: len([m for m in h.received("in")[before:]
                                    if m["nodeId"] == COUNTER]) >= 3, timeout=20)
        after = h.received("in")[before:]
    assert {msg["nodeId"] for msg in after} == {COUNTER, FLOW}  # FLOW re-delivered
    assert all(msg["quality"] == "good" for msg in after)
    counters = [msg["payload"] for msg in after if msg["nodeId"] == COUNTER]
    assert counters == sorted(counters)
    assert len(counters) == len(set(counters))
    assert status_texts(h, "in")[-1] == "connected"
