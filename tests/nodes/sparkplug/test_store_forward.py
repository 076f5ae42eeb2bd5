"""Store and forward against a real mosquitto: values made while the primary host is
offline are kept on disk (across a restart), bounded, and sent after the next birth as
historical data, oldest first, with their own timestamps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import connected, edge_flow
from tests.sparkplug_host import SparkplugHost

pytestmark = pytest.mark.broker

WAITING = "connected; waiting for primary host scada to be online"


def flow(port: int, **node: Any) -> dict[str, Any]:
    return edge_flow(port, {"primary_host_id": "scada", **node},
                     outs=[{"metric": "Level", "datatype": "UInt16"},
                           {"device": "pump-1", "metric": "Speed", "datatype": "Float"}])


def kept(host: SparkplugHost) -> list[tuple[str, Any, bool]]:
    return [(s.device, s.payload.metrics[0].value, s.payload.metrics[0].is_historical)
            for s in host.of("NDATA", "DDATA")]


async def test_values_kept_across_a_restart_go_out_after_the_birth_in_order(
        mosquitto: Mosquitto, tmp_path: Path) -> None:
    async with SparkplugHost(mosquitto.port) as host:
        host.state(False, 1)
        async with FlowHarness(flow(mosquitto.port), state_dir=tmp_path) as h:
            await connected(h, WAITING)
            for n in range(3):
                h.inject("out0", {"payload": n})
                h.inject("out1", {"payload": n / 2})
        async with FlowHarness(flow(mosquitto.port), state_dir=tmp_path) as h:
            await connected(h, WAITING)
            h.inject("out0", {"payload": 9})
            host.state(True, 2)
            await host.watcher.wait_until(lambda: len(host.of("NDATA", "DDATA")) == 7)
            h.inject("out0", {"payload": 10})
            await host.wait_for("NDATA", 5)
    assert kept(host) == [("", 0, True), ("pump-1", 0.0, True), ("", 1, True),
                          ("pump-1", 0.5, True), ("", 2, True), ("pump-1", 1.0, True),
                          ("", 9, True), ("", 10, False)]
    stamps = [s.payload.metrics[0].timestamp or 0 for s in host.of("NDATA", "DDATA")]
    assert stamps == sorted(stamps)


async def kept_then_replayed(port: int, count: int, **node: Any) -> tuple[SparkplugHost,
                                                                         Any, int]:
    """Values 0 to ``count`` - 1 of Level made while the primary host is offline, then
    the host online: (the host, the node, how many values were kept)."""
    async with SparkplugHost(port) as host:
        host.state(False, 1)
        async with FlowHarness(flow(port, **node)) as h:
            await connected(h, WAITING)
            for n in range(count):
                h.inject("out0", {"payload": n})
            edge = h.engine.nodes["edge"]
            left = edge.history.count  # type: ignore[attr-defined]
            host.state(True, 2)
            await host.wait_for("NDATA", left)
    return host, edge, left


async def test_a_full_store_drops_the_oldest(mosquitto: Mosquitto) -> None:
    host, edge, left = await kept_then_replayed(mosquitto.port, 10, outbox_messages=3)
    assert 0 < left <= 3  # the outbox drops a batch of the oldest to make room
    assert edge.history.dropped == 10 - left
    assert kept(host) == [("", n, True) for n in range(10 - left, 10)]


async def test_a_replay_bigger_than_the_send_buffer_loses_nothing(
        mosquitto: Mosquitto) -> None:
    host, edge, left = await kept_then_replayed(mosquitto.port, 1200, send_buffer_messages=50)
    assert (left, edge.qos0_dropped) == (1200, 0)
    assert kept(host) == [("", n, True) for n in range(1200)]


async def test_without_store_and_forward_values_are_dropped_and_counted(
        mosquitto: Mosquitto) -> None:
    async with SparkplugHost(mosquitto.port) as host:
        host.state(False, 1)
        async with FlowHarness(flow(mosquitto.port, store_and_forward=False)) as h:
            await connected(h, WAITING)
            for n in range(4):
                h.inject("out0", {"payload": n})
            host.state(True, 2)
            await host.wait_for("DBIRTH", 2)
            h.inject("out0", {"payload": 99})
            (data,) = await host.wait_for("NDATA")
            assert h.engine.nodes["edge"].dropped == 4  # type: ignore[attr-defined]
    assert data.payload.metrics[0].value == 99
