"""Watchers: catch, status and complete as ordinary node types, with Node-RED's
semantics (its Flow handleError/handleStatus/handleComplete cases, re-expressed)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import Flow, Watch, check_flow
from portless.runtime.events import LogSubscriber
from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES

SOURCE = {"type": "test-reporter", "name": ""}


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


def reporter(node_id: str, wires: list[list[str]] | None = None,
             name: str = "") -> dict[str, Any]:
    return {"id": node_id, "type": "test-reporter", "name": name, "wires": wires or []}


def watcher(node_id: str, wires: list[list[str]] | None = None, **config: Any
            ) -> dict[str, Any]:
    return {"id": node_id, "type": "test-watcher", "config": config, "wires": wires or []}


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def settle(h: FlowHarness) -> None:
    """Until nothing is queued and no timer is pending."""
    await h.engine.wait_idle(5)
    while any(node.pending for node in h.engine.nodes.values()):
        await h.changed()
    await h.engine.wait_idle(5)


def caught(h: FlowHarness, watcher_id: str) -> list[tuple[str, str, int]]:
    """(message, source id, count) of each error a catch sent on."""
    return [(m["error"]["message"], m["error"]["source"]["id"], m["error"]["source"]["count"])
            for m in h.received(watcher_id)]


# --- errors ----------------------------------------------------------------------
THREE = [reporter("1", name="a"), reporter("2"), reporter("3")]

ERROR_CASES = [
    pytest.param([watcher("c1"), watcher("c2"), watcher("c3", uncaught=True)],
                 [("1", {"error": "my-error"})],
                 {"c1": [("my-error", "1", 1)], "c2": [("my-error", "1", 1)], "c3": []},
                 id="every catch of the tab gets it, an uncaught-only one does not"),
    pytest.param([watcher("c1", scope="nodes", nodes=["2"]),
                  watcher("c2", scope="nodes", nodes=["1"]),
                  watcher("c3", uncaught=True), watcher("c4", uncaught=True)],
                 [("1", {"error": "my-error"}), ("3", {"error": "my-error-2"})],
                 {"c1": [], "c2": [("my-error", "1", 1)],
                  "c3": [("my-error-2", "3", 1)], "c4": [("my-error-2", "3", 1)]},
                 id="a catch of named nodes sees only those; uncaught-only ones get the rest"),
    pytest.param([watcher("c1"), watcher("c2", scope="nodes", nodes=["3"])],
                 [("3", {"raise": "boom"})],
                 {"c1": [("RuntimeError: boom", "3", 1)],
                  "c2": [("RuntimeError: boom", "3", 1)]},
                 id="an exception in on_input is caught like error(text, msg)"),
    pytest.param([watcher("c1")], [("1", {"error_alone": "no message"})], {"c1": []},
                 id="error(text) without a message is logged, not caught (as in Node-RED)"),
    pytest.param([watcher("c1", uncaught=True)], [("2", {"error": "e"})],
                 {"c1": [("e", "2", 1)]},
                 id="an uncaught-only catch alone takes every error"),
]


@pytest.mark.parametrize(("catches", "orders", "expected"), ERROR_CASES)
async def test_errors_reach_the_catch_nodes_in_scope(
        catches: list[dict[str, Any]], orders: list[tuple[str, dict[str, Any]]],
        expected: dict[str, list[tuple[str, str, int]]]) -> None:
    async with FlowHarness(flow(*THREE, *catches), node_types=TEST_TYPES) as h:
        for node_id, order in orders:
            h.inject(node_id, {"payload": order})
            await settle(h)
        assert {catch_id: caught(h, catch_id) for catch_id in expected} == expected


async def test_a_caught_message_is_a_copy_with_the_error_and_its_source() -> None:
    async with FlowHarness(flow(reporter("1", [["next"]], name="a"), reporter("next"),
                                watcher("c1")), node_types=TEST_TYPES) as h:
        h.inject("1", {"payload": {"error": "my-error"}, "topic": "t", "error": "existing"})
        [got] = await h.wait_for("c1")
        [passed_on] = await h.wait_for("1")
    assert got["error"] == {"message": "my-error",
                            "source": {"id": "1", "type": "test-reporter", "name": "a",
                                       "count": 1}}
    assert got["_error"] == "existing"  # moved sideways, as Node-RED does
    assert (got["topic"], got["_msgid"]) == ("t", passed_on["_msgid"])
    assert passed_on["error"] == "existing"  # the node's own message is untouched


async def test_an_error_in_a_timer_reaches_catch_nodes_as_a_new_message() -> None:
    async with FlowHarness(flow(reporter("1"), watcher("c1")), node_types=TEST_TYPES) as h:
        h.inject("1", {"payload": {"raise_later": "late"}})
        [got] = await h.wait_for("c1")
    assert got["error"]["message"] == "RuntimeError: late"
    assert "payload" not in got
    assert got["_msgid"]


async def test_a_caught_error_is_not_logged_an_uncaught_one_is(
        caplog: pytest.LogCaptureFixture) -> None:
    document = flow(reporter("1"), reporter("2"), watcher("c1", scope="nodes", nodes=["1"]))
    with caplog.at_level(logging.ERROR):
        async with FlowHarness(document, node_types=TEST_TYPES) as h:
            for node_id in ("1", "2"):
                h.inject(node_id, {"payload": {"raise": f"from {node_id}"}})
                h.inject(node_id, {"payload": {"error": f"said by {node_id}"}})
            await settle(h)
        log = LogSubscriber()
        for event in h.events:
            log(event)
    assert "from 1" not in caplog.text
    assert "said by 1" not in caplog.text
    assert "RuntimeError: from 2" in caplog.text
    assert "node 2: said by 2" in caplog.text
    assert [e.data["text"] for e in h.events if e.kind == "error" and e.data.get("caught")
            ] == ["RuntimeError: from 1", "said by 1"]  # still counted and streamed


async def test_a_catch_wired_back_into_the_failing_node_stops_after_ten_catches(
        caplog: pytest.LogCaptureFixture) -> None:
    document = flow(reporter("1"), watcher("c1", [["1"]]))
    with caplog.at_level(logging.ERROR):
        async with FlowHarness(document, node_types=TEST_TYPES) as h:
            h.inject("1", {"payload": {"raise": "boom"}})
            await settle(h)
            assert [count for _, _, count in caught(h, "c1")] == list(range(1, 10))
            msgid = h.received("c1")[0]["_msgid"]
    assert [e.data["text"] for e in h.events if e.kind == "warning"] == [
        f"message {msgid} failed here 10 times after being caught: no longer caught "
        "(a catch wired back into the node it catches?)"]
    assert "RuntimeError: boom" in caplog.text  # the last one, not caught, is logged


async def test_the_nearest_catch_takes_an_error_first() -> None:
    """A catch in the node's own tab takes precedence over one watching all tabs, as a
    catch inside a Node-RED subflow does over one outside it."""
    document = flow(reporter("a1"), watcher("tab-a"), reporter("b1"),
                    watcher("all", scope="all"), watcher("all-uncaught", scope="all",
                                                         uncaught=True))
    tabs = {"a1": "a.json", "tab-a": "a.json"}
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        flow_ = check_flow(h.document, h.registry, "b.json")
        await h.engine.deploy(Flow(flow_.file, flow_.document, tuple(
            dataclasses.replace(spec, tab=tabs.get(spec.id, "b.json"))
            for spec in flow_.nodes)))
        h.inject("a1", {"payload": {"error": "in a"}})
        h.inject("b1", {"payload": {"error": "in b"}})
        await settle(h)
        assert caught(h, "tab-a") == [("in a", "a1", 1)]
        assert caught(h, "all") == [("in b", "b1", 1)]
        assert caught(h, "all-uncaught") == []


async def test_a_catch_inside_a_subflow_takes_its_errors_first(tmp_path: Path) -> None:
    """As in Node-RED: a catch in the subflow takes an error of its nodes (one naming
    nodes names the subflow's own); one the subflow does not catch goes on out, where
    the instance stands for the node."""
    write(tmp_path / "subflows" / "guarded.json", {"version": 1, "subflow": {
        "input": ["r"], "outputs": [[{"node": "inner"}], [{"node": "inner-named"}]]},
        "nodes": [reporter("r"), watcher("inner"),
                  watcher("inner-named", scope="nodes", nodes=["r"])]})
    write(tmp_path / "subflows" / "bare.json", {"version": 1, "subflow": {
        "input": ["r"], "outputs": []}, "nodes": [reporter("r")]})
    path = write(tmp_path / "a.json", flow(
        {"id": "g", "type": "subflow:guarded"}, {"id": "b", "type": "subflow:bare"},
        {"id": "b2", "type": "subflow:bare"}, watcher("outer"),
        watcher("named", scope="nodes", nodes=["b2"])))
    async with FlowHarness(path, node_types=TEST_TYPES) as h:
        for instance in ("g", "b", "b2"):
            h.inject(f"{instance}/r", {"payload": {"error": f"in {instance}"}})
        await settle(h)
        assert caught(h, "g") == [("in g", "g/r", 1)]
        inner_named = h.received("g", port=1)  # "r" inside the subflow is g/r
        assert [m["error"]["source"]["id"] for m in inner_named] == ["g/r"]
        assert caught(h, "outer") == [("in b", "b/r", 1), ("in b2", "b2/r", 1)]
        assert caught(h, "named") == [("in b2", "b2/r", 1)]


# --- status ------------------------------------------------------------------------
STATUS_CASES = [
    pytest.param([watcher("s1", kind="status"), watcher("s2", kind="status")],
                 {"status": "my-status"},
                 {"s1": [{"fill": "green", "shape": "dot", "text": "my-status"}],
                  "s2": [{"fill": "green", "shape": "dot", "text": "my-status"}]},
                 id="every status watcher of the tab gets it"),
    pytest.param([watcher("s1", kind="status", scope="nodes", nodes=["2"]),
                  watcher("s2", kind="status", scope="nodes", nodes=["1"])],
                 {"status": "my-status"},
                 {"s1": [], "s2": [{"fill": "green", "shape": "dot", "text": "my-status"}]},
                 id="one watching named nodes sees only those"),
    pytest.param([watcher("s1", [["1"]], kind="status", scope="all")],
                 {"status": "my-status"}, {"s1": []},
                 id="one never sees what its messages reach (no loop)"),
    pytest.param([watcher("s1", kind="status")], {"status": ""}, {"s1": [{}]},
                 id="a cleared status is one with only its source"),
    pytest.param([watcher("s1", kind="status")], {"raise": "boom"},
                 {"s1": [{"fill": "red", "shape": "ring", "text": "RuntimeError: boom"}]},
                 id="the red status of an exception is seen too"),
]


@pytest.mark.parametrize(("watchers", "order", "expected"), STATUS_CASES)
async def test_status_changes_reach_the_status_watchers_in_scope(
        watchers: list[dict[str, Any]], order: dict[str, Any],
        expected: dict[str, list[dict[str, Any]]]) -> None:
    async with FlowHarness(flow(*THREE, *watchers), node_types=TEST_TYPES) as h:
        h.inject("1", {"payload": order})
        await settle(h)
        source = {"id": "1", "type": "test-reporter", "name": "a"}
        assert {watcher_id: [m["status"] for m in h.received(watcher_id)]
                for watcher_id in expected} == {
            watcher_id: [{**status, "source": source} for status in statuses]
            for watcher_id, statuses in expected.items()}


# --- completion -------------------------------------------------------------------------
def completions(h: FlowHarness, watcher_id: str) -> list[tuple[str, Any]]:
    return [(m["complete"]["source"]["id"], m["payload"]) for m in h.received(watcher_id)]


COMPLETE_CASES = [
    pytest.param([reporter("1", [["2"]]), reporter("2", [["3"]]), reporter("3"),
                  watcher("done", kind="complete", scope="nodes", nodes=["1", "3"])],
                 [1], [("1", 1), ("3", 1)],
                 id="on_input returning is done with the message"),
    pytest.param([{"id": "p", "type": "test-pair"},
                  watcher("done", kind="complete", scope="tab")],
                 [1, 2, 3], [("p", 1), ("p", 2)],
                 id="a node that calls done is done only when it says so"),
    pytest.param([reporter("1"), watcher("done", kind="complete", scope="all")],
                 [{"raise": "boom"}, 2], [("1", 2)],
                 id="a message whose on_input raised is not done (it is an error)"),
    pytest.param([reporter("1", [["2"]]), reporter("2"),
                  watcher("done", [["1"]], kind="complete", scope="tab")],
                 [1], [], id="one never sees what its messages reach (no loop)"),
]


@pytest.mark.parametrize(("nodes", "payloads", "expected"), COMPLETE_CASES)
async def test_completions_reach_the_complete_watchers_in_scope(
        nodes: list[dict[str, Any]], payloads: list[Any],
        expected: list[tuple[str, Any]]) -> None:
    async with FlowHarness(flow(*nodes), node_types=TEST_TYPES) as h:
        for payload in payloads:
            h.inject(nodes[0]["id"], {"payload": payload})
        await settle(h)
        assert completions(h, "done") == expected


async def test_a_complete_watcher_gets_a_copy_of_the_message_as_the_node_left_it() -> None:
    document = flow({"id": "x2", "type": "test-double", "wires": [["1"]]}, reporter("1"),
                    watcher("done", kind="complete", scope="nodes", nodes=["x2"]))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        h.inject("x2", {"payload": 5})
        [got] = await h.wait_for("done")
        [sent] = await h.wait_for("x2")
    assert (got["payload"], got["_msgid"]) == (10, sent["_msgid"])
    assert "complete" not in sent


async def test_only_watched_nodes_wear_a_completion_wrapper() -> None:
    """Nobody watching costs nothing: the wrapper is on the watched instances only, and
    comes off when the watcher goes."""
    watching = flow(reporter("1"), reporter("2"),
                    watcher("done", kind="complete", scope="nodes", nodes=["1"]))
    async with FlowHarness(watching, node_types=TEST_TYPES) as h:
        nodes = h.engine.nodes
        assert "on_input" in vars(nodes["1"])
        assert "on_input" not in vars(nodes["2"])
        not_watching = dict(h.document, nodes=[
            n for n in h.document["nodes"] if n["id"] != "done"
            and not n["id"].startswith("done.")])
        await h.engine.deploy(check_flow(not_watching, h.registry, h.file))
        assert "1" in nodes
        assert "on_input" not in vars(nodes["1"])
        h.inject("1", {"payload": 1})
        assert [m["payload"] for m in await h.wait_for("1")] == [1]


async def test_a_watcher_naming_no_node_of_the_flow_says_so() -> None:
    document = flow(reporter("1"), watcher("c", scope="nodes", nodes=["1", "typo"]))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        pass
    assert [e.data["text"] for e in h.events if e.kind == "warning"] == [
        "watches 'typo', but no node of the flow has that id: it is never heard from"]


def test_a_watch_says_what_is_wrong_with_it() -> None:
    with pytest.raises(ValueError, match="only an error watcher"):
        Watch("status", "all", uncaught=True)
    with pytest.raises(ValueError, match="say 'all', 'tab' or 'nodes'"):
        Watch("error", "flow")  # type: ignore[arg-type]

