"""Table rows for the parser nodes' tests (json, yaml, csv): each row a config, input
messages, the messages sent and the start of the problem reported, run by portless and,
unless marked, by Node-RED 4 too (the test_*_node_red.py files)."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import NodeRun


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
