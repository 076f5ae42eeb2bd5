"""An edge node with two MQTT servers (two real mosquittos) and a primary host on each:
it walks to the next on Node Control/Next Server, on the host's offline STATE and on a
lost link; one server at a time, a new bdSeq per CONNECT, births only once the host is
online on that server."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from portless.nodes.sparkplug.payload import Metric
from portless.runtime.errors import FlowInvalid
from portless.runtime.flow import check_flow
from portless.runtime.registry import Registry
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto, free_port
from tests.nodes.sparkplug.flows import EDGE, edge_flow
from tests.sparkplug_host import SparkplugHost


@pytest.mark.parametrize(("servers", "pointer"), [
    ([{"host": ""}], "/config/other_servers/0/host"),
    ([{"host": "b", "port": 0}], "/config/other_servers/0/port"),
    ([{"host": "b", "tls": True}], "/config/other_servers/0/tls"),  # not per server
    ({"host": "b"}, "/config/other_servers"),
])
def test_other_servers_are_checked(servers: object, pointer: str) -> None:
    with pytest.raises(FlowInvalid) as raised:
        check_flow(edge_flow(1883, {"other_servers": servers}, outs=[]), Registry.discover())
    (error,) = raised.value.errors
    assert (error.node_id, error.pointer) == ("edge", pointer)


def connections(broker: Mosquitto) -> tuple[int, int]:
    """(CONNECTs of edge-1 the broker took, its connections that ended), from its log."""
    log = broker.log
    return (len(re.findall(r"New client connected from \S+ as edge-1 ", log)),
            len(re.findall(r"Client edge-1 (?:disconnected|closed its connection)", log)))


def state_then_birth(broker: Mosquitto, session: int) -> bool:
    """Whether edge-1 subscribed to STATE before its NBIRTH in its ``session``-th
    session (counted from 1) with ``broker``."""
    log = broker.log.split("as edge-1 ")[session]
    subscribed = log.find("\tspBv1.0/STATE/scada (QoS 1)")
    birth = log.find("Received PUBLISH from edge-1 (d0, q0, r0, m0, 'spBv1.0/plant/NBIRTH")
    return 0 <= subscribed < birth


async def test_a_server_without_a_port_takes_the_default() -> None:
    document = edge_flow(1, {"other_servers": [{"host": "b.invalid"},
                                               {"host": "c.invalid", "port": 1884}]},
                         outs=[])
    async with FlowHarness(document) as h:
        servers = h.engine.nodes["edge"]._servers  # type: ignore[attr-defined]
    assert servers == [("127.0.0.1", 1), ("b.invalid", 1883), ("c.invalid", 1884)]


@pytest.mark.broker
async def test_a_server_that_does_not_answer_is_passed_over(mosquitto: Mosquitto) -> None:
    document = edge_flow(free_port(), {"other_servers": [{"host": "127.0.0.1",
                                                          "port": mosquitto.port}]})
    async with SparkplugHost(mosquitto.port) as host, FlowHarness(document) as h:
        (birth,) = await host.wait_for("NBIRTH")
    assert birth.metric("bdSeq").value == 0  # no CONNECT reached the first: no number
    assert any(e.data.get("text", "").startswith("connection refused by 127.0.0.1:")
               for e in h.events if e.node_id == "edge" and e.kind == "status")


@pytest.mark.slow
@pytest.mark.broker
@pytest.mark.tck("tck-id-operational-behavior-primary-application-state-with-multiple-servers-"
                 "state-subs",
                 "tck-id-operational-behavior-primary-application-state-with-multiple-servers-"
                 "single-server",
                 "tck-id-operational-behavior-primary-application-state-with-multiple-servers-"
                 "walk",
                 "tck-id-operational-behavior-edge-node-termination-host-offline-reconnect",
                 "tck-id-operational-behavior-edge-node-birth-sequence-wait",
                 "tck-id-topics-nbirth-bdseq-increment", "tck-id-topics-nbirth-bdseq-matching")
async def test_next_server_host_offline_and_a_lost_link_walk_the_servers(
        mosquitto_factory: Callable[..., Mosquitto]) -> None:
    first = mosquitto_factory("a", extra_config=["log_type debug"])
    second = mosquitto_factory("b", extra_config=["log_type debug"])
    document = edge_flow(first.port, {"primary_host_id": "scada", "client_id": "edge-1",
                                      "other_servers": [{"host": "127.0.0.1",
                                                         "port": second.port}]},
                         outs=[{"metric": "Flow", "datatype": "Double"}])
    async with SparkplugHost(first.port) as host_a, SparkplugHost(second.port) as host_b:
        host_a.state(False, 1)  # retained: the host has lost this server
        host_b.state(True, 1)
        async with FlowHarness(document) as h:
            # Offline where it connects first: NDEATH there, on to the next.
            (death_a,) = await host_a.wait_for("NDEATH")
            (birth_b,) = await host_b.wait_for("NBIRTH")
            assert connections(first) == (1, 1)  # one server at a time
            h.inject("out0", {"payload": 1.0})
            await host_b.wait_for("NDATA")

            # Next Server: NDEATH where it is, a birth on the next (the first again).
            host_a.state(True, 2)
            host_b.command(EDGE, [Metric("Boolean", True, name="Node Control/Next Server")])
            (birth_a,) = await host_a.wait_for("NBIRTH")
            assert connections(second) == (1, 1)
            (death_b,) = await host_b.wait_for("NDEATH")

            # The host going offline on this server: walk on.
            host_a.state(False, 3)
            deaths_a = await host_a.wait_for("NDEATH", 2)
            births_b = await host_b.wait_for("NBIRTH", 2)
            assert connections(first) == (2, 2)
            h.inject("out0", {"payload": 2.0})
            await host_b.wait_for("NDATA", 2)

            # A lost link (the network fails under the node): the broker says its will,
            # and the node goes on to the next server, where the host is online again.
            host_a.state(True, 4)
            h.engine.nodes["edge"]._connection._transport.abort()  # type: ignore[attr-defined]
            deaths_b = await host_b.wait_for("NDEATH", 2)
            births_a = await host_a.wait_for("NBIRTH", 2)
            await host_a.wait_for("DBIRTH", 4)
            h.inject("out0", {"payload": 3.0})
            (*_, data_a) = await host_a.wait_for("NDATA")
            assert connections(second) == (2, 2)
    bdseqs = [s.metric("bdSeq").value for s in (death_a, birth_b, death_b, birth_a,
                                                 deaths_a[1], births_b[1], deaths_b[1],
                                                 births_a[1])]
    assert bdseqs == [0, 1, 1, 2, 2, 3, 3, 4]  # a new bdSeq per CONNECT, wherever it goes
    assert births_a[1].metric("Flow").value == 2.0  # the latest value, in the new birth
    assert data_a.values == {1: 3.0}
    assert [s.verb for s in host_a.seen] == ["NDEATH", "NBIRTH", "DBIRTH", "DBIRTH",
                                             "NDEATH", "NBIRTH", "DBIRTH", "DBIRTH",
                                             "NDATA", "NDEATH"]  # the clean stop
    said = {e.data.get("text") for e in h.events if e.node_id == "edge" and e.kind == "status"}
    assert {f"disconnected: primary host scada is offline; on to 127.0.0.1:{second.port}",
            f"disconnected: Node Control/Next Server from the host; on to 127.0.0.1:"
            f"{first.port}"} <= said
    assert all(state_then_birth(first, n) for n in (2, 3)), first.log
    assert all(state_then_birth(second, n) for n in (1, 2)), second.log
