"""mqtt-in against a real mosquitto: payload formats (auto and explicit), the message it
emits, undecodable payloads, wildcards, overlapping and shared subscriptions,
subscriptions restored after a broker restart, and commands that drive an output."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from portless.runtime import Event, Message
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker

CMD = "device/valve-1/cmd"


def broker_node(port: int, node_id: str = "broker", **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "mqtt-broker",
            "config": {"host": "127.0.0.1", "port": port, "reconnect_min_delay": 0.1,
                       "reconnect_max_delay": 0.5, **config}}


def in_node(node_id: str, topic: str, broker: str = "broker", **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "mqtt-in",
            "config": {"broker": broker, "topic": topic, **config}}


def device_flow(port: int, *nodes: dict[str, Any], **broker: Any) -> dict[str, Any]:
    return {"version": 1, "nodes": [broker_node(port, **broker), *nodes]}


async def connected(h: FlowHarness, node_id: str = "broker") -> None:
    await h.wait_event(lambda e: e.node_id == node_id and e.kind == "status"
                       and e.data.get("text") == "connected")


async def subscribed(h: FlowHarness, watcher: Watcher, node_id: str, topic: str) -> None:
    """Wait until ``node_id`` is subscribed on the broker: a retained marker on ``topic``
    (which its filter matches) reaches it as its first message. Retained, so it does not
    matter whether the SUBSCRIBE or the marker reaches mosquitto first; b"0" decodes in
    every format. (Not cleared afterwards: clearing is itself delivered.)"""
    watcher.publish(topic, b"0", qos=1, retain=True)
    await h.wait_for(node_id, 1)


async def wait_after(h: FlowHarness, start: int, predicate: Callable[[Event], bool], *,
                     timeout: float = 5.0) -> Event:
    """The first event from ``h.events[start:]`` on that matches ``predicate``."""
    return await h.wait_event(predicate, since=start, timeout=timeout)


async def until(h: FlowHarness, condition: Callable[[], bool], *, timeout: float = 5.0
                ) -> None:
    """Wait until ``condition()`` holds, checked at every event or message (or 5 ms)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await h.changed()


def status_is(node_id: str, check: Callable[[str], bool]) -> Callable[[Event], bool]:
    return lambda e: e.node_id == node_id and e.kind == "status" and check(
        e.data.get("text", ""))


def payloads(messages: list[Message]) -> list[Any]:
    return [msg["payload"] for msg in messages]


# --- formats ----------------------------------------------------------------------

AUTO = [
    # (wire bytes, MQTT 5 properties of the publisher, payload mqtt-in emits)
    pytest.param(msgpack.packb({"open": True, "flow": 12.5}),
                 {"content_type": "application/msgpack"}, {"open": True, "flow": 12.5},
                 id="msgpack-by-content-type"),
    pytest.param(b'{"open": true}', {"content_type": "application/json"}, {"open": True},
                 id="json-by-content-type"),
    pytest.param(b'{"open": true}', {"content_type": "text/plain; charset=utf-8"},
                 '{"open": true}', id="text-content-type-wins-over-json"),
    pytest.param(b"\x00\x01\xfe", {"content_type": "application/octet-stream"},
                 b"\x00\x01\xfe", id="raw-by-content-type"),
    pytest.param(b'{"setpoint": 42}', {}, {"setpoint": 42}, id="json-that-parses"),
    pytest.param(b"17.5", {}, 17.5, id="json-number"),
    pytest.param("Ventil öffnen".encode(), {}, "Ventil öffnen", id="utf8-text"),
    pytest.param(b"\xff\xfe\x00\x80", {}, b"\xff\xfe\x00\x80", id="non-utf8-bytes"),
]


@pytest.mark.parametrize(("wire", "properties", "expected"), AUTO)
async def test_auto_format_goes_by_content_type_then_json_then_text_then_bytes(
        mosquitto: Mosquitto, wire: bytes, properties: dict[str, Any], expected: Any) -> None:
    document = device_flow(mosquitto.port, in_node("cmd", CMD))
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", CMD)
        operator.publish(CMD, wire, qos=1, **properties)
        (_, got) = await h.wait_for("cmd", 2)
    assert got["payload"] == expected
    assert type(got["payload"]) is type(expected)


