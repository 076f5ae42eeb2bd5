"""complete: a copy of each message a watched node is done with."""

from __future__ import annotations

from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES


async def test_complete_sends_on_what_the_listed_nodes_are_done_with() -> None:
    document = {"version": 1, "nodes": [
        {"id": "d", "type": "test-double", "wires": [["p"]]}, {"id": "p", "type": "test-pair"},
        {"id": "c", "type": "complete", "config": {"scope": "nodes", "nodes": ["d", "p"]}}]}
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        h.inject("d", {"payload": 1})
        h.inject("d", {"payload": 2})
        got = await h.wait_for("c", 4)
    assert [(m["complete"]["source"]["id"], m["payload"]) for m in got] == [
        ("d", 2), ("d", 4), ("p", 2), ("p", 4)]
