"""status: another node's status change arrives as msg.status."""

from __future__ import annotations

from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES


async def test_status_sends_on_each_change_with_its_source() -> None:
    document = {"version": 1, "nodes": [
        {"id": "r", "type": "test-reporter"}, {"id": "s", "type": "status"}]}
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        h.inject("r", {"payload": {"status": "running"}})
        h.inject("r", {"payload": {"status": ""}})
        got = await h.wait_for("s", 2)
    source = {"id": "r", "type": "test-reporter", "name": ""}
    assert [m["status"] for m in got] == [
        {"fill": "green", "shape": "dot", "text": "running", "source": source},
        {"source": source}]
