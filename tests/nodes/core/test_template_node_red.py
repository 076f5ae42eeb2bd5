"""template, differentially: test_template.py's table through Node-RED 4's own template
node too (tests/node_red.py), one run for the whole table; rows where portless differs
on purpose (bounds, strict JSON, escaping inside sections) are portless's alone. What a
case leaves in context is checked by portless's run only."""

from __future__ import annotations

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.parser_table import shown
from tests.nodes.core.test_template import CASES

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [case for case in CASES if case.node_red]
OUTPUTS = {"text": "str", "json": "json", "yaml": "yaml"}


def test_the_table_agrees_with_node_red(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTLESS_TEST_TEMPLATE", "xyzzy")  # Node-RED inherits it
    monkeypatch.delenv("PORTLESS_TEST_UNSET_VARIABLE", raising=False)
    cases = []
    for case in ROWS:
        config = case.config
        target = config.get("property", {"kind": "msg", "value": "payload"})
        node = {"type": "template", "field": target["value"], "fieldType": target["kind"],
                "template": config.get("template", ""),
                "syntax": config.get("syntax", "mustache"),
                "output": OUTPUTS[config.get("output", "text")]}
        cases.append(NodeRedCase(node, case.msgs, flow_context=case.context.get("flow", {}),
                                 global_context=case.context.get("global", {})))
    theirs = run_in_node_red(cases)
    differ = [case.name for case, [port] in zip(ROWS, theirs, strict=True)
              if [shown(msg) for msg in port] != case.sent]
    assert differ == []
    assert len(ROWS) == 44
