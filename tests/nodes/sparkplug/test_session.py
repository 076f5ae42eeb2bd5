"""The edge node's session against a real mosquitto, watched by a test-side host:
topics, births, deaths, bdSeq and seq, as the specification's assertions say."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from portless.nodes.sparkplug.bdseq import BdSeq
from portless.nodes.sparkplug.payload import Metric
from portless.runtime.errors import FlowInvalid
from portless.runtime.flow import check_flow
from portless.runtime.registry import Registry
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import EDGE, GROUP, born, connected, edge_flow
from tests.sparkplug_host import SparkplugHost

pytestmark = pytest.mark.broker

NODE_TOPIC = f"spBv1.0/{GROUP}/{{}}/{EDGE}"


@pytest.fixture
def debug_broker(mosquitto_factory: object) -> Mosquitto:
    """mosquitto logging at debug: the CONNECT flags and will it received."""
    broker: Mosquitto = mosquitto_factory(extra_config=["log_type debug"])  # type: ignore[operator]
    broker.start()
    return broker


@pytest.mark.tck("tck-id-topics-nbirth-topic", "tck-id-topics-nbirth-mqtt",
                 "tck-id-topics-nbirth-seq-num", "tck-id-topics-nbirth-timestamp",
                 "tck-id-topics-nbirth-bdseq-included", "tck-id-topics-nbirth-rebirth-metric",
                 "tck-id-payloads-nbirth-seq", "tck-id-payloads-nbirth-bdseq",
                 "tck-id-payloads-nbirth-timestamp", "tck-id-payloads-nbirth-rebirth-req",
                 "tck-id-operational-behavior-data-commands-rebirth-name",
                 "tck-id-operational-behavior-data-commands-rebirth-name-aliases",
                 "tck-id-operational-behavior-data-commands-rebirth-datatype",
                 "tck-id-operational-behavior-data-commands-rebirth-value",
                 "tck-id-message-flow-edge-node-birth-publish-nbirth-topic",
                 "tck-id-message-flow-edge-node-birth-publish-nbirth-qos",
                 "tck-id-message-flow-edge-node-birth-publish-nbirth-retained",
                 "tck-id-message-flow-edge-node-birth-publish-nbirth-payload-seq",
                 "tck-id-message-flow-edge-node-birth-publish-nbirth-payload-bdSeq",
                 "tck-id-message-flow-edge-node-birth-publish-nbirth-payload",
                 "tck-id-payloads-nbirth-qos", "tck-id-payloads-nbirth-retain",
                 "tck-id-topic-structure", "tck-id-topic-structure-namespace-a",
                 "tck-id-topic-structure-namespace-device-id-non-associated-message-types")
async def test_nbirth(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[{"metric": "Valve/Open",
                                                "datatype": "Boolean"}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await connected(h)
        (birth,) = await host.wait_for("NBIRTH")
    assert birth.topic == NODE_TOPIC.format("NBIRTH")
    assert (birth.qos, birth.retain) == (0, False)
    assert birth.payload.seq == 0
    assert birth.payload.timestamp is not None
    bdseq = birth.metric("bdSeq")
    assert (bdseq.datatype, bdseq.value) == ("Int64", 0)
    rebirth = birth.metric("Node Control/Rebirth")
    assert (rebirth.datatype, rebirth.value, rebirth.alias) == ("Boolean", False, None)
    declared = birth.metric("Valve/Open")
    assert (declared.datatype, declared.value, declared.alias) == ("Boolean", None, 1)


@pytest.mark.tck("tck-id-topics-dbirth-topic", "tck-id-topics-dbirth-mqtt",
                 "tck-id-topics-dbirth-seq", "tck-id-topics-dbirth-timestamp",
                 "tck-id-payloads-dbirth-seq", "tck-id-payloads-dbirth-seq-inc",
                 "tck-id-payloads-dbirth-timestamp",
                 "tck-id-message-flow-device-birth-publish-dbirth-topic",
                 "tck-id-message-flow-device-birth-publish-dbirth-qos",
                 "tck-id-message-flow-device-birth-publish-dbirth-retained",
                 "tck-id-message-flow-device-birth-publish-dbirth-match-edge-node-topic",
                 "tck-id-message-flow-device-birth-publish-dbirth-payload-seq",
                 "tck-id-message-flow-device-birth-publish-nbirth-wait",
                 "tck-id-payloads-alias-birth-requirement", "tck-id-payloads-alias-uniqueness",
                 "tck-id-message-flow-device-birth-publish-dbirth-payload",
                 "tck-id-topics-dbirth-metrics", "tck-id-topics-dbirth-metric-reqs",
                 "tck-id-operational-behavior-data-publish-dbirth-values",
                 "tck-id-payloads-dbirth-qos", "tck-id-payloads-dbirth-retain",
                 "tck-id-payloads-dbirth-order",
                 "tck-id-topic-structure-namespace-device-id-associated-message-types",
                 "tck-id-payloads-name-birth-data-requirement")
async def test_dbirth_per_device_after_nbirth(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[
        {"device": "pump-1", "metric": "Speed", "datatype": "UInt16"},
        {"device": "pump-2", "metric": "Speed", "datatype": "Float"}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await connected(h)
        births = await host.wait_for("DBIRTH", 2)
    order = [(s.verb, s.device, s.payload.seq) for s in host.seen if s.verb != "NDEATH"]
    assert order == [("NBIRTH", "", 0), ("DBIRTH", "pump-1", 1), ("DBIRTH", "pump-2", 2)]
    assert [b.topic for b in births] == [f"spBv1.0/{GROUP}/DBIRTH/{EDGE}/pump-{n}"
                                         for n in (1, 2)]
    assert all((b.qos, b.retain) == (0, False) for b in births)
    assert all(b.payload.timestamp for b in births)
    speeds = [b.metric("Speed") for b in births]
    assert [(m.datatype, m.value) for m in speeds] == [("UInt16", None), ("Float", None)]
    assert len({m.alias for m in speeds}) == 2  # unique across the node's devices
    assert all(m.alias is not None for m in speeds)
    node_birth = host.of("NBIRTH")[0]
    assert all(m.timestamp for s in [node_birth, *births] for m in s.payload.metrics)


@pytest.mark.tck("tck-id-topics-ndata-topic", "tck-id-topics-ndata-mqtt",
                 "tck-id-topics-ndata-seq-num", "tck-id-topics-ndata-timestamp",
                 "tck-id-topics-ddata-topic", "tck-id-topics-ddata-mqtt",
                 "tck-id-topics-ddata-seq-num", "tck-id-topics-ddata-timestamp",
                 "tck-id-payloads-ndata-seq", "tck-id-payloads-ndata-seq-inc",
                 "tck-id-payloads-ndata-timestamp", "tck-id-payloads-ddata-seq",
                 "tck-id-payloads-ddata-seq-inc", "tck-id-payloads-ddata-timestamp",
                 "tck-id-payloads-alias-data-cmd-requirement",
                 "tck-id-payloads-metric-datatype-not-req",
                 "tck-id-payloads-sequence-num-req-nbirth",
                 "tck-id-payloads-sequence-num-incrementing",
                 "tck-id-payloads-name-birth-data-requirement",
                 "tck-id-payloads-sequence-num-always-included", "tck-id-payloads-name-requirement",
                 "tck-id-payloads-ndata-qos", "tck-id-payloads-ndata-retain",
                 "tck-id-payloads-ddata-qos", "tck-id-payloads-ddata-retain",
                 "tck-id-payloads-ndata-order", "tck-id-payloads-ddata-order",
                 "tck-id-principles-birth-certificates-order", "tck-id-topics-ndata-payload",
                 "tck-id-topics-ddata-payload", "tck-id-payloads-timestamp-in-UTC",
                 "tck-id-payloads-metric-timestamp-in-UTC",
                 "tck-id-operational-behavior-data-publish-nbirth-order",
                 "tck-id-operational-behavior-data-publish-dbirth-order")
async def test_data_by_alias_with_seq_wrapping_after_255(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[
        {"metric": "Flow", "datatype": "Double"},
        {"device": "pump-1", "metric": "Speed", "datatype": "UInt16"}])
    before = time.time() * 1000  # UTC: ms since the epoch
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        for n in range(150):
            h.inject("out0", {"payload": n / 2})
            h.inject("out1", {"payload": n})
        await host.wait_for("DDATA", 150)
    data = host.of("NDATA", "DDATA")
    assert len(data) == 300
    seqs = [s.payload.seq for s in host.seen if s.verb != "NDEATH"]
    assert seqs == [n % 256 for n in range(303)]  # NBIRTH 0, DBIRTHs 1 and 2, then data
    ndata = [s for s in data if s.verb == "NDATA"]
    assert [s.values for s in ndata[:2]] == [{1: 0.0}, {1: 0.5}]  # by alias, no name
    assert all(s.topic == NODE_TOPIC.format("NDATA") for s in ndata)
    ddata = [s for s in data if s.verb == "DDATA"]
    assert ddata[149].values == {2: 149}
    assert all(s.topic == f"spBv1.0/{GROUP}/DDATA/{EDGE}/pump-1" for s in ddata)
    assert all((s.qos, s.retain) == (0, False) for s in data)
    assert all(s.payload.timestamp for s in data)
    for seen in data:
        (metric,) = seen.payload.metrics
        assert (metric.name, metric.with_datatype) == (None, False)
        assert before <= (metric.timestamp or 0) <= (seen.payload.timestamp or 0) \
            <= time.time() * 1000


@pytest.mark.tck("tck-id-principles-persistence-clean-session-311",
                 "tck-id-principles-persistence-clean-session-50",
                 "tck-id-message-flow-edge-node-birth-publish-connect",
                 "tck-id-message-flow-edge-node-birth-publish-will-message",
                 "tck-id-message-flow-edge-node-birth-publish-will-message-topic",
                 "tck-id-message-flow-edge-node-birth-publish-will-message-qos",
                 "tck-id-message-flow-edge-node-birth-publish-will-message-will-retained",
                 "tck-id-topics-ndeath-topic")
@pytest.mark.parametrize(("protocol", "proto_flag"), [("5", "p5"), ("3.1.1", "p2")])
async def test_connect_is_a_clean_session_with_ndeath_as_will(
        debug_broker: Mosquitto, protocol: str, proto_flag: str) -> None:
    document = edge_flow(debug_broker.port, {"protocol": protocol, "client_id": "edge-1"})
    async with FlowHarness(document) as h:
        await connected(h)
    log = debug_broker.log
    assert re.search(rf"New client connected from \S+ as edge-1 \({proto_flag}, c1, k60",
                     log), log
    assert re.search(r"Will message specified \(\d+ bytes\) \(r0, q1\)", log), log
    assert f"\t{NODE_TOPIC.format('NDEATH')}" in log, log
    if protocol == "5":
        # mosquitto logs a session expiry it keeps; 0 means none is.
        assert not re.search(r"edge-1.*session expiry", log, re.IGNORECASE)


@pytest.mark.tck("tck-id-message-flow-edge-node-ncmd-subscribe",
                 "tck-id-message-flow-device-dcmd-subscribe")
async def test_ncmd_and_dcmd_subscribed_at_qos_1_before_nbirth(
        debug_broker: Mosquitto) -> None:
    document = edge_flow(debug_broker.port, {"client_id": "edge-1"})
    async with SparkplugHost(debug_broker.port) as host, FlowHarness(document) as h:
        await born(h, host)
    log = debug_broker.log
    lines = log.splitlines()
    subscribed = {m.group(1): (i, m.group(2)) for i, line in enumerate(lines)
                  if "Received SUBSCRIBE from edge-1" in lines[i - 1]
                  and (m := re.search(r"\t(spBv1\.0/\S+) \(QoS (\d)\)", line))}
    ncmd, dcmd1, dcmd2 = (NODE_TOPIC.format("NCMD"),
                          f"spBv1.0/{GROUP}/DCMD/{EDGE}/pump-1",
                          f"spBv1.0/{GROUP}/DCMD/{EDGE}/pump-2")
    assert {topic: qos for topic, (_, qos) in subscribed.items()} == \
        {ncmd: "1", dcmd1: "1", dcmd2: "1"}, log
    birth = next(i for i, line in enumerate(lines)
                 if "Received PUBLISH from edge-1" in line and "NBIRTH" in line)
    assert all(i < birth for i, _ in subscribed.values())


@pytest.mark.tck("tck-id-topics-ndeath-payload", "tck-id-topics-ndeath-seq",
                 "tck-id-payloads-ndeath-seq", "tck-id-payloads-ndeath-bdseq",
                 "tck-id-payloads-ndeath-will-message",
                 "tck-id-payloads-ndeath-will-message-qos",
                 "tck-id-payloads-ndeath-will-message-retain",
                 "tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath",
                 "tck-id-operational-behavior-edge-node-intentional-disconnect-packet",
                 "tck-id-payloads-ndeath-will-message-publisher",
                 "tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt311",
                 "tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt50",
                 "tck-id-topics-nbirth-bdseq-increment", "tck-id-topics-nbirth-bdseq-matching",
                 "tck-id-payloads-nbirth-bdseq-repeat")
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_clean_stop_says_ndeath_and_bdseq_goes_on_after_a_restart(
        debug_broker: Mosquitto, tmp_path: Path, protocol: str) -> None:
    document = edge_flow(debug_broker.port, {"protocol": protocol, "client_id": "edge-1"})
    async with SparkplugHost(debug_broker.port) as host:
        for run in (1, 2):
            async with FlowHarness(document, state_dir=tmp_path) as h:
                await connected(h)
                await host.wait_for("DBIRTH", 2 * run)
            await host.wait_for("NDEATH", run)
    births, deaths = host.of("NBIRTH"), host.of("NDEATH")
    assert [b.metric("bdSeq").value for b in births] == [0, 1]
    assert [d.metric("bdSeq").value for d in deaths] == [0, 1]
    for death in deaths:
        assert death.topic == NODE_TOPIC.format("NDEATH")
        assert (death.qos, death.retain) == (1, False)
        assert death.payload.seq is None
        assert [m.name for m in death.payload.metrics] == ["bdSeq"]
        assert death.metric("bdSeq").datatype == "Int64"
    assert [s.verb for s in host.seen] == ["NBIRTH", "DBIRTH", "DBIRTH", "NDEATH"] * 2
    log = debug_broker.log
    said = re.findall(r"Received (PUBLISH|DISCONNECT) from edge-1"
                      r"(?:.*'(spBv1\.0/\S+)')?", log)
    if protocol == "5":  # DISCONNECT with reason 4: the broker publishes the will
        assert [verb for verb, topic in said if "NDEATH" in topic or verb == "DISCONNECT"] \
            == ["DISCONNECT"] * 2, log
    else:  # NDEATH published by the node itself, then DISCONNECT
        assert [verb for verb, topic in said if "NDEATH" in topic or verb == "DISCONNECT"] \
            == ["PUBLISH", "DISCONNECT"] * 2, log


def test_bdseq_wraps_from_255_to_0(tmp_path: Path) -> None:
    (tmp_path / "bdseq.json").write_text('{"bdSeq": 254}')
    problems: list[str] = []
    counter = BdSeq(tmp_path / "bdseq.json", problems.append)
    assert [counter.next() for _ in range(3)] == [255, 0, 1]
    assert BdSeq(tmp_path / "bdseq.json", problems.append).next() == 2  # kept on disk
    (tmp_path / "bdseq.json").write_text('{"bdSeq": "x"')
    assert BdSeq(tmp_path / "bdseq.json", problems.append).next() == 0
    assert problems == [problems[0]]
    assert "cannot read the saved bdSeq" in problems[0]


@pytest.mark.tck("tck-id-payloads-ndeath-will-message", "tck-id-topics-ndeath-payload",
                 "tck-id-payloads-ndeath-bdseq", "tck-id-topics-nbirth-bdseq-increment",
                 "tck-id-message-flow-edge-node-birth-publish-will-message-payload",
                 "tck-id-message-flow-edge-node-birth-publish-will-message-payload-bdSeq")
async def test_a_lost_link_gets_ndeath_from_the_broker_and_a_birth_with_the_next_bdseq(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[{"metric": "Flow", "datatype": "Double"}])
    async with SparkplugHost(mosquitto.port) as host:
        async with FlowHarness(document) as h:
            await born(h, host)
            h.inject("out0", {"payload": 1.0})
            await host.wait_for("NDATA")
            # The network fails under the node: no DISCONNECT, no NDEATH of its own.
            h.engine.nodes["edge"]._connection._transport.abort()  # type: ignore[attr-defined]
            (death,) = await host.wait_for("NDEATH")
            births = await host.wait_for("NBIRTH", 2)
            await host.wait_for("DBIRTH", 4)
        await host.wait_for("NDEATH", 2)
    assert death.metric("bdSeq").value == 0  # the will of the first CONNECT
    assert [b.metric("bdSeq").value for b in births] == [0, 1]
    assert [s.verb for s in host.seen] == ["NBIRTH", "DBIRTH", "DBIRTH", "NDATA", "NDEATH",
                                           "NBIRTH", "DBIRTH", "DBIRTH", "NDEATH"]


async def test_broker_killed_mid_stream_then_back_means_a_birth_with_bdseq_plus_one(
        mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path) -> None:
    # No persistence: the restarted broker has no retained STATE, so the node waits for
    # the host's and the host (whose client reconnects by itself) sees every birth.
    broker = mosquitto_factory(persistence=False)
    broker.start()
    document = edge_flow(broker.port, {"primary_host_id": "scada"},
                         outs=[{"metric": "Flow", "datatype": "Double"}])
    async with SparkplugHost(broker.port) as host, \
            FlowHarness(document, state_dir=tmp_path) as h:
        host.state(True, 1)
        (first,) = await host.wait_for("NBIRTH")
        for n in range(20):
            h.inject("out0", {"payload": float(n)})
        await host.wait_for("NDATA", 20)
        broker.kill()
        await h.wait_event(lambda e: e.node_id == "edge" and e.kind == "status"
                           and e.data.get("fill") == "red")
        for n in range(5):  # no session: kept on disk, in order
            h.inject("out0", {"payload": 100.0 + n})
        broker.start()
        await host.watcher.wait_until(lambda: len(host.watcher.session_present) == 2)
        host.state(True, 2)
        (_, birth) = await host.wait_for("NBIRTH", 2)
        data = await host.wait_for("NDATA", 25)
        h.inject("out0", {"payload": 2.5})
        data = await host.wait_for("NDATA", 26)
    assert birth.metric("bdSeq").value == first.metric("bdSeq").value + 1
    assert birth.payload.seq == 0
    assert birth.metric("Flow").value == 104.0  # the latest value
    kept = [s.payload.metrics[0] for s in data[20:25]]
    assert [m.value for m in kept] == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert all(m.is_historical for m in kept)
    stamps = [m.timestamp or 0 for m in kept]
    assert stamps == sorted(stamps)  # their own times, taken while the broker was down
    assert stamps[-1] < (birth.payload.timestamp or 0)
    assert [s.payload.seq for s in data[20:]] == [3, 4, 5, 6, 7, 8]  # after 2 DBIRTHs
    assert (data[25].values, data[25].payload.metrics[0].is_historical) == ({1: 2.5}, False)


async def test_a_host_command_rebirth_repeats_births_with_the_same_bdseq(
        mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[{"metric": "Flow", "datatype": "Double"}])
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        h.inject("out0", {"payload": 2.5})
        await host.wait_for("NDATA")
        host.command(EDGE, [Metric("Boolean", True, name="Node Control/Rebirth")])
        births = await host.wait_for("NBIRTH", 2)
        await host.wait_for("DBIRTH", 4)
    assert [b.metric("bdSeq").value for b in births] == [0, 0]
    assert births[1].payload.seq == 0
    assert births[1].metric("Flow").value == 2.5  # the last value, in the new birth
    assert [s.verb for s in host.seen if s.verb != "NDEATH"] == [
        "NBIRTH", "DBIRTH", "DBIRTH", "NDATA", "NCMD", "NBIRTH", "DBIRTH", "DBIRTH"]


@pytest.mark.tck("tck-id-topic-structure-namespace-valid-group-id",
                 "tck-id-topic-structure-namespace-valid-edge-node-id",
                 "tck-id-topic-structure-namespace-valid-device-id")
@pytest.mark.parametrize(("field", "value", "pointer"), [
    ("group_id", "plant/3", "/config/group_id"), ("group_id", "a+b", "/config/group_id"),
    ("edge_node_id", "valve#1", "/config/edge_node_id"), ("edge_node_id", "",
                                                          "/config/edge_node_id"),
    ("edge_node_id", "v\u0000", "/config/edge_node_id"),
    ("devices", ["pump/1"], "/config/devices/0"),
    ("primary_host_id", "scada/1", "/config/primary_host_id"),
])
def test_ids_sparkplug_reserves_characters_of_are_refused(field: str, value: object,
                                                          pointer: str) -> None:
    document = edge_flow(1883, {field: value}, outs=[])
    with pytest.raises(FlowInvalid) as raised:
        check_flow(document, Registry.discover())
    (error,) = raised.value.errors
    assert (error.node_id, error.pointer) == ("edge", pointer)


async def test_next_server_ends_the_session_and_connects_again(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port)
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        await born(h, host)
        host.command(EDGE, [Metric("Boolean", True, name="Node Control/Next Server")])
        (death,) = await host.wait_for("NDEATH")
        births = await host.wait_for("NBIRTH", 2)
    assert death.metric("bdSeq").value == 0
    assert [b.metric("bdSeq").value for b in births] == [0, 1]


@pytest.mark.tck("tck-id-topic-structure-namespace-unique-device-id")
async def test_a_device_listed_twice_fails_the_start(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, {"devices": ["p", "q", "p"]}, outs=[])
    async with FlowHarness(document) as h:
        assert "devices: 'p' listed twice" in h.engine.failed["edge"]
