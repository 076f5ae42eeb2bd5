"""A primary host (Sparkplug 3.0 STATE) against a real mosquitto: births wait for it,
older STATE messages are ignored, and its going offline ends the session."""

from __future__ import annotations

import re

import pytest

from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import connected, edge_flow
from tests.sparkplug_host import SparkplugHost

pytestmark = pytest.mark.broker

WAITING = "connected; waiting for primary host scada to be online"


async def settled(h: FlowHarness, host: SparkplugHost, count: int) -> None:
    """Wait until the node has read every STATE sent so far: a STATE it cannot read,
    sent last on the same topic, comes back as its ``count``-th such warning."""
    host.watcher.publish("spBv1.0/STATE/scada", b"not json", qos=1)
    await h.wait_event(lambda e: e.kind == "warning" and "unreadable STATE" in e.data["text"]
                       and sum(1 for x in h.events if x.kind == "warning"
                               and "unreadable STATE" in x.data["text"]) >= count)


def edge(h: FlowHarness) -> object:
    return h.engine.nodes["edge"]


@pytest.mark.tck("tck-id-message-flow-edge-node-birth-publish-phid-wait",
                 "tck-id-message-flow-edge-node-birth-publish-phid-wait-id",
                 "tck-id-message-flow-edge-node-birth-publish-phid-wait-online",
                 "tck-id-message-flow-edge-node-birth-publish-phid-wait-timestamp",
                 "tck-id-operational-behavior-edge-node-birth-sequence-wait")
async def test_births_wait_for_the_primary_host_online(mosquitto_factory: object) -> None:
    broker: Mosquitto = mosquitto_factory(extra_config=["log_type debug"])  # type: ignore[operator]
    broker.start()
    document = edge_flow(broker.port, {"primary_host_id": "scada", "client_id": "edge-1"})
    async with SparkplugHost(broker.port) as host:
        # Retained and unreadable: its warning says the node has subscribed, so what
        # follows reaches it in the order sent.
        host.watcher.publish("spBv1.0/STATE/scada", b"not json", qos=1, retain=True)
        async with FlowHarness(document) as h:
            await h.wait_event(lambda e: e.kind == "warning")
            host.state(False, 100)
            host.state(True, 50)  # older than the latest: ignored
            host.state(True, 200, host_id="other")  # another host: not this node's
            await settled(h, host, 2)
            assert edge(h).born is False  # type: ignore[attr-defined]
            host.state(True, 300)
            await connected(h)
            births = await host.wait_for("DBIRTH", 2)
        assert len(host.of("NBIRTH")) == 1
        assert births[0].payload.seq == 1
    log = broker.log
    subscribed = log.index("\tspBv1.0/STATE/scada (QoS 1)")
    birth = log.index("Received PUBLISH from edge-1 (d0, q0, r0, m0, 'spBv1.0/plant/NBIRTH")
    assert subscribed < birth
    assert re.search(r"Received PUBLISH from host-scada.*STATE/scada", log[:birth])


@pytest.mark.tck("tck-id-message-flow-edge-node-birth-publish-phid-offline",
                 "tck-id-operational-behavior-edge-node-termination-host-offline",
                 "tck-id-operational-behavior-edge-node-termination-host-offline-timestamp")
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_host_offline_ends_the_session_until_it_is_back(mosquitto: Mosquitto,
                                                              protocol: str) -> None:
    document = edge_flow(mosquitto.port, {"primary_host_id": "scada", "protocol": protocol})
    async with SparkplugHost(mosquitto.port) as host:
        host.state(True, 100)
        async with FlowHarness(document) as h:
            (first,) = await host.wait_for("NBIRTH")
            host.state(False, 50)  # older than the online: ignored
            await settled(h, host, 1)
            assert edge(h).born is True  # type: ignore[attr-defined]
            host.state(False, 200)
            (death,) = await host.wait_for("NDEATH")
            await connected(h, WAITING)  # a new session, waiting for the host again
            h.inject("out0", {"topic": "Flow", "payload": 1.0})  # no session: kept
            host.state(True, 300)
            births = await host.wait_for("NBIRTH", 2)
            (history,) = await host.wait_for("NDATA")
    (kept,) = history.payload.metrics
    assert (kept.value, kept.is_historical) == (1.0, True)
    assert death.metric("bdSeq").value == first.metric("bdSeq").value
    assert births[1].metric("bdSeq").value == first.metric("bdSeq").value + 1
    verbs = [s.verb for s in host.seen][:8]
    assert verbs == ["NBIRTH", "DBIRTH", "DBIRTH", "NDEATH", "NBIRTH", "DBIRTH", "DBIRTH",
                     "NDATA"]


async def test_unreadable_state_is_warned_about_and_ignored(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, {"primary_host_id": "scada"})
    async with SparkplugHost(mosquitto.port) as host:
        # Retained, so the node gets it however its SUBSCRIBE races this publish.
        host.watcher.publish("spBv1.0/STATE/scada", b"\xff" * 5000, qos=1, retain=True)
        async with FlowHarness(document) as h:
            await h.wait_event(lambda e: e.kind == "warning")
            for payload in (b'{"online": "yes", "timestamp": 1}', b'{"online": true}',
                            b'{"online": true, "timestamp": true}', b"[]"):
                host.watcher.publish("spBv1.0/STATE/scada", payload, qos=1)
            await settled(h, host, 6)
            assert edge(h).born is False  # type: ignore[attr-defined]
    texts = [e.data["text"] for e in h.events if e.kind == "warning"]
    assert len(texts) == 6
    assert all(len(text) < 300 for text in texts)
    assert "online must be true or false, timestamp an integer" in texts[1]
