"""A host's Rebirth request while the edge node streams data as fast as the flow can
feed it, and the send buffer overflows: the births are complete and in order, seq runs
on without a gap, and every value is delivered or counted as dropped."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

import pytest

from portless.nodes.sparkplug.payload import Metric
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import EDGE, born, edge_flow
from tests.sparkplug_host import SparkplugHost

pytestmark = [pytest.mark.broker, pytest.mark.slow]

BURST = 400
"""Values injected per turn of the event loop: more than the send buffer holds."""
AFTER = 2000
"""Data messages the host must see after the new births before the flow stops."""


@pytest.mark.tck("tck-id-operational-behavior-data-commands-rebirth-name",
                 "tck-id-payloads-sequence-num-incrementing",
                 "tck-id-payloads-nbirth-bdseq-repeat", "tck-id-payloads-dbirth-order",
                 "tck-id-message-flow-device-birth-publish-nbirth-wait")
async def test_a_rebirth_request_under_load(
        mosquitto_factory: Callable[..., Mosquitto]) -> None:
    # The host must get every QoS 0 message mosquitto takes, however many wait for it.
    broker = mosquitto_factory(extra_config=["max_queued_messages 0", "max_queued_bytes 0"])
    broker.start()
    document = edge_flow(broker.port, {"send_buffer_messages": 300}, outs=[
        {"metric": "Flow", "datatype": "Int64"},
        {"device": "pump-1", "metric": "Speed", "datatype": "Int64"},
        {"device": "pump-2", "metric": "Speed", "datatype": "Int64"}])
    async with SparkplugHost(broker.port) as host, FlowHarness(document) as h:
        await born(h, host)
        edge = h.engine.nodes["edge"]
        injected = 0
        feeding = True

        async def feed() -> None:
            nonlocal injected
            while feeding:
                for _ in range(BURST):
                    h.inject(f"out{injected % 3}", {"payload": injected})
                    injected += 1
                await asyncio.sleep(0)  # a turn of the loop: the node sends what it has

        feeder = asyncio.create_task(feed())
        await host.wait_for("DDATA", 3000)
        started, before = time.monotonic(), injected
        host.command(EDGE, [Metric("Boolean", True, name="Node Control/Rebirth")])
        await host.wait_for("NBIRTH", 2)
        reborn = time.monotonic()
        rebirth_at = len(host.seen)
        await host.watcher.wait_until(
            lambda: len(host.seen) - rebirth_at >= AFTER, timeout=30)
        feeding = False
        await feeder
        elapsed, sent = time.monotonic() - started, injected - before
        dropped = edge.qos0_dropped  # type: ignore[attr-defined]
        await host.watcher.wait_until(
            lambda: len(host.of("NDATA", "DDATA")) + dropped >= injected, timeout=30)
    stream = [s for s in host.seen if s.verb != "NDEATH"]
    data = host.of("NDATA", "DDATA")
    assert len(data) + dropped == injected  # every value sent, or counted as dropped
    assert dropped > 0  # the send buffer did overflow: the test loads the node enough

    # The births: NBIRTH (seq 0, the same bdSeq), then each DBIRTH, no data between.
    births = [i for i, s in enumerate(stream) if s.verb == "NBIRTH"]
    assert len(births) == 2
    second = births[1]
    assert [s.verb for s in stream[second:second + 3]] == ["NBIRTH", "DBIRTH", "DBIRTH"]
    assert [s.device for s in stream[second + 1:second + 3]] == ["pump-1", "pump-2"]
    nbirth = stream[second]
    assert nbirth.metric("bdSeq").value == stream[births[0]].metric("bdSeq").value

    # seq: one more on every message the node publishes, 255 wrapping to 0, 0 at NBIRTH.
    published = [s for s in stream if s.verb != "NCMD"]
    for previous, current in itertools.pairwise(published):
        expected = 0 if current.verb == "NBIRTH" else ((previous.payload.seq or 0) + 1) % 256
        assert current.payload.seq == expected, (previous, current)
    assert sum(1 for s in published if s.payload.seq == 255) > 2  # it wrapped, often

    # Values in order per metric; each birth carries the latest value, data goes on after.
    for verb, device in (("NDATA", ""), ("DDATA", "pump-1"), ("DDATA", "pump-2")):
        values = [s.payload.metrics[0].value for s in data
                  if s.verb == verb and s.device == device]
        assert values == sorted(set(values))  # ascending, none twice
    birth_flow = nbirth.metric("Flow").value
    after = [s.payload.metrics[0].value for s in stream[second:] if s.verb == "NDATA"]
    assert after[0] > birth_flow
    before_birth = [s.payload.metrics[0].value for s in stream[:second] if s.verb == "NDATA"]
    assert before_birth[-1] <= birth_flow
    print(f"\nrebirth under load: {sent / elapsed:,.0f} values/s injected, {len(data):,} "
          f"data messages seen, {dropped:,} dropped by the send buffer, NBIRTH "
          f"{1000 * (reborn - started):.0f} ms after the NCMD")
