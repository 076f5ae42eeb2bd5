"""link-call: a message goes into the flow behind a link-in and comes back from a
link-out in return mode; Node-RED's 60-link_spec (link call part, static mode) as rows."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import FlowInvalid
from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES


def node(node_id: str, type_: str, config: dict[str, Any] | None = None,
         wires: list[list[str]] | None = None) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "config": config or {}, "wires": wires or []}


def times(factor: int, name: str) -> list[dict[str, Any]]:
    """A linked flow that multiplies the payload: link-in -> double -> return."""
    return [node(f"{name}-in", "link-in", wires=[[f"{name}-x"]]),
            node(f"{name}-x", "test-double", {"factor": factor}, [[f"{name}-back"]]),
            node(f"{name}-back", "link-out", {"mode": "return"})]


CALLS = [
    ("a call gets the linked flow's answer", [
        *times(2, "double"), node("call", "link-call", {"links": ["double-in"]})], 4, 8),
    ("calls nest: 4 times 2 times 3", [
        *times(2, "m2"), *times(3, "m3"),
        node("m6-in", "link-in", wires=[["c2"]]),
        node("c2", "link-call", {"links": ["m2-in"]}, [["c3"]]),
        node("c3", "link-call", {"links": ["m3-in"]}, [["m6-back"]]),
        node("m6-back", "link-out", {"mode": "return"}),
        node("call", "link-call", {"links": ["m6-in"]})], 4, 24),
]


@pytest.mark.parametrize(("nodes", "payload", "answer"), [row[1:] for row in CALLS],
                         ids=[row[0] for row in CALLS])
async def test_link_call_sends_the_answer_on(nodes: list[dict[str, Any]], payload: int,
                                             answer: int) -> None:
    async with FlowHarness({"version": 1, "nodes": nodes}, node_types=TEST_TYPES) as h:
        h.inject("call", {"payload": payload, "topic": "t"})
        [got] = await h.wait_for("call")
        await h.engine.wait_idle(5)
        assert not h.engine.nodes["call"].pending  # the timeout is cancelled
    assert (got["payload"], got["topic"]) == (answer, "t")
    assert "_linkSource" not in got  # the last call's entry taken, the list dropped


async def test_no_answer_in_time_is_an_error_with_the_message_for_catch() -> None:
    nodes = [node("in", "link-in", wires=[["x"]]),
             node("x", "test-double", wires=[["not-back"]]),
             node("not-back", "link-out"),  # mode link, to nowhere: no answer comes
             node("call", "link-call", {"links": ["in"], "timeout": 0.05}),
             node("catch", "catch", {"scope": "nodes", "nodes": ["call"]})]
    async with FlowHarness({"version": 1, "nodes": nodes}, node_types=TEST_TYPES) as h:
        h.inject("call", {"payload": 1, "target": "double payload"})
        [caught] = await h.wait_for("catch")
        assert h.received("call") == []
    assert caught["target"] == "double payload"
    assert caught["payload"] == 1  # as it came in, before the linked flow changed it
    assert caught["error"]["message"] == "timeout"
    assert caught["error"]["source"]["id"] == "call"


async def test_an_answer_for_a_call_no_longer_waiting_is_sent_on_too() -> None:
    # Node-RED sends an answer it has no call for (fanned out, or after the timeout).
    nodes = [node("in", "link-in", wires=[["back", "back"]]),
             node("back", "link-out", {"mode": "return"}),
             node("call", "link-call", {"links": ["in"]})]
    async with FlowHarness({"version": 1, "nodes": nodes}) as h:
        h.inject("call", {"payload": 1})
        got = await h.wait_for("call", 2)
    assert [msg["payload"] for msg in got] == [1, 1]


@pytest.mark.parametrize(("config", "error"), [
    ({"links": []}, "node call: /config/links"),
    ({}, "node call: /config"),
    ({"links": ["back"]}, "node call: /config/links/0: refers to 'back', a link-out, "
                          "but must refer to a link-in"),
    ({"links": ["in"], "timeout": 0}, "node call: /config/timeout"),
])
async def test_a_call_names_one_link_in(config: dict[str, Any], error: str) -> None:
    nodes = [node("in", "link-in"), node("back", "link-out", {"mode": "return"}),
             node("call", "link-call", config)]
    with pytest.raises(FlowInvalid, match=error):
        async with FlowHarness({"version": 1, "nodes": nodes}):
            pass
