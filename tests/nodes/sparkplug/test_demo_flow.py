"""flows/valve-sparkplug.json, the valve demo as a Sparkplug edge node, against a real
mosquitto (its port moved to the fixture's) and a test-side host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import portless.devbroker as devbroker
from portless.nodes.sparkplug.payload import Metric
from portless.runtime import Registry, load_flow
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.sparkplug_host import SparkplugHost

FLOW = Path(__file__).resolve().parents[3] / "flows" / "valve-sparkplug.json"


def demo(port: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FLOW.read_text())
    for node in document["nodes"]:
        if node["type"] == "sparkplug-node":
            node["config"]["port"] = port
        if node["type"] == "io-in":
            node["config"].update(interval=0.01, period=2.4)
    return document


@pytest.mark.broker
async def test_the_demo_is_born_reports_by_exception_and_takes_commands(
        mosquitto: Mosquitto) -> None:
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(demo(mosquitto.port)) as h:
        (birth,) = await host.wait_for("NBIRTH")
        data = await host.wait_for("NDATA", 5)
        host.command("valve-1", [Metric("Double", 30.0, name="Valve/Position")])
        (command,) = await h.wait_for("commands")
    flow = birth.metric("Valve/Flow")
    assert flow.datatype == "Double"
    assert [(p.name, p.datatype, p.value) for p in flow.properties] == [
        ("engUnit", "String", "m3/h"), ("engLow", "Double", 0.0), ("engHigh", "Double", 100.0)]
    assert all(set(s.values) == {flow.alias} for s in data)
    assert (command["topic"], command["payload"]) == ("Valve/Position", 30.0)


def test_dev_broker_serves_the_edge_node() -> None:
    flow = load_flow(FLOW, Registry.discover())
    assert devbroker.broker_ports(flow) == [1883]
