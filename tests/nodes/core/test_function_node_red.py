"""function, differentially: bodies that say the same in Python and JavaScript, run
through portless's function node and Node-RED 4's own; each port gets the same
messages in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import run_node
from tests.node_red import NodeRedCase, run_in_node_red

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

# (Python body, the same in JavaScript, outputs)
SAME_CODE = [
    ("return msg", "return msg;", 1),
    ("return None", "return null;", 1),
    ("node.send(msg)", "node.send(msg);", 1),
    ("return [msg, None]", "return [msg, null];", 2),
    ("return [None, msg]", "return [null, msg];", 2),
    ("return [[msg, None, msg], None]", "return [[msg, null, msg], null];", 2),
    ("return [{'payload': 1}, {'payload': 2}]", "return [{payload: 1}, {payload: 2}];", 2),
    ("return [[{'payload': 1}, {'payload': 2}]]", "return [[{payload: 1}, {payload: 2}]];", 1),
    ("msg['payload'] = msg['payload'] * 2\nreturn msg",
     "msg.payload = msg.payload * 2;\nreturn msg;", 1),
    ("return msg if msg['payload'] > 1 else None", "return msg.payload > 1 ? msg : null;", 1),
]
INPUTS = [{"payload": 1, "topic": "a"}, {"payload": 2, "topic": "b"}]


def shown(port: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(msg.get("payload"), msg.get("topic")) for msg in port]


def test_same_code_sends_the_same_as_node_red() -> None:
    theirs = run_in_node_red([
        NodeRedCase({"type": "function", "func": js, "outputs": outputs}, INPUTS,
                    outputs=outputs) for _, js, outputs in SAME_CODE])
    for (python, js, outputs), ports in zip(SAME_CODE, theirs, strict=True):
        ours = run_node("function", {"code": python, "outputs": outputs}, INPUTS)
        assert ours.errors == []
        assert [shown(port) for port in ours.outputs] == [shown(port) for port in ports], js
