"""inject, differentially: test_inject.py's table of properties through Node-RED 4's
own inject node too (tests/node_red.py), triggered as its button does."""

from __future__ import annotations

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.test_change_node_red import typed
from tests.nodes.core.test_inject import VALUES, pressed, shown

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [row for row in VALUES if row[3] is not None]  # not the time, which moves on


async def test_the_properties_agree_with_node_red(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTLESS_NR_TEST", "foo")  # Node-RED's process inherits it
    cases = []
    for _, properties, context, _ in ROWS:
        props = [dict(zip(("v", "vt"), typed(item["value"]), strict=True),
                      p=item["property"]) for item in properties]
        cases.append(NodeRedCase({"type": "inject", "props": props, "repeat": "",
                                  "crontab": "", "once": False}, [{}],
                                 flow_context=context.get("flow", {}),
                                 global_context=context.get("global", {})))
    theirs = run_in_node_red(cases)
    for (name, properties, context, _), [port] in zip(ROWS, theirs, strict=True):
        ours = shown(await pressed(properties, context))
        # portless's messages always have a topic (empty unless a property sets it)
        assert [{"topic": "", **msg} for msg in port] == [ours], name
