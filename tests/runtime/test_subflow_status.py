"""A subflow instance shows one status: its declared status node's, or the worst of its
nodes' (runtime/subflow_status.py), published under the instance's id as a node's is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portless.runtime import Event
from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES


def subflow(tmp_path: Path, name: str, nodes: list[dict[str, Any]], **declared: Any) -> None:
    path = tmp_path / "subflows" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"version": 1, "subflow": {"input": [nodes[0]["id"]],
                                                         **declared}, "nodes": nodes}))


def using(tmp_path: Path, *nodes: dict[str, Any]) -> Path:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"version": 1, "nodes": list(nodes)}))
    return path


def of(node_id: str) -> Any:
    return lambda event: event.kind == "status" and event.node_id == node_id


REPORTERS = [{"id": "first", "type": "test-reporter"}, {"id": "second", "type": "test-reporter"}]


async def test_a_declared_status_node_is_the_instances_status(tmp_path: Path) -> None:
    subflow(tmp_path, "lamps", REPORTERS, status="second")
    async with FlowHarness(using(tmp_path, {"id": "lamp", "type": "subflow:lamps"}),
                           node_types=TEST_TYPES) as h:
        h.inject("lamp/first", {"payload": {"status": "ignored"}})
        since = len(h.events)
        h.inject("lamp/second", {"payload": {"status": "on"}})
        event = await h.wait_event(of("lamp"), since=since)
        assert event.data == {"fill": "green", "shape": "dot", "text": "on"}
        assert not [e for e in h.events if of("lamp")(e) and e.data.get("text") == "ignored"]
        assert h.engine.statuses()["lamp"]["text"] == "on"  # for a page that joins later


async def test_without_one_the_worst_of_its_nodes_shows(tmp_path: Path) -> None:
    subflow(tmp_path, "lamps", REPORTERS)
    async with FlowHarness(using(tmp_path, {"id": "lamp", "type": "subflow:lamps"}),
                           node_types=TEST_TYPES) as h:
        h.inject("lamp/second", {"payload": {"status": "fine"}})
        assert (await h.wait_event(of("lamp"))).data["text"] == "fine"
        since = len(h.events)
        h.inject("lamp/first", {"payload": {"raise": "broken"}})  # red beats green
        event = await h.wait_event(of("lamp"), since=since)
        assert (event.data["fill"], event.data["text"]) == ("red", "RuntimeError: broken")
        since = len(h.events)
        h.inject("lamp/first", {"payload": {"status": ""}})  # cleared: the other shows
        assert (await h.wait_event(of("lamp"), since=since)).data["text"] == "fine"


async def test_a_nested_instance_is_one_node_of_the_one_around_it(tmp_path: Path) -> None:
    subflow(tmp_path, "lamps", REPORTERS, status="first")
    subflow(tmp_path, "panel", [{"id": "inner", "type": "subflow:lamps"}], status="inner")
    events: list[Event] = []
    async with FlowHarness(using(tmp_path, {"id": "p", "type": "subflow:panel"}),
                           node_types=TEST_TYPES) as h:
        h.inject("p", {"payload": {"status": "deep"}})  # reaches p/inner/first
        assert (await h.wait_event(of("p"))).data["text"] == "deep"
        assert h.engine.statuses()["p/inner"]["text"] == "deep"
        events = h.events
    # Stopped, the instance's status is cleared like a node's.
    assert [e.data for e in events if of("p")(e)][-1] == {}
