"""The run queue: batches that yield to the event loop, and a loop of wires found by
counting hops only while the queue stays busy (through a real engine and real nodes)."""

from __future__ import annotations

import asyncio

import pytest

from portless.runtime import Engine, Registry, check_flow
from portless.runtime.run_queue import LOOP_HOPS
from tests.nodetypes import TEST_TYPES
from tests.runtime.test_engine import Recorder, flow, node, ping_pong, timer_lateness


async def test_drain_yields_to_the_event_loop_between_batches() -> None:
    registry = Registry(TEST_TYPES)
    engine = Engine(registry, batch=100)
    await engine.start(check_flow(flow(node("a", "test-double")), registry))
    for value in range(1000):
        engine._queue.append((engine.nodes["a"], {"payload": value}))
    seen_queue_lengths: list[int] = []
    asyncio.get_running_loop().call_soon(lambda: seen_queue_lengths.append(len(engine._queue)))
    engine._drain()
    await engine.wait_idle(timeout=5)
    assert seen_queue_lengths
    assert 0 < seen_queue_lengths[0] < 1000
    await engine.stop()


@pytest.mark.timeout(30)
async def test_a_loop_of_wires_keeps_timers_on_time_and_warns_its_nodes() -> None:
    recorder = Recorder()
    registry = Registry.discover()
    engine = Engine(registry, events=recorder.bus)
    await engine.start(check_flow(ping_pong(), registry))
    engine.inject("ping", {"payload": 5})
    assert await timer_lateness(0.02) < 0.25
    for node_id in ("ping", "pong"):
        warning = await recorder.wait("warning", node_id)
        assert f"more than {LOOP_HOPS:,} nodes: a loop of wires?" in warning.data["text"]
        assert engine.nodes[node_id].last_status == {
            "fill": "yellow", "shape": "ring", "text": f"in a loop: over {LOOP_HOPS:,} hops"}
    assert await timer_lateness(0.02) < 0.25  # still spinning, still responsive
    # The filter shows its counts once a second; the loop's status stays over them.
    await asyncio.sleep(1.2)
    assert {engine.nodes[node_id].last_status["text"] for node_id in ("ping", "pong")} == {
        f"in a loop: over {LOOP_HOPS:,} hops"}
    await asyncio.wait_for(engine.stop(), 10)
    assert len([e for e in recorder.events if e.kind == "warning"]) == 2  # once per node


async def test_a_loop_that_outlives_a_deploy_is_warned_about_again_on_the_new_node() -> None:
    recorder = Recorder()
    registry = Registry.discover()
    engine = Engine(registry, events=recorder.bus)
    await engine.start(check_flow(ping_pong(), registry))
    engine.inject("ping", {"payload": 5})
    await recorder.wait("warning", "pong")
    wider = ping_pong()
    wider["nodes"][1]["config"]["band"] = 2e9
    since = len(recorder.events)
    report = await engine.deploy(check_flow(wider, registry))
    assert report.started == ("pong",)
    async with asyncio.timeout(10):
        while not any(e.kind == "warning" and e.node_id == "pong"
                      for e in recorder.events[since:]):
            recorder.arrived.clear()
            await recorder.arrived.wait()
    await engine.stop()


async def test_a_busy_flow_counts_hops_per_chain_not_per_message_handled() -> None:
    """50,000 messages queued at once keep the queue from emptying for 150 batches, so
    hops are counted, from 0 when counting starts: a -> b -> c makes 2 hops, so with a
    limit of 1 only c warns, whatever the number of messages handled."""
    recorder = Recorder()
    registry = Registry(TEST_TYPES)
    engine = Engine(registry, events=recorder.bus, loop_hops=1)
    await engine.start(check_flow(flow(node("a", "test-double", wires=[["b"]]),
                                       node("b", "test-double", wires=[["c"]]),
                                       node("c", "test-double")), registry))
    engine._queue.extend((engine.nodes["a"], {"payload": value}) for value in range(50_000))
    engine._drain_soon()
    await engine.wait_idle(timeout=30)
    assert engine._counting is False  # counting ended with the streak
    assert [e.node_id for e in recorder.events if e.kind == "warning"] == ["c"]
    await engine.stop()
