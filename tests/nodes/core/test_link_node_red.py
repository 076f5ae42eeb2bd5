"""link-call, link-in and link-out, differentially: the same linked flows through
Node-RED 4's own link nodes (tests/node_red.py) answer as portless's do, and a dynamic
call (test_link_call.DYNAMIC) finds the link-in Node-RED's finds, or fails where it
fails."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.test_link_call import DYNAMIC, dynamic_tabs, outcome, run_dynamic

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

PAYLOADS = [4, "hi", {"a": [1, 2]}]


def linked(case: int, depth: int) -> tuple[list[dict[str, Any]], str]:
    """Node-RED export nodes: a chain of ``depth`` link-calls, each calling a link-in
    whose flow is the next call, the last one answering at once. Returns the nodes and
    the link-in the call under test names."""
    nodes: list[dict[str, Any]] = []
    for level in range(depth):
        inner = f"c{case}-in{level}"
        back = f"c{case}-back{level}"
        follow = f"c{case}-call{level + 1}" if level + 1 < depth else back
        nodes.append({"id": inner, "type": "link in", "wires": [[follow]]})
        nodes.append({"id": back, "type": "link out", "mode": "return", "wires": []})
        if level + 1 < depth:
            nodes.append({"id": follow, "type": "link call", "links": [f"c{case}-in{level + 1}"],
                          "timeout": "5", "wires": [[back]]})
    return nodes, f"c{case}-in0"


def portless_node(entry: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if entry["type"] == "link out":
        config = {"mode": entry["mode"]}
    elif entry["type"] == "link call":
        config = {"links": entry["links"], "timeout": float(entry["timeout"])}
    return {"id": entry["id"], "type": entry["type"].replace(" ", "-"), "config": config,
            "wires": entry["wires"]}


def test_calls_nested_to_any_depth_answer_as_in_node_red() -> None:
    depths = [1, 2, 3]
    cases = [linked(case, depth) for case, depth in enumerate(depths)]
    theirs = run_in_node_red([NodeRedCase(
        {"type": "link call", "links": [target], "timeout": "5"},
        [{"payload": payload, "topic": "t"} for payload in PAYLOADS], extra_nodes=nodes)
        for nodes, target in cases])
    for (nodes, target), [port] in zip(cases, theirs, strict=True):
        assert [plain(msg) for msg in port] == [plain(msg) for msg in ours(nodes, target)]


def plain(msg: dict[str, Any]) -> dict[str, Any]:
    """Without what only one side adds: Node-RED's internal ``_event`` (the link-out's
    event name), portless's ``ts`` and ``_msgid``."""
    return {key: value for key, value in msg.items() if key not in ("_event", "ts", "_msgid")}


def ours(nodes: list[dict[str, Any]], target: str) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        document = {"version": 1, "nodes": [*map(portless_node, nodes), {
            "id": "call", "type": "link-call", "config": {"links": [target]}}]}
        async with FlowHarness(document) as h:
            for payload in PAYLOADS:
                h.inject("call", {"payload": payload, "topic": "t"})
            got = await h.wait_for("call", len(PAYLOADS))
        return got

    return asyncio.run(run())


def node_red_dynamic(index: int, prefix: str, tabs: dict[str, list[tuple[str, str]]]
                     ) -> list[dict[str, Any]]:
    """A dynamic row's link-ins as Node-RED export nodes (each answering with msg.via
    set to its id) and a catch of the call's errors into its collector; tab t1 is the
    case's own tab, where the runner puts the call."""
    call = f"case-{index}"
    nodes: list[dict[str, Any]] = [{"id": f"{prefix}catch", "type": "catch",
                                    "scope": [call], "uncaught": False,
                                    "wires": [[f"{call}-port-0"]]}]
    for tab, link_ins in tabs.items():
        where = {} if tab == "t1" else {"z": prefix + tab}
        if tab != "t1":
            nodes.append({"id": prefix + tab, "type": "tab", "label": prefix + tab})
        for link_in, name in link_ins:
            ident = prefix + link_in
            nodes += [
                {"id": ident, "type": "link in", "name": prefix + name, **where,
                 "wires": [[f"{ident}-mark"]]},
                {"id": f"{ident}-mark", "type": "change", **where, "rules": [
                    {"t": "set", "p": "via", "pt": "msg", "to": ident, "tot": "str"}],
                 "wires": [[f"{ident}-back"]]},
                {"id": f"{ident}-back", "type": "link out", "mode": "return", **where,
                 "wires": []}]
    return nodes


def node_red_outcome(msg: dict[str, Any]) -> tuple[str, str]:
    """As test_link_call.outcome, from Node-RED's sentences."""
    if "error" not in msg:
        return "via", msg["via"]
    return "error", "several" if "Multiple link-in nodes" in msg["error"]["message"] \
        else "none"


def test_dynamic_calls_find_the_link_in_node_red_finds() -> None:
    """Each row in both, with ids and names of its own (Node-RED runs all in one)."""
    rows = [(f"r{index}-", row) for index, row in enumerate(DYNAMIC)]
    theirs = run_in_node_red([NodeRedCase(
        {"type": "link call", "linkType": "dynamic", "links": [], "timeout": "5"},
        [{"payload": 1, **({} if target is None else {"target": prefix + target})}],
        extra_nodes=node_red_dynamic(index, prefix, tabs))
        for index, (prefix, (_, tabs, target, _)) in enumerate(rows)])
    for (prefix, (name, tabs, target, (kind, what))), [port] in zip(rows, theirs,
                                                                   strict=True):
        want = [(kind, prefix + what if kind == "via" else what)]
        assert [node_red_outcome(msg) for msg in port] == want, f"Node-RED: {name}"
        ours = asyncio.run(run_dynamic(dynamic_tabs(prefix, tabs),
                                       None if target is None else prefix + target))
        assert [outcome(msg) for msg in ours] == want, f"portless: {name}"
