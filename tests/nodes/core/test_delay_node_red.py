"""delay, differentially: what Node-RED 4's own delay node sends for flush, reset,
toFront, drop and the per-topic queues (order and what is dropped, not timing), and
what portless's sends for the same inputs (tests/node_red.py)."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.timing import play

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

HELD = 60  # seconds: longer than either run lasts, so a held message stays held


def node_red(pause: str, drop: bool | str = False) -> dict[str, Any]:
    return {"type": "delay", "pauseType": pause, "timeout": str(HELD),
            "timeoutUnits": "seconds", "rate": "1", "nbRateUnits": str(HELD),
            "rateUnits": "second", "randomFirst": "1", "randomLast": "5",
            "randomUnits": "seconds", "drop": drop, "allowrate": False,
            "outputs": 2 if drop == "emit" else 1}


def m(payload: Any, topic: str = "t", **more: Any) -> dict[str, Any]:
    return {"payload": payload, "topic": topic, **more}


QUEUE = {"mode": "rate", "interval": HELD}
TOPICS = [m(1, "X"), m(1, "A"), m(1, "B"), m(2, "A"), m(3, "A"), m(2, "X"), m(4, "A"),
          {"flush": True, "topic": "cmd"}]
CASES = [  # (Node-RED config, portless config, inputs)
    (node_red("delay"), {"delay": HELD}, [m(1, "foo"), m(1, "bar"), m(2, "bar"),
                                          {"flush": True}]),
    (node_red("delay"), {"delay": HELD}, [m(1), m(2), m(3), {"flush": 2}]),
    (node_red("delay"), {"delay": HELD}, [m(1), m(2), {"reset": True}, m(3), {"flush": True}]),
    (node_red("delay"), {"delay": HELD}, [m(1), m(2, flush=True)]),
    (node_red("rate"), QUEUE, [m(1), m(2), m(3), {"flush": True}]),
    (node_red("rate"), QUEUE, [m(1), m(2), m(3), {"flush": 1}]),
    (node_red("rate"), QUEUE, [m(1), m(2), m(3, toFront=True), {"flush": True}]),
    (node_red("rate"), QUEUE, [m(1), m(2), {"reset": True}, m(3)]),
    (node_red("rate", True), {**QUEUE, "limited": "drop"}, [m(1), m(2), m(3)]),
    (node_red("rate", "emit"), {**QUEUE, "limited": "second-output"}, [m(1), m(2), m(3)]),
    (node_red("queue"), {**QUEUE, "mode": "per-topic"}, TOPICS),
    (node_red("timed"), {**QUEUE, "mode": "latest-per-topic"}, TOPICS),
    (node_red("queue", "emit"), {**QUEUE, "mode": "per-topic", "limited": "second-output"},
     [m(1, "A"), m(2, "A"), m(3, "A"), m(1, "B"), {"flush": True, "topic": "cmd"}]),
]


def shown(msgs: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(msg.get("topic"), msg.get("payload")) for msg in msgs]


async def ours(config: dict[str, Any], inputs: list[dict[str, Any]]) -> list[list[Any]]:
    document = {"version": 1, "nodes": [{"id": "d", "type": "delay", "config": config}]}
    async with FlowHarness(document) as h:
        await play(h, "d", [dict(msg) for msg in inputs], settle=False)
        return [shown(h.received("d", port)) for port in range(h.engine.nodes["d"].outputs)]


async def test_flush_reset_and_dropping_agree_with_node_red() -> None:
    theirs = run_in_node_red([NodeRedCase(nr, inputs, outputs=nr["outputs"])
                              for nr, _, inputs in CASES])
    for (_, config, inputs), ports in zip(CASES, theirs, strict=True):
        assert await ours(config, inputs) == [shown(port) for port in ports], config