EXPLICIT = [
    # (format, wire bytes, misleading content type the format must override, payload)
    ("json", b'{"open": false}', "text/plain", {"open": False}),
    ("msgpack", msgpack.packb([1, "two", 3.0]), "application/json", [1, "two", 3.0]),
    ("text", b'{"not": "parsed"}', "application/json", '{"not": "parsed"}'),
    ("raw", b'{"kept": "as bytes"}', "application/json", b'{"kept": "as bytes"}'),
]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
@pytest.mark.parametrize(("fmt", "wire", "content_type", "expected"), EXPLICIT)
async def test_explicit_format_ignores_the_content_type(
        mosquitto: Mosquitto, protocol: str, fmt: str, wire: bytes, content_type: str,
        expected: Any) -> None:
    document = device_flow(mosquitto.port, in_node("cmd", CMD, format=fmt), protocol=protocol)
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", CMD)
        operator.publish(CMD, wire, qos=1, content_type=content_type)
        (_, got) = await h.wait_for("cmd", 2)
    assert got["payload"] == expected
    assert type(got["payload"]) is type(expected)


# --- the emitted message ------------------------------------------------------------

async def test_message_has_topic_payload_qos_retain_and_properties(
        mosquitto: Mosquitto) -> None:
    async with Watcher(mosquitto.port) as operator:
        # A retained setpoint waiting on the broker before the device subscribes.
        operator.publish(CMD + "/setpoint", b"21.5", qos=1, retain=True)
        document = device_flow(mosquitto.port, in_node("cmd", CMD + "/#", qos=2))
        async with FlowHarness(document) as h:
            (retained,) = await h.wait_for("cmd", 1)
            operator.publish(CMD + "/open", b'{"percent": 40}', qos=2,
                             content_type="application/json",
                             user_property=[("operator", "anna"), ("site", "plant-3")],
                             message_expiry_interval=120)
            operator.publish(CMD + "/close", b"now", qos=0)
            operator.publish(CMD + "/stop", b"1", qos=1)
            # Ordered per QoS only: mosquitto forwards a QoS 2 message after PUBREL.
            by_topic = {msg["topic"]: msg for msg in await h.wait_for("cmd", 4)}
        live, at_most_once, qos1 = (by_topic[CMD + "/open"], by_topic[CMD + "/close"],
                                    by_topic[CMD + "/stop"])

    assert retained["topic"] == CMD + "/setpoint"
    assert retained["payload"] == 21.5
    assert retained["retain"] is True
    assert live["topic"] == CMD + "/open"
    assert live["payload"] == {"percent": 40}
    assert live["qos"] == 2
    assert live["retain"] is False
    properties = live["properties"]
    assert properties["content_type"] == ["application/json"]
    assert properties["user_property"] == [("operator", "anna"), ("site", "plant-3")]
    assert 0 < properties["message_expiry_interval"][0] <= 120
    assert "retain" not in properties
    assert "dup" not in properties
    assert (at_most_once["topic"], at_most_once["payload"], at_most_once["qos"]) == (
        CMD + "/close", "now", 0)
    assert qos1["qos"] == 1
    for msg in (retained, live, at_most_once, qos1):
        assert msg["_msgid"]
        assert msg["ts"] > 0


async def test_a_qos_1_subscription_gets_qos_2_messages_at_qos_1(mosquitto: Mosquitto) -> None:
    document = device_flow(mosquitto.port, in_node("cmd", CMD, qos=1))
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", CMD)
        operator.publish(CMD, b"1", qos=2)
        (_, got) = await h.wait_for("cmd", 2)
    assert got["qos"] == 1


# --- undecodable payloads ------------------------------------------------------------

DEEP_JSON = b"[" * 900 + b"]" * 900
DEEP_MSGPACK = b"\x91" * 900 + b"\x00"  # 900 nested one-element arrays


