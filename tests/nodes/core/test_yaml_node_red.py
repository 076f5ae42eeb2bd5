"""yaml, differentially: test_yaml.py's table through Node-RED 4's own yaml node too
(tests/node_red.py), one run for the whole table; rows with bytes, or that portless
refuses on purpose, are portless's alone."""

from __future__ import annotations

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.parser_table import shown
from tests.nodes.core.test_yaml import CASES, PORTLESS_ONLY

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [case for case in CASES if case.id not in PORTLESS_ONLY]


def test_the_table_agrees_with_node_red() -> None:
    cases = []
    for case in ROWS:
        config, msg, _, _ = case.values
        cases.append(NodeRedCase({"type": "yaml", "property": config.get("property",
                                                                          "payload")}, [msg]))
    theirs = run_in_node_red(cases)
    differ = [case.id for case, [port] in zip(ROWS, theirs, strict=True)
              if [shown(msg) for msg in port] != case.values[2]]
    assert differ == []
    assert len(ROWS) == 32
