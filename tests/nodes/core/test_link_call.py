"""link-call: a message goes into the flow behind a link-in and comes back from a
link-out in return mode; Node-RED's 60-link_spec (link call part) as rows.

Of its 7 link-call cases (an eighth, a call in a subflow, is disabled there) all 7 are
here: static call, timeout, nesting, and the dynamic mode's call by name, two of a name
on one tab and on two, and a rename by a deploy; the dynamic rows run through Node-RED
4 too (test_link_node_red.py), but for the deploy, which its runner cannot do."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import Engine, FlowInvalid, Registry
from portless.runtime.tabs import check_tabs, run_together
from portless.testing import Collector, FlowHarness
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


# --- dynamic calls: the link-in msg.target names ------------------------------------------
# Each row: (what it shows, {tab: [(link-in id, its name)]}, msg.target, what comes back:
# ("via", the id of the link-in that answered) or ("error", "several" | "none")). The call
# is on tab t1; each link-in's flow marks the message with its id and answers. Ids and
# names get the row's prefix, so rows can share one Node-RED (test_link_node_red.py).
DYNAMIC = [
    # Node-RED's 60-link_spec "should call link-in node by name and get response"
    ("by name, the one on the call's own tab first",
     {"t1": [("li1", "double payload")], "t2": [("li2", "double payload")]},
     "double payload", ("via", "li1")),
    # "should raise error due to multiple targets on same tab"
    ("two of that name on the call's tab: an error",
     {"t1": [("li1", "double payload"), ("li2", "double payload")]},
     "double payload", ("error", "several")),
    # "should raise error due to multiple targets on different tabs"
    ("two of that name on other tabs: an error",
     {"t1": [], "t2": [("li1", "double payload")], "t3": [("li2", "double payload")]},
     "double payload", ("error", "several")),
    ("by name, the only one, on another tab",
     {"t1": [], "t2": [("li1", "square")]}, "square", ("via", "li1")),
    ("by id, on another tab, though a link-in of the call's tab has it as name",
     {"t1": [("li1", "li2")], "t2": [("li2", "other")]}, "li2", ("via", "li2")),
    ("no link-in of that name or id: an error",
     {"t1": [("li1", "square")]}, "cube", ("error", "none")),
    ("no msg.target: an error", {"t1": [("li1", "square")]}, None, ("error", "none")),
]


def dynamic_tabs(prefix: str, tabs: dict[str, list[tuple[str, str]]]
                 ) -> dict[str, list[dict[str, Any]]]:
    """A row's link-ins, each answering with msg.via set to its id, as portless nodes
    by tab; tab t1 also has the call, a catch of its errors, and both into "sink"."""
    out: dict[str, list[dict[str, Any]]] = {}
    for tab, link_ins in tabs.items():
        nodes = out[tab] = []
        for link_in, name in link_ins:
            ident = prefix + link_in
            nodes += [
                {**node(ident, "link-in", wires=[[f"{ident}-mark"]]), "name": prefix + name},
                node(f"{ident}-mark", "change", {"rules": [
                    {"action": "set", "property": {"kind": "msg", "value": "via"},
                     "value": {"kind": "string", "value": ident}}]}, [[f"{ident}-back"]]),
                node(f"{ident}-back", "link-out", {"mode": "return"})]
    out["t1"] += [node("call", "link-call", {"link_type": "dynamic", "timeout": 5},
                       [["sink"]]),
                  node("catch", "catch", {"scope": "nodes", "nodes": ["call"]}, [["sink"]]),
                  node("sink", Collector.type)]
    return out


def outcome(msg: dict[str, Any]) -> tuple[str, str]:
    """("via", link-in id) for an answer, ("error", "several" or "none") for an error."""
    if "error" not in msg:
        return "via", msg["via"]
    text = msg["error"]["message"]
    return "error", "several" if "have that name" in text else "none"


async def run_dynamic(tabs: dict[str, list[dict[str, Any]]], target: str | None
                      ) -> list[dict[str, Any]]:
    """What reaches the sink when a message with this target is sent to the call."""
    registry = Registry.discover()
    registry.add(Collector, "test")
    flows = check_tabs({Path(f"{tab}.json"): {"version": 1, "nodes": nodes}
                        for tab, nodes in tabs.items()}, registry)
    engine = Engine(registry)
    await engine.start(run_together(list(flows.values())))
    try:
        engine.inject("call", {"payload": 1, **({} if target is None else {"target": target})})
        sink = engine.nodes["sink"]
        assert isinstance(sink, Collector)
        async with asyncio.timeout(5):
            await sink.arrived.wait()
        await engine.wait_idle(5)
        return sink.received
    finally:
        await engine.stop()


@pytest.mark.parametrize(("tabs", "target", "expected"), [row[1:] for row in DYNAMIC],
                         ids=[row[0] for row in DYNAMIC])
async def test_a_dynamic_call_finds_the_link_in_msg_target_names(
        tabs: dict[str, list[tuple[str, str]]], target: str | None,
        expected: tuple[str, str]) -> None:
    got = await run_dynamic(dynamic_tabs("", tabs), target)
    assert [outcome(msg) for msg in got] == [expected]
    if expected[0] == "error":  # the message as it came, for the catch node
        assert got[0]["payload"] == 1
        assert got[0]["error"]["source"]["id"] == "call"


async def test_after_a_deploy_renames_one_of_two_the_new_name_is_found() -> None:
    # Node-RED's "should not raise error after deploying a name change to a duplicate
    # link-in node": the lookup follows what runs now, not what ran at the call's start.
    tabs = dynamic_tabs("", {"t1": [("li1", "duplicate"), ("li2", "duplicate")]})
    async with FlowHarness({"version": 1, "nodes": tabs["t1"]}) as h:
        h.inject("call", {"payload": 1, "target": "duplicate"})
        [caught] = await h.wait_for("catch")
        renamed = [{**entry, "name": "add"} if entry["id"] == "li2" else entry
                   for entry in tabs["t1"]]
        report = await h.deploy({"version": 1, "nodes": renamed})
        assert "call" not in report.started  # the call itself did not restart
        h.inject("call", {"payload": 2, "target": "add"})
        h.inject("call", {"payload": 3, "target": "duplicate"})
        answers = await h.wait_for("call", 2)
    assert outcome(caught) == ("error", "several")
    assert [(msg["payload"], msg["via"]) for msg in answers] == [(2, "li2"), (3, "li1")]


@pytest.mark.parametrize(("config", "error"), [
    ({"link_type": "dynamic", "links": ["in"]}, "node call: /config/links"),
    ({"link_type": "static"}, "node call: /config"),
    ({"link_type": "any"}, "node call: /config/link_type"),
])
async def test_a_dynamic_call_names_no_link_in_and_a_static_one_does(
        config: dict[str, Any], error: str) -> None:
    with pytest.raises(FlowInvalid, match=error):
        async with FlowHarness({"version": 1, "nodes": [node("in", "link-in"),
                                                        node("call", "link-call", config)]}):
            pass