@pytest.mark.parametrize(("fmt", "bad", "reason", "hex_preview"), [
    ("json", b"not json", "not valid json", "6e 6f 74 20 6a 73 6f 6e (8 bytes)"),
    ("msgpack", b"\xc1", "not valid msgpack", "c1 (1 bytes)"),
    ("text", b"\xff\xfeopen", "not valid text", "ff fe 6f 70 65 6e (6 bytes)"),
    ("json", bytes(range(40)), "not valid json",
     "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ... (40 bytes)"),
    # Hostile: deep enough to exhaust Python's stack (a RecursionError that escaped to
    # gmqtt and was logged at debug level only, after the QoS 1 PUBACK).
    ("json", DEEP_JSON, "json nested deeper than 128 levels",
     "5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b ... (1800 bytes)"),
    ("auto", DEEP_JSON, "json nested deeper than 128 levels",
     "5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b 5b ... (1800 bytes)"),
    ("msgpack", DEEP_MSGPACK, "msgpack nested deeper than 128 levels",
     "91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 91 ... (901 bytes)"),
    ("json", b"NaN", "not valid json: NaN is not JSON", "4e 61 4e (3 bytes)"),
])
async def test_undecodable_payload_warns_with_topic_and_hex_counts_and_the_next_arrives(
        mosquitto: Mosquitto, fmt: str, bad: bytes, reason: str, hex_preview: str) -> None:
    good = {"json": b'{"open": true}', "msgpack": msgpack.packb({"open": True}),
            "text": b"open", "auto": b'{"open": true}'}[fmt]
    document = device_flow(mosquitto.port, in_node("cmd", CMD + "/#", format=fmt))
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", CMD + "/sync")
        operator.publish(CMD + "/bad", bad, qos=1)
        operator.publish(CMD + "/good", good, qos=1)
        (_, got) = await h.wait_for("cmd", 2)
        warning = await h.wait_event(lambda e: e.kind == "warning" and e.node_id == "cmd")
        node = h.engine.nodes["cmd"]
        status = node.last_status
        emitted = len(h.received("cmd"))
    assert got["topic"] == CMD + "/good"
    assert got["payload"] in ({"open": True}, "open")
    text = warning.data["text"]
    assert text.startswith(f"undecodable payload on {CMD}/bad: {reason}")
    assert text.endswith(f": {hex_preview}; dropped")
    assert node.dropped == 1  # type: ignore[attr-defined]
    # The link is fine (green), and the drop is counted.
    assert status == {"fill": "green", "shape": "dot",
                      "text": "connected · 1 undecodable dropped"}
    assert emitted == 2  # the bad one emitted nothing


@pytest.mark.parametrize("fmt", ["auto", "json", "msgpack"])
async def test_a_payload_too_long_to_parse_is_refused_unparsed_and_text_is_not_limited(
        mosquitto: Mosquitto, fmt: str) -> None:
    """Parsing holds the event loop (JSON and msgpack parsers hold the GIL, so a worker
    thread would not help): above max_decode_size a payload is refused before parsing."""
    big = {"json": b"[" + b"1," * 600 + b"1]", "auto": b"[" + b"1," * 600 + b"1]",
           "msgpack": msgpack.packb(list(range(600)))}[fmt]
    document = device_flow(mosquitto.port,
                           in_node("cmd", CMD + "/#", format=fmt, max_decode_size=1000),
                           in_node("log", "device/valve-1/log", format="auto",
                                   max_decode_size=10))
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", CMD + "/sync")
        await subscribed(h, operator, "log", "device/valve-1/log")
        operator.publish(CMD + "/big", big, qos=1)
        operator.publish(CMD + "/small", msgpack.packb([1]) if fmt == "msgpack" else b"[1]",
                         qos=1)
        operator.publish("device/valve-1/log", b"a long line of plain text", qos=1)
        (_, small) = await h.wait_for("cmd", 2)
        (_, line) = await h.wait_for("log", 2)
        warning = await h.wait_event(lambda e: e.kind == "warning" and e.node_id == "cmd")
    assert small["payload"] == [1]
    assert warning.data["text"].startswith(
        f"undecodable payload on {CMD}/big: {len(big)} bytes is more than "
        f"max_decode_size (1000) to parse as {'json' if fmt == 'auto' else fmt}: ")
    # Cannot be JSON (it starts with a letter): text, never parsed, so never refused.
    assert line["payload"] == "a long line of plain text"


# --- topic filters -------------------------------------------------------------------

