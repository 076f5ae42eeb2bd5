"""An imported mqtt out publishes what Node-RED's published: the same export run in
Node-RED 4 (tests/node_red.py) and, converted, in portless, against one real mosquitto,
on the same messages; a subscriber sees the same bytes from both (texts as they are,
numbers, booleans, objects and lists as compact JSON in UTF-8)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from portless.node_red_import.convert import convert
from portless.node_red_import.export import parse_export
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.node_red import NodeRedCase, run_in_node_red

pytestmark = [pytest.mark.slow, pytest.mark.broker]  # Node.js and a real broker

PAYLOADS = ["plain text", "Grüße", 42, 2.5, True, {"a": "ü", "b": [1, 2.5]}, [1, "a"]]


def export(port: int) -> list[dict[str, Any]]:
    return [{"id": "b", "type": "mqtt-broker", "broker": "127.0.0.1", "port": str(port),
             "clientid": "", "usetls": False, "protocolVersion": "4", "keepalive": "60",
             "cleansession": True, "birthTopic": "", "willTopic": "", "closeTopic": ""},
            {"id": "tab", "type": "tab", "label": "Publish"},
            {"id": "out", "type": "mqtt out", "z": "tab", "name": "", "topic": "",
             "qos": "1", "retain": "false", "broker": "b", "x": 100, "y": 100,
             "wires": []}]


async def test_mqtt_out_publishes_the_same_bytes_as_node_red(mosquitto: Mosquitto) -> None:
    nodes = export(mosquitto.port)
    async with Watcher(mosquitto.port, "nr/#", "pl/#") as watcher:
        broker, _, out = nodes
        case = NodeRedCase({k: v for k, v in out.items() if k not in ("id", "z", "wires")},
                           [{"topic": f"nr/{i}", "payload": p} for i, p in enumerate(PAYLOADS)],
                           outputs=0, extra_nodes=[broker],
                           after_ms=[2000])  # Node-RED connects once its flow started
        await asyncio.to_thread(run_in_node_red, [case], quiet_ms=1500)
        theirs = await watcher.wait_for(len(PAYLOADS), timeout=20)

        conversion = convert(parse_export(json.dumps(nodes), "flows.json"), "flows.json")
        document = {"version": 1, "nodes": [node for file in conversion.files.values()
                                             for node in file["nodes"]]}
        async with FlowHarness(document) as h:
            for i, payload in enumerate(PAYLOADS):
                h.inject("out", {"topic": f"pl/{i}", "payload": payload})
            await watcher.wait_for(2 * len(PAYLOADS), timeout=20)
    by_topic = {m.topic: m.payload for m in watcher.received}
    node_red = [by_topic[f"nr/{i}"] for i in range(len(PAYLOADS))]
    portless = [by_topic[f"pl/{i}"] for i in range(len(PAYLOADS))]
    assert portless == node_red
    assert len(theirs) >= len(PAYLOADS)
