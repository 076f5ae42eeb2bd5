"""json, differentially: test_json.py's table through Node-RED 4's own json node too
(tests/node_red.py), one run for the whole table; rows with bytes, or that portless
refuses on purpose, are portless's alone."""

from __future__ import annotations

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.parser_table import shown
from tests.nodes.core.test_json import CASES, PORTLESS_ONLY

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [case for case in CASES if case.id not in PORTLESS_ONLY]
NODE_RED_ACTIONS = {"both": "", "string": "str", "object": "obj"}


def test_the_table_agrees_with_node_red() -> None:
    cases = []
    for case in ROWS:
        config, msg, _, _ = case.values
        node = {"type": "json", "property": config.get("property", "payload"),
                "action": NODE_RED_ACTIONS[config.get("action", "both")],
                "pretty": config.get("pretty", False)}
        cases.append(NodeRedCase(node, [msg]))
    theirs = run_in_node_red(cases)
    for case, [port] in zip(ROWS, theirs, strict=True):
        _, _, sent, _ = case.values
        assert [shown(msg) for msg in port] == sent, case.id
