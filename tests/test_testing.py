"""The public test harness behaves as documented for plugin authors."""

from __future__ import annotations

import pytest

from portless.runtime import FlowInvalid, Message, Node
from portless.testing import FlowHarness, arun_node, run_node
from tests.nodetypes import Double, Split


def test_run_node_fills_topic_and_msgid_and_collects_per_port() -> None:
    run = run_node(Split, {}, [{"payload": 1}, {"payload": 2}, {"payload": 3}])
    assert [[m["payload"] for m in port] for port in run.outputs] == [[2], [1, 3]]
    assert all(m["topic"] == "" and m["_msgid"] for port in run.outputs for m in port)


def test_run_node_does_not_change_the_callers_messages() -> None:
    inputs: list[Message] = [{"payload": 2}]
    run_node(Double, {}, inputs)
    assert inputs == [{"payload": 2}]


def test_run_node_reports_exceptions_as_errors() -> None:
    run = run_node(Double, {}, [{"payload": "boom"}, {"payload": 1}])
    assert run.errors == ["ValueError: cannot double boom"]
    assert [m["payload"] for m in run.outputs[0]] == [2]


def test_run_node_validates_config_like_a_flow() -> None:
    with pytest.raises(FlowInvalid, match="/config/factor: must be a number"):
        run_node(Double, {"factor": "two"}, [])


async def test_arun_node_waits_for_timers_and_times_out_when_never_idle() -> None:
    class Delay(Node):
        type = "test-delay"

        def on_input(self, msg: Message) -> None:
            self.call_later(0.02, self.send, msg)

    class Forever(Node):
        type = "test-forever"

        async def start(self) -> None:
            self.tick()

        def tick(self) -> None:
            self.call_later(0.01, self.tick)

    run = await arun_node(Delay, {}, [{"payload": "late"}])
    assert [m["payload"] for m in run.outputs[0]] == ["late"]
    with pytest.raises(TimeoutError):
        await arun_node(Forever, {}, [], timeout=0.2)


async def test_a_type_added_to_one_harness_is_not_in_the_next() -> None:
    async with FlowHarness({"version": 1, "nodes": []}, node_types=[Double]) as first:
        assert Double.type in first.registry
    async with FlowHarness({"version": 1, "nodes": []}) as second:
        assert Double.type not in second.registry
        assert "debug" in second.registry
