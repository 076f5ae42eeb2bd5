"""sparkplug-out and sparkplug-in against a real mosquitto and a test-side host: the
datatype fixed at birth, a new metric making a rebirth, commands as messages."""

from __future__ import annotations

from typing import Any

import pytest

from portless.nodes.sparkplug.payload import Metric
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import Payload
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import EDGE, born, edge_flow
from tests.sparkplug_host import SparkplugHost

pytestmark = pytest.mark.broker


def errors(h: FlowHarness, node_id: str) -> list[str]:
    return [e.data["text"] for e in h.events if e.kind == "error" and e.node_id == node_id]


@pytest.mark.tck("tck-id-operational-behavior-data-publish-nbirth",
                 "tck-id-operational-behavior-data-publish-dbirth",
                 "tck-id-operational-behavior-data-publish-nbirth-values",
                 "tck-id-topics-nbirth-metrics", "tck-id-topics-nbirth-metric-reqs",
                 "tck-id-payloads-metric-datatype-req")
async def test_a_metric_not_in_the_birth_makes_a_rebirth_not_a_data_message(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[{"metric": "Flow", "datatype": "Double"},
                                               {},  # out1: names from msg.topic
                                               {"device": "pump-2"}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        h.inject("out0", {"payload": 1.5})
        h.inject("out1", {"topic": "Valve/Position", "payload": 40})
        births = await host.wait_for("NBIRTH", 2)
        await host.wait_for("DBIRTH", 4)
        h.inject("out1", {"topic": "Valve/Position", "payload": 41})
        (_, second) = await host.wait_for("NDATA", 2)
        h.inject("out2", {"topic": "Temperature", "payload": 61.5})  # a new device metric
        await host.wait_for("DBIRTH", 6)
    assert [s.verb for s in host.seen if s.verb != "NDEATH"] == [
        "NBIRTH", "DBIRTH", "DBIRTH", "NDATA", "NBIRTH", "DBIRTH", "DBIRTH", "NDATA",
        "NBIRTH", "DBIRTH", "DBIRTH"]
    (temperature,) = host.of("DBIRTH")[-1].payload.metrics
    assert (temperature.name, temperature.datatype, temperature.value) == \
        ("Temperature", "Double", 61.5)
    position = births[1].metric("Valve/Position")
    assert (position.datatype, position.value) == ("Int64", 40)  # inferred, then fixed
    assert births[1].metric("Flow").value == 1.5
    assert second.values == {position.alias: 41}


@pytest.mark.tck("tck-id-payloads-metric-datatype-value-type",
                 "tck-id-payloads-metric-datatype-value")
@pytest.mark.parametrize(("config", "first", "second", "error"), [
    ({"metric": "Open"}, True, 1, "metric Open: a Boolean metric cannot carry an integer (1)"),
    ({"metric": "Level", "datatype": "UInt8"}, 7, 300,
     "metric Level: 300 is beyond the range of UInt8 (0 to 255)"),
    ({"metric": "Name", "datatype": "String"}, "a", {"x": 1},
     "metric Name: a String metric cannot carry an object ({'x': 1})"),
])
async def test_a_value_of_another_type_is_an_error_and_not_sent(
        mosquitto: Mosquitto, config: dict[str, Any], first: Any, second: Any,
        error: str) -> None:
    document = edge_flow(mosquitto.port, outs=[config])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        h.inject("out0", {"payload": first})
        h.inject("out0", {"payload": second})
        h.inject("out0", {"payload": first})
        # Inferred: the first value makes a rebirth, the third is data; declared: both.
        data = await host.wait_for("NDATA", 2 if "datatype" in config else 1)
    assert errors(h, "out0") == [error]
    assert [list(s.values.values()) for s in data] == [[first]] * len(data)


@pytest.mark.parametrize(("out", "error"), [
    ({"device": "pump-9"}, "device: 'pump-9' is not one of the devices of sparkplug-node"),
    ({"metric": "bdSeq"}, "metric: metric name 'bdSeq' is the edge node's own"),
    ({"metric": "Node Control/Reboot"}, "is the edge node's own"),
    ({"properties": [{"name": "Quality", "value": 1}]},
     "properties: property Quality is an Int32 of 0 (bad), 192 (good) or 500 (stale)"),
    ({"properties": [{"name": "engLow", "value": 300, "datatype": "UInt8"}]},
     "properties: property engLow: 300 is beyond the range of UInt8"),
    ({"properties": [{"name": "a", "value": 1}, {"name": "a", "value": 2}]},
     "properties: property 'a' is listed twice"),
])
async def test_bad_config_fails_the_start_naming_the_field(
        mosquitto: Mosquitto, out: dict[str, Any], error: str) -> None:
    async with FlowHarness(edge_flow(mosquitto.port, outs=[out])) as h:
        report = h.engine.failed
    assert error in report["out0"]


async def test_a_second_declaration_with_another_datatype_fails_its_start(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[
        {"metric": "Flow", "datatype": "Double"}, {"metric": "Flow", "datatype": "Int8"},
        {"metric": "Flow", "properties": [{"name": "engUnit", "value": "m3/h"}]},
        {"metric": "Flow", "properties": [{"name": "engUnit", "value": "l/s"}]}])
    async with FlowHarness(document) as h:
        assert "metric 'Flow' is already declared as Double" in h.engine.failed["out1"]
        assert "metric 'Flow' is already declared with other properties" \
            in h.engine.failed["out3"]
        assert "out2" not in h.engine.failed  # properties added to a declared metric


UNITS = [{"name": "engUnit", "value": "m3/h"}, {"name": "engLow", "value": 0.0},
         {"name": "engHigh", "value": 120, "datatype": "UInt16"},
         {"name": "Quality", "value": 192}]


@pytest.mark.tck("tck-id-payloads-propertyset-keys-array-size",
                 "tck-id-payloads-propertyset-values-array-size",
                 "tck-id-payloads-metric-propertyvalue-type-type",
                 "tck-id-payloads-metric-propertyvalue-type-value",
                 "tck-id-payloads-metric-propertyvalue-type-req",
                 "tck-id-payloads-propertyset-quality-value-type",
                 "tck-id-payloads-propertyset-quality-value-value")
async def test_metric_properties_go_in_every_birth_and_not_in_data(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[
        {"metric": "Flow", "datatype": "Double", "properties": UNITS},
        {"device": "pump-1", "properties": [{"name": "Documentation", "value": "speed"}]}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        h.inject("out1", {"topic": "Speed", "payload": 1200})  # a new metric: a rebirth
        await host.wait_for("DBIRTH", 4)
        h.inject("out0", {"payload": 4.5})
        (data,) = await host.wait_for("NDATA")
    births = host.of("NBIRTH")
    assert all([(p.name, p.datatype, p.value) for p in b.metric("Flow").properties] == [
        ("engUnit", "String", "m3/h"), ("engLow", "Double", 0.0), ("engHigh", "UInt16", 120),
        ("Quality", "Int32", 192)] for b in births)
    (speed,) = host.of("DBIRTH")[-2].payload.metrics
    assert [(p.name, p.datatype, p.value) for p in speed.properties] == [
        ("Documentation", "String", "speed")]
    assert data.payload.metrics[0].properties == ()
    raw = Payload.FromString(host.watcher.on(f"spBv1.0/plant/NBIRTH/{EDGE}")[0].payload)
    (flow,) = [m for m in raw.metrics if m.name == "Flow"]
    assert len(flow.properties.keys) == len(flow.properties.values) == 4
    assert [v.type for v in flow.properties.values] == [12, 10, 6, 3]  # with every value
    assert flow.properties.values[3].WhichOneof("value") == "int_value"


async def test_commands_become_messages_by_name_or_alias(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, with_in=True, outs=[
        {"metric": "Setpoint", "datatype": "Float"},
        {"device": "pump-1", "metric": "Speed", "datatype": "UInt16"}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        speed = host.of("DBIRTH")[0].metric("Speed")
        host.command(EDGE, [Metric("Float", 21.5, name="Setpoint")])
        host.command(EDGE, [Metric("UInt16", 1200, alias=speed.alias, with_datatype=False)],
                     device="pump-1")
        first, second = await h.wait_for("in", 2)
    assert (first["topic"], first["payload"], first["device"]) == ("Setpoint", 21.5, "")
    assert first["sparkplug"]["datatype"] == "Float"
    assert (second["topic"], second["payload"], second["device"]) == \
        ("Speed", 1200, "pump-1")
    assert second["sparkplug"]["alias"] == speed.alias


@pytest.mark.tck("tck-id-operational-behavior-data-commands-rebirth-action-1",
                 "tck-id-operational-behavior-data-commands-rebirth-action-2",
                 "tck-id-operational-behavior-data-commands-rebirth-action-3")
async def test_rebirth_is_answered_by_the_node_and_not_emitted(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, with_in=True)
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        host.command(EDGE, [Metric("Boolean", True, name="Node Control/Rebirth"),
                            Metric("Boolean", False, name="Node Control/Rebirth")])
        births = await host.wait_for("NBIRTH", 2)
        await host.wait_for("DBIRTH", 4)
        assert h.received("in") == []
    assert [b.metric("bdSeq").value for b in births] == [0, 0]


async def test_undecodable_commands_are_warned_about_and_dropped(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, with_in=True)
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        host.command(EDGE, [Metric("UInt16", 5, alias=77, with_datatype=False)])
        host.watcher.publish(f"spBv1.0/plant/NCMD/{EDGE}", b"\xff\xff", qos=0)
        await h.wait_event(lambda e: e.kind == "warning" and e.node_id == "edge"
                           and "not a Sparkplug B payload" in e.data["text"])
        assert h.received("in") == []
    texts = [e.data["text"] for e in h.events if e.kind == "warning"]
    assert any("metric 77: no datatype, and none known" in text for text in texts), texts


@pytest.mark.tck("tck-id-operational-behavior-device-ddeath", "tck-id-topics-ddeath-topic",
                 "tck-id-topics-ddeath-mqtt", "tck-id-topics-ddeath-seq-num",
                 "tck-id-payloads-ddeath-timestamp", "tck-id-payloads-ddeath-seq",
                 "tck-id-payloads-ddeath-seq-inc", "tck-id-payloads-ddeath-seq-number")
async def test_a_device_death_is_ddeath_and_its_next_value_a_dbirth(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[
        {"device": "pump-1", "metric": "Speed", "datatype": "UInt16"}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        h.inject("out0", {"payload": 5})
        h.inject("out0", {"death": True})
        h.inject("out0", {"death": True})  # already dead: said once
        (death,) = await host.wait_for("DDEATH")
        host.command(EDGE, [Metric("Boolean", True, name="Node Control/Rebirth")])
        await host.wait_for("NBIRTH", 2)
        await host.wait_for("DBIRTH", 3)  # pump-2 only: pump-1 is dead
        h.inject("out0", {"payload": 7})
        births = await host.wait_for("DBIRTH", 4)
        h.inject("out0", {"payload": 8})
        await host.wait_for("DDATA", 2)
    assert death.topic == f"spBv1.0/plant/DDEATH/{EDGE}/pump-1"
    assert (death.qos, death.retain, death.payload.metrics) == (0, False, [])
    assert death.payload.timestamp
    sequence = [(s.verb, s.device, s.payload.seq) for s in host.seen
                if s.verb not in ("NCMD", "NDEATH")]
    assert sequence == [
        ("NBIRTH", "", 0), ("DBIRTH", "pump-1", 1), ("DBIRTH", "pump-2", 2),
        ("DDATA", "pump-1", 3), ("DDEATH", "pump-1", 4),
        ("NBIRTH", "", 0), ("DBIRTH", "pump-2", 1),
        ("DBIRTH", "pump-1", 2), ("DDATA", "pump-1", 3)]
    assert births[-1].metric("Speed").value == 7


async def test_death_without_a_device_is_an_error(mosquitto: Mosquitto) -> None:
    async with SparkplugHost(mosquitto.port) as host, \
            FlowHarness(edge_flow(mosquitto.port)) as h:
        await born(h, host)
        h.inject("out0", {"death": True})
        await h.wait_event(lambda e: e.kind == "error" and e.node_id == "out0")
    assert "the edge node's own death is NDEATH" in errors(h, "out0")[0]
