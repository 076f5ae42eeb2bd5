"""template, differentially: test_template.py's table through Node-RED 4's own template
node too (tests/node_red.py), one run for the whole table; rows where portless differs
on purpose (bounds, strict JSON, escaping inside sections) are portless's alone. What a
case leaves in context is checked by portless's run only."""

from __future__ import annotations

import random

import pytest

from portless.nodes.core.mustache import TemplateError, parse
from portless.testing import run_node
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


NAMES = ["payload", "list", "obj", "obj.a", "obj.b.c", "n", "f", "t", "s", "e", "nul",
         "missing", ".", "list.length", "s.length", "obj.b", "items"]
# No null item in a list a section walks: mustache.js fails on it (a listed difference).
VIEW = {"payload": "pay", "list": [1, "two", "", 3.5], "obj": {"a": "<a>", "b": {"c": 0}},
        "n": 0, "f": 1.5e-7, "t": True, "s": "x&'y\"", "e": "", "nul": None,
        "items": [{"a": 1, "s": "in"}, {"obj": {"a": "inner"}}, {}]}
PIECES = ["word", " ", "\n", "  ", "\r\n", "=", "/", "{", "}"]


def random_template(rng: random.Random, depth: int = 0) -> str:
    """A template of texts, tags and sections (no partials: Node-RED fails on them)."""
    out = []
    for _ in range(rng.randint(1, 6)):
        pick = rng.random()
        name = rng.choice(NAMES)
        if pick < 0.3:
            out.append(rng.choice(PIECES))
        elif pick < 0.5:
            out.append("{{" + rng.choice(["", " "]) + name + "}}")
        elif pick < 0.6:
            out.append(rng.choice(["{{{" + name + "}}}", "{{& " + name + "}}"]))
        elif pick < 0.7:
            out.append(rng.choice(["{{! note }}", "\n{{! note }}\n",
                                   "{{=<% %>=}}<% s %><%={{ }}=%>"]))
        elif depth < 3:
            kind = rng.choice("#^")
            section = name if name != "." else "list"
            inside = random_template(rng, depth + 1)
            newline = rng.choice(["", "\n"])
            out.append(f"{{{{{kind}{section}}}}}{newline}{inside}{newline}{{{{/{section}}}}}")
    return "".join(out)


def test_random_templates_render_as_in_node_red() -> None:
    """300 templates drawn at random (a fixed seed) over one message, each rendered by
    Node-RED's template node and by portless's: the texts are the same, and a template
    one refuses the other refuses too."""
    rng = random.Random(20261201)
    templates = [random_template(rng) for _ in range(300)]
    theirs = run_in_node_red([NodeRedCase({"type": "template", "field": "payload",
                                           "fieldType": "msg", "template": template,
                                           "syntax": "mustache", "output": "str"}, [VIEW])
                              for template in templates])
    differ, rendered = [], 0
    for template, [port] in zip(templates, theirs, strict=True):
        try:
            parse(template)
        except TemplateError:  # the node does not start; Node-RED fails the message
            mine = []
        else:
            run = run_node("template", {"template": template}, [dict(VIEW)])
            mine = [msg["payload"] for msg in run.outputs[0]]
            rendered += 1
        if mine != [msg["payload"] for msg in port]:
            differ.append((template, mine, port))
    assert differ == []
    assert rendered >= 200  # most parse: the bodies, not only the refusals, are compared
