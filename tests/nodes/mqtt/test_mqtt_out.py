"""mqtt-out against a real mosquitto: every QoS in every format, content types, topics
from the message, and payloads that cannot be encoded."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest

from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker


def device_flow(port: int, out: dict[str, Any], broker: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, **(broker or {})}},
        {"id": "out", "type": "mqtt-out", "config": {"broker": "broker", **out}}]}


async def connected(h: FlowHarness, node_id: str = "broker") -> None:
    await h.wait_event(lambda e: e.node_id == node_id and e.kind == "status"
                       and e.data.get("text") == "connected")


ENCODED = [
    ("json", {"flow": 12.5, "unit": "l/min"}, b'{"flow":12.5,"unit":"l/min"}', "application/json"),
    ("msgpack", {"flow": 12.5}, msgpack.packb({"flow": 12.5}), "application/msgpack"),
    ("text", "open", b"open", "text/plain; charset=utf-8"),
    ("raw", b"\x00\xff\x10", b"\x00\xff\x10", "application/octet-stream"),
]


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize(("fmt", "payload", "wire", "content_type"), ENCODED)
async def test_round_trip_every_qos_and_format(
        mosquitto: Mosquitto, qos: int, fmt: str, payload: Any, wire: bytes,
        content_type: str) -> None:
    document = device_flow(mosquitto.port, {"topic": "device/valve-1/flow", "qos": qos,
                                            "format": fmt})
    async with Watcher(mosquitto.port, "device/valve-1/#", qos=2) as watcher, \
            FlowHarness(document) as h:
        await connected(h)
        h.inject("out", {"payload": payload})
        (got,) = await watcher.wait_for(1)
    assert got.topic == "device/valve-1/flow"
    assert got.payload == wire
    assert got.qos == qos
    assert got.properties["content_type"] == [content_type]


@pytest.mark.parametrize("qos", [0, 1])  # QoS 0 and the outbox write their own packets
async def test_topic_from_message_retain_and_mqtt5_properties(mosquitto: Mosquitto,
                                                              qos: int) -> None:
    document = device_flow(mosquitto.port, {"retain": True, "message_expiry": 60, "qos": qos,
                                            "user_properties": {"site": "plant-3"}})
    async with FlowHarness(document) as h, \
            Watcher(mosquitto.port, "device/valve-1/setpoint", client_id="early") as early:
        await connected(h)
        h.inject("out", {"topic": "device/valve-1/setpoint", "payload": 7})
        await early.wait_for(1)  # the broker has it (after the outbox's flush interval)
        async with Watcher(mosquitto.port, "device/valve-1/setpoint") as late:
            (got,) = await late.wait_for(1)  # retained: a later subscriber still gets it
    assert json.loads(got.payload) == 7
    assert got.retain
    assert got.properties["content_type"] == ["application/json"]
    assert got.properties["user_property"] == [("site", "plant-3")]
    assert 0 < got.properties["message_expiry_interval"][0] <= 60


@pytest.mark.parametrize("qos", [0, 1])
async def test_mqtt_3_1_1_sends_the_payload_without_properties(mosquitto: Mosquitto,
                                                               qos: int) -> None:
    document = device_flow(mosquitto.port, {"topic": "t/v311", "qos": qos,
                                            "user_properties": {"site": "plant-3"}},
                           {"protocol": "3.1.1"})
    async with Watcher(mosquitto.port, "t/#", version="3.1.1") as watcher, \
            FlowHarness(document) as h:
        await connected(h)  # QoS 0 is sent only while connected
        h.inject("out", {"payload": [1, 2]})
        (got,) = await watcher.wait_for(1)
    assert got.payload == b"[1,2]"
    assert got.qos == qos


@pytest.mark.parametrize(("out", "msg", "warning"), [
    ({"format": "json"}, {"topic": "t", "payload": float("nan")}, "cannot encode float as json"),
    ({"format": "raw"}, {"topic": "t", "payload": 5}, "cannot send a int as raw bytes"),
    ({"format": "raw"}, {"topic": "t", "payload": "\ud800"}, "cannot encode str as raw"),
    ({"format": "text"}, {"topic": "t", "payload": "\ud800"}, "cannot encode str as text"),
    ({"format": "msgpack"}, {"topic": "t", "payload": {1, 2}}, "cannot encode set as msgpack"),
    ({}, {"payload": 1}, "no topic: set the node's topic or msg.topic"),
])
async def test_unencodable_payload_warns_and_the_rest_goes_on(
        mosquitto: Mosquitto, out: dict[str, Any], msg: dict[str, Any], warning: str) -> None:
    document = device_flow(mosquitto.port, out)
    async with Watcher(mosquitto.port, "t") as watcher, FlowHarness(document) as h:
        h.inject("out", msg)
        h.inject("out", {"topic": "t", "payload": "fine" if out.get("format") != "raw"
                         else b"fine"})
        (got,) = await watcher.wait_for(1)
        event = await h.wait_event(lambda e: e.kind == "warning" and e.node_id == "out")
    assert warning in event.data["text"]
    assert b"fine" in got.payload


@pytest.mark.parametrize(("topic", "reason"), [
    ("device/+/flow", "+ and # are for subscriptions"),
    ("device/#", "+ and # are for subscriptions"),
    ("a\0b", "an MQTT topic holds no NUL"),
    ("t/\ud800", "without lone surrogates"),  # would fail the outbox's whole batch
])
async def test_a_wildcard_topic_is_refused_before_it_can_block_the_outbox(
        mosquitto: Mosquitto, topic: str, reason: str) -> None:
    document = device_flow(mosquitto.port, {"qos": 1})
    async with Watcher(mosquitto.port, "t") as watcher, FlowHarness(document) as h:
        await connected(h)
        h.inject("out", {"topic": topic, "payload": 1})
        h.inject("out", {"topic": "t", "payload": 2})
        (got,) = await watcher.wait_for(1)
        event = await h.wait_event(lambda e: e.kind == "warning" and e.node_id == "out")
        assert h.engine.nodes["broker"].last_status["text"] == "connected"
    assert got.payload == b"2"
    assert reason in event.data["text"]  # the warning names what is wrong
