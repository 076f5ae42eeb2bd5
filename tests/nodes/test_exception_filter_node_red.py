"""exception-filter, differentially: test_exception_filter.py's Node-RED cases, its
numeric topics and its table of differences, through Node-RED 4's own rbe node too
(tests/node_red.py), in one run. The cases and topics must agree; each difference must
show Node-RED's behaviour as the table states it, beside portless's."""

from __future__ import annotations

from typing import Any

import pytest

from portless.nodes.js_values import js_string
from portless.runtime import Message
from portless.testing import run_node
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.test_exception_filter import (
    DIFFERENCES,
    NODE_RED_CASES,
    NUMERIC_TOPICS,
    TYPE,
    shared,
)

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

FUNCS = {"changed": "rbe", "changed-ignore-initial": "rbei", "deadband": "deadband",
         "deadband-or-equal": "deadbandEq", "narrowband": "narrowband",
         "narrowband-or-equal": "narrowbandEq"}


def rbe(config: dict[str, Any]) -> dict[str, Any]:
    """The Node-RED rbe node with the options of this exception-filter config."""
    start = config.get("start")
    return {"type": "rbe", "func": FUNCS[config.get("mode", "changed")],
            "gap": str(config.get("band", 0)), "start": "" if start is None else str(start),
            "inout": "in" if config.get("compare") == "last-input" else "out",
            "septopics": config.get("separate_topics", True),
            "property": config.get("property", "payload"),
            "topi": config.get("topic_property", "topic")}


def shown(msg: Message) -> tuple[str, Any]:
    """(topic as its state key's text, payload): what both sides can be compared by
    (JSON between them turns 2.0 into 2 and a missing topic into none)."""
    topic = msg.get("topic")
    payload = msg.get("payload")
    whole = isinstance(payload, float) and payload.is_integer() and abs(payload) < 2 ** 53
    return ("" if topic in (None, "") else js_string(topic), int(payload) if whole else payload)


def test_cases_topics_and_differences_in_node_red() -> None:
    cases = [(str(row.id), row.values[0], row.values[1],  # type: ignore[union-attr]
              [shown({"topic": t, "payload": p}) for t, p in row.values[2]])
             for row in NODE_RED_CASES]
    cases += [(f"topic {text}", {}, shared(topic, text), [shown(m) for m in shared(
        topic, text)[::2]]) for topic, text in NUMERIC_TOPICS]
    theirs = run_in_node_red([NodeRedCase(rbe(config), inputs)
                              for _, config, inputs, _ in cases]
                             + [NodeRedCase(rbe(config), inputs)
                                for _, config, inputs, _, _ in DIFFERENCES])
    for (name, config, inputs, expected), [port] in zip(cases, theirs, strict=False):
        ours = run_node(TYPE, config, inputs).outputs[0]
        assert [shown(msg) for msg in port] == expected, f"Node-RED: {name}"
        assert [shown(msg) for msg in ours] == expected, f"portless: {name}"
    for (name, config, inputs, ours, node_red), [port] in zip(
            DIFFERENCES, theirs[len(cases):], strict=True):
        assert [msg.get("payload") for msg in port] == node_red, f"Node-RED: {name}"
        assert [msg.get("payload") for msg in run_node(TYPE, config, inputs).outputs[0]] \
            == ours, f"portless: {name}"