PUBLISHED = [
    "device/valve-1/cmd",
    "device/valve-2/cmd",
    "device/valve-1/cmd/open",
    "device/valve-1",
    "device/valve-1/state",
    "device/cmd",
    "other/valve-1/cmd",
    "device/valve-1/cmd/open/fast",
    "device/pump-7/cmd",
]


@pytest.mark.parametrize(("topic_filter", "expected"), [
    ("device/+/cmd", ["device/valve-1/cmd", "device/valve-2/cmd", "device/pump-7/cmd"]),
    ("device/valve-1/#", ["device/valve-1/cmd", "device/valve-1/cmd/open", "device/valve-1",
                          "device/valve-1/state", "device/valve-1/cmd/open/fast"]),
    ("device/+/cmd/#", ["device/valve-1/cmd", "device/valve-2/cmd", "device/valve-1/cmd/open",
                        "device/valve-1/cmd/open/fast", "device/pump-7/cmd"]),
    ("+/+/cmd", ["device/valve-1/cmd", "device/valve-2/cmd", "other/valve-1/cmd",
                 "device/pump-7/cmd"]),
    ("device/valve-1/cmd", ["device/valve-1/cmd"]),
    ("#", PUBLISHED),
])
async def test_wildcards_match_what_mqtt_says_and_nothing_else(
        mosquitto: Mosquitto, topic_filter: str, expected: list[str]) -> None:
    document = device_flow(mosquitto.port, in_node("cmd", topic_filter, format="text"))
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", expected[0])
        for topic in PUBLISHED:
            operator.publish(topic, topic.encode(), qos=1)
        # One QoS 1 connection delivers in order: the fence, matched by every filter
        # here, comes after everything published before it.
        operator.publish(expected[0], b"fence", qos=1)
        await until(h, lambda: "fence" in payloads(h.received("cmd")))
        received = h.received("cmd")[1:]  # after the marker
    assert [msg["topic"] for msg in received] == [*expected, expected[0]]
    assert received[-1]["payload"] == "fence"


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_overlapping_filters_on_one_connection_deliver_each_message_once_per_node(
        mosquitto: Mosquitto, protocol: str) -> None:
    """Two mqtt-in nodes whose filters overlap share one connection. Each must get every
    matching command exactly once: a command such as "toggle" must not run twice.

    mosquitto 2.0 sends an MQTT 5 client one copy per matching subscription (and only one
    to an MQTT 3.1.1 client), so the connection must tell the copies apart (MQTT 5
    subscription identifiers) instead of handing every copy to every matching node.
    """
    document = device_flow(mosquitto.port, in_node("own", CMD + "/#", format="text"),
                           in_node("fleet", "device/+/cmd/#", format="text"),
                           protocol=protocol)
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "own", CMD + "/sync")
        await h.wait_for("fleet", 1)
        operator.publish(CMD + "/toggle", b"toggle-1", qos=1)
        operator.publish("device/valve-2/cmd/toggle", b"toggle-2", qos=1)
        operator.publish(CMD + "/fence", b"fence", qos=1)
        await until(h, lambda: "fence" in payloads(h.received("own"))
                    and "fence" in payloads(h.received("fleet")))
        own, fleet = payloads(h.received("own")), payloads(h.received("fleet"))
    assert own.count("toggle-1") == 1
    assert fleet.count("toggle-1") == 1
    assert own[-2:] == ["toggle-1", "fence"]
    assert fleet[-3:] == ["toggle-1", "toggle-2", "fence"]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_shared_subscription_splits_commands_between_devices(
        mosquitto: Mosquitto, protocol: str) -> None:
    """Two connections (two broker nodes, two client ids) in one group: every command
    goes to exactly one of them, none lost, none twice."""
    shared = "$share/valves/device/+/cmd"
    document = {"version": 1, "nodes": [
        broker_node(mosquitto.port, "broker-a", client_id="valve-a", protocol=protocol),
        broker_node(mosquitto.port, "broker-b", client_id="valve-b", protocol=protocol),
        in_node("in-a", shared, "broker-a", format="json"),
        in_node("in-b", shared, "broker-b", format="json"),
        # Subscribed after the shared filter on the same connections: once these see a
        # retained marker, the broker has processed the shared SUBSCRIBE before them.
        in_node("ready-a", "ready/a", "broker-a"),
        in_node("ready-b", "ready/b", "broker-b"),
    ]}
    count = 40
    async with Watcher(mosquitto.port) as operator:
        operator.publish("ready/a", b"1", qos=1, retain=True)
        operator.publish("ready/b", b"1", qos=1, retain=True)
        async with FlowHarness(document) as h:
            await h.wait_for("ready-a", 1)
            await h.wait_for("ready-b", 1)
            # In batches: gmqtt (the operator) raises past mosquitto's receive maximum.
            for start in range(0, count, 10):
                for n in range(start, start + 10):
                    operator.publish(f"device/valve-{n % 3}/cmd", str(n).encode(), qos=1)
                await until(h, lambda end=start + 10: len(h.received("in-a"))
                            + len(h.received("in-b")) >= end)
            # A duplicate would arrive right behind; a last message through both
            # connections, after all the others, makes sure it would have been seen.
            for topic in ("ready/a", "ready/b"):
                operator.publish(topic, b"2", qos=1)
            await h.wait_for("ready-a", 2)
            await h.wait_for("ready-b", 2)
            got_a, got_b = h.received("in-a"), h.received("in-b")
    a, b = payloads(got_a), payloads(got_b)
    assert sorted(a + b) == list(range(count))  # none lost, none twice
    assert a, "valve-a got none: not shared"
    assert b, "valve-b got none: not shared"
    assert a == sorted(a)  # each in order
    assert b == sorted(b)
    assert {m["topic"] for m in got_a + got_b} == {
        "device/valve-0/cmd", "device/valve-1/cmd", "device/valve-2/cmd"}


