"""catch: another node's error arrives as a copy of its message with msg.error."""

from __future__ import annotations

import pytest

from portless.runtime import FlowInvalid
from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES


def document(**config: object) -> dict[str, object]:
    return {"version": 1, "nodes": [
        {"id": "r", "type": "test-reporter", "name": "pump"},
        {"id": "c", "type": "catch", "config": config}]}


@pytest.mark.parametrize("config", [{}, {"scope": "nodes", "nodes": ["r"]},
                                    {"scope": "all", "uncaught": True}])
async def test_catch_sends_on_the_error_with_its_message(config: dict[str, object]) -> None:
    async with FlowHarness(document(**config), node_types=TEST_TYPES) as h:
        h.inject("r", {"payload": {"raise": "pump stuck"}, "topic": "valve"})
        [got] = await h.wait_for("c")
    assert got["topic"] == "valve"
    stack = got["error"].pop("stack")
    assert got["error"] == {"message": "RuntimeError: pump stuck", "source": {
        "id": "r", "type": "test-reporter", "name": "pump", "count": 1}}
    assert stack.startswith("Traceback (most recent call last):")
    assert stack.endswith("RuntimeError: pump stuck")


async def test_catch_of_listed_nodes_needs_at_least_one() -> None:
    with pytest.raises(FlowInvalid, match="node c: /config/nodes"):
        async with FlowHarness(document(scope="nodes"), node_types=TEST_TYPES):
            pass
