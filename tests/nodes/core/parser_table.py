"""Table rows for the parser nodes' tests (json, yaml, csv): each row a config, input
messages, the messages sent and the start of the problem reported, run by portless and,
unless marked, by Node-RED 4 too (the test_*_node_red.py files)."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import Message
from portless.testing import FlowHarness, NodeRun


class Table:
    """Builds rows, keeping the names of those that are portless's alone."""

    def __init__(self) -> None:
        self.portless_only: set[str] = set()

    def row(self, name: str, config: dict[str, Any], msg: Any, sent: list[Any] | None,
            problem: str | None = None, *, node_red: bool = True) -> Any:
        """(config, input message or messages, messages sent, start of the problem or
        None); node_red=False for bytes, or what portless refuses on purpose."""
        if not node_red:
            self.portless_only.add(name)
        return pytest.param(config, msg, sent, problem, id=name)


def shown(msg: dict[str, Any]) -> dict[str, Any]:
    """The message without what every portless message carries (id, time, topic)."""
    return {key: value for key, value in msg.items()
            if key not in ("_msgid", "ts") and not (key == "topic" and value == "")}


def problems(run: NodeRun) -> list[str]:
    """The run's errors and warnings, each marked as which it is."""
    return [f"error: {text}" for text in run.errors] + [
        f"warning: {text}" for text in run.warnings]


def assert_problem(run: NodeRun, problem: str | None) -> None:
    """The run reported nothing (None), or one error or warning starting so."""
    if problem is None:
        assert problems(run) == []
    else:
        [text] = problems(run)
        assert text.startswith(problem), text


async def caught(node_type: str, config: dict[str, Any], msg: dict[str, Any]) -> Message:
    """What a catch node gets when a node of the type, alone with it in a flow, fails on
    the message; checks that the error names the node."""
    flow = {"version": 1, "nodes": [
        {"id": "failing", "type": node_type, "config": config},
        {"id": "catch", "type": "catch", "config": {"scope": "all"}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("failing", msg)
        [got] = await harness.wait_for("catch", 1)
    assert got["error"]["source"]["id"] == "failing"
    return got