# --- reconnects and outputs ------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_subscriptions_are_restored_after_the_broker_restarts(
        mosquitto_factory: Any, protocol: str) -> None:
    # No persistence and a clean start: the restarted broker has forgotten the session,
    # so only portless subscribing again brings the commands back.
    broker = mosquitto_factory("volatile", persistence=False)
    document = device_flow(broker.port, in_node("cmd", CMD + "/#", format="text"),
                           clean_start=True, protocol=protocol)
    async with FlowHarness(document) as h:
        await connected(h)
        async with Watcher(broker.port) as operator:
            await subscribed(h, operator, "cmd", CMD + "/before")
        seen = len(h.events)
        broker.stop()
        await wait_after(h, seen, status_is("cmd", lambda text: text.startswith("disconnected")))
        broker.start()
        await wait_after(h, seen, status_is("cmd", lambda text: text == "connected"), timeout=10)
        async with Watcher(broker.port) as operator:
            # Retained, so this holds whether the SUBSCRIBE or the command comes first.
            operator.publish(CMD + "/after", b"open", qos=1, retain=True)
            (_, got) = await h.wait_for("cmd", 2)
            operator.publish(CMD + "/live", b"close", qos=1)
            (_, _, live) = await h.wait_for("cmd", 3)
    assert (got["topic"], got["payload"]) == (CMD + "/after", "open")
    assert (live["topic"], live["payload"], live["retain"]) == (CMD + "/live", "close", False)


@pytest.mark.parametrize(("wire", "value", "shown"), [
    (b"42.5", 42.5, "42.5"),
    (b'{"position": "open"}', {"position": "open"}, '{"position":"open"}'),
    (b"close", "close", "close"),
])
async def test_commands_drive_an_output(
        mosquitto: Mosquitto, wire: bytes, value: Any, shown: str) -> None:
    document = device_flow(
        mosquitto.port,
        {**in_node("cmd", CMD + "/setpoint"), "wires": [["valve"]]},
        {"id": "valve", "type": "output", "config": {"target": "sim"}})
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        await subscribed(h, operator, "cmd", CMD + "/setpoint")
        operator.publish(CMD + "/setpoint", wire, qos=1)
        await h.wait_event(lambda e: e.node_id == "valve" and e.kind == "status"
                           and e.data.get("text") == shown)
        assert h.engine.nodes["valve"].value == value  # type: ignore[attr-defined]
        assert h.engine.nodes["valve"].last_status == {"fill": "blue", "shape": "dot",
                                                       "text": shown}
