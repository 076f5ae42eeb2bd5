"""trigger, differentially: what Node-RED 4's own trigger node sends for resets (by
message and by payload), per topic, the kinds of first and second value, extend
(a watchdog) and a second output, and what portless's sends for the same inputs
(tests/node_red.py); waits are ten times the gaps between inputs."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.timing import play

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess


def node_red(**fields: Any) -> dict[str, Any]:
    return {"type": "trigger", "op1": "1", "op1type": "str", "op2": "0", "op2type": "str",
            "duration": "0", "units": "ms", "extend": "false", "bytopic": "all",
            "topic": "topic", "reset": "", "outputs": 1, **fields}


def m(payload: Any, topic: str = "t", **more: Any) -> dict[str, Any]:
    return {"payload": payload, "topic": topic, **more}


UNTIL_RESET = {"then": "reset"}
ORIGINAL = {"kind": "msg", "value": "payload"}
CASES = [  # (Node-RED config, portless config, inputs, ms before each input)
    (node_red(), UNTIL_RESET, [m("a"), m("b"), {"reset": True}, m("c")], []),
    (node_red(bytopic="topic"), {**UNTIL_RESET, "per_topic": True},
     [m("a", "A"), m("b", "B"), m("c", "A"), {"reset": True, "topic": "A"}, m("d", "A")], []),
    (node_red(reset="boo"), {**UNTIL_RESET, "reset_payload": "boo"},
     [m("a"), m("boo"), m("c")], []),
    (node_red(reset="5"), {**UNTIL_RESET, "reset_payload": "5"}, [m("a"), m(5), m("c")], []),
    (node_red(op1type="pay"), {**UNTIL_RESET, "first": ORIGINAL}, [m("hello"), m("x")], []),
    (node_red(op1='{"x": [1, 2]}', op1type="json"),
     {**UNTIL_RESET, "first": {"kind": "json", "value": {"x": [1, 2]}}}, [m("a")], []),
    (node_red(op1="7", op1type="num", op2type="pay", duration="40"),
     {"duration": 0.04, "first": {"kind": "number", "value": 7}, "second": ORIGINAL},
     [m("orig")], []),
    (node_red(op1type="nul", op2="alarm", extend="true", duration="200"),
     {"send_first": False, "extend": True, "duration": 0.2,
      "second": {"kind": "string", "value": "alarm"}}, [m(1), m(2), m(3)], [0, 20, 20]),
    (node_red(duration="40", outputs=2), {"duration": 0.04, "second_output": True},
     [m("a")], []),
    (node_red(op1type="nul", op2type="payl", duration="100"),
     {"send_first": False, "send_second": "latest", "duration": 0.1},
     [m("Hello", "t1"), m("Goodbye", "t2")], []),
]


def shown(msgs: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(msg.get("topic"), msg.get("payload")) for msg in msgs]


async def ours(config: dict[str, Any], inputs: list[dict[str, Any]],
               gaps: list[int]) -> list[list[Any]]:
    document = {"version": 1, "nodes": [{"id": "t", "type": "trigger", "config": config}]}
    steps: list[Any] = []
    for number, msg in enumerate(inputs):
        if number < len(gaps) and gaps[number]:
            steps.append(gaps[number] / 1000)
        steps.append(dict(msg))
    async with FlowHarness(document) as h:
        await play(h, "t", steps, settle=config.get("then") != "reset")
        return [shown(h.received("t", port)) for port in range(h.engine.nodes["t"].outputs)]


async def test_resets_topics_values_and_extend_agree_with_node_red() -> None:
    theirs = run_in_node_red([NodeRedCase(nr, inputs, outputs=nr["outputs"], after_ms=gaps)
                              for nr, _, inputs, gaps in CASES], quiet_ms=500)
    for (_, config, inputs, gaps), ports in zip(CASES, theirs, strict=True):
        assert await ours(config, inputs, gaps) == [shown(port) for port in ports], config
