"""switch with sequences (nodes/core/switch_sequences.py): Node-RED's head, tail, index,
$I/$N and "recreate message sequences" cases, and sequences apart and out of order."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import Message
from portless.testing import FlowHarness, run_node
from tests.nodes.core.test_switch import TYPE, routed, rule


# --- Node-RED's sequence cases: [0..4] as one sequence (parts id 222, count 5) ---------
def sequence(*payloads: Any) -> list[Message]:
    return [{"payload": p, "xindex": i, "parts": {"index": i, "count": len(payloads),
                                                   "id": 222}}
            for i, p in enumerate(payloads)]


NODE_RED_SEQUENCES = [  # (rule, recreate, payloads out)
    pytest.param(rule("head", 3), False, [0, 1, 2], id="head"),
    pytest.param(rule("head", 3), True, [0, 1, 2], id="head-recreated"),
    pytest.param(rule("head", {"kind": "global", "value": "count"}), True, [0, 1, 2],
                 id="head-from-global-context"),
    pytest.param(rule("head", {"kind": "jsonata", "value": "1+4/2"}), True, [0, 1, 2],
                 id="head-from-jsonata"),
    pytest.param(rule("tail", 3), False, [2, 3, 4], id="tail"),
    pytest.param(rule("tail", 3), True, [2, 3, 4], id="tail-recreated"),
    pytest.param(rule("index", 1, 3), False, [1, 2, 3], id="slice"),
    pytest.param(rule("index", 1, 3), True, [1, 2, 3], id="slice-recreated"),
    pytest.param(rule("jsonata", expression="$I % 2 = 1"), True, [1, 3], id="jsonata-$I"),
    pytest.param(rule("jsonata", expression="payload >= $N-2"), True, [3, 4],
                 id="jsonata-$N"),
]


@pytest.mark.parametrize(("one_rule", "recreate", "expected"), NODE_RED_SEQUENCES)
async def test_node_red_sequence_rules(one_rule: dict[str, Any], recreate: bool,
                                       expected: list[int]) -> None:
    flow = {"version": 1, "nodes": [{"id": "s", "type": TYPE, "config": {
        "rules": [one_rule], "check_all": one_rule["operator"] != "head",
        "recreate_sequences": recreate}}]}
    async with FlowHarness(flow) as harness:
        harness.engine.nodes["s"].global_context.set("count", 3)
        for msg in sequence(0, 1, 2, 3, 4):
            harness.inject("s", msg)
        got = await harness.wait_for("s", len(expected))
    assert [m["payload"] for m in got] == expected
    assert len({m["parts"]["id"] for m in got}) == 1
    if recreate:  # a sequence of its own: numbered 0.., counted
        assert [(m["parts"]["index"], m["parts"]["count"]) for m in got] == [
            (i, len(expected)) for i in range(len(expected))]
        assert got[0]["parts"]["id"] != 222
    else:  # the places they had
        assert [(m["parts"]["index"], m["parts"]["count"]) for m in got] == [
            (m["xindex"], 5) for m in got]


@pytest.mark.parametrize(("rules", "expected"), [
    pytest.param([rule(">", 0), rule("<", 0), rule("otherwise")], [[1, 2], [-2, -1], [0]],
                 id="per-port"),
    pytest.param([rule(">=", 0), rule("<=", 0), rule("otherwise")],
                 [[1, 2, 0], [-2, 0, -1], []], id="per-port-overlapping"),
])
def test_node_red_recreates_a_sequence_per_output(rules: list[dict[str, Any]],
                                                  expected: list[list[int]]) -> None:
    run = run_node(TYPE, {"rules": rules, "recreate_sequences": True},
                   sequence(1, -2, 2, 0, -1))
    assert [[m["payload"] for m in port] for port in run.outputs] == expected
    for port, payloads in zip(run.outputs, expected, strict=True):
        assert [(m["parts"]["index"], m["parts"]["count"]) for m in port] == [
            (i, len(payloads)) for i in range(len(payloads))]
        assert len({m["parts"]["id"] for m in port}) <= 1
    assert run.outputs[0][0]["parts"]["id"] != run.outputs[1][0]["parts"]["id"]


def test_node_red_too_many_held_messages_is_an_error_and_drops_them() -> None:
    # Node-RED: nodeMessageBufferMaxLength 2, a tail rule and four messages of four.
    msgs = [{"payload": p, "parts": {"index": p - 1, "count": 4, "id": 222}}
            for p in (3, 2, 4, 1)]
    run = run_node(TYPE, {"rules": [rule("tail", 2)], "max_held": 2}, msgs)
    assert run.outputs == [[]]
    assert run.errors == ["more than 2 messages held for their sequences to complete: "
                          "all dropped"]


def test_sequences_complete_out_of_order_and_apart() -> None:
    a = [{"payload": f"a{i}", "parts": {"index": i, "count": 3, "id": "a"}}
         for i in range(3)]
    b = [{"payload": f"b{i}", "parts": {"index": i, "count": 2, "id": "b"}}
         for i in range(2)]
    lone = {"payload": "lone"}
    assert routed([rule("tail", 1)], [a[2], b[0], a[0], lone, b[1], a[1]]) == [
        ["b1", "a2"]]
    # Routed in arrival order once complete; a message of no sequence is not held.
    assert routed([rule("not-null")], [a[1], lone, a[0], a[2]],
                  recreate_sequences=True) == [["lone", "a1", "a0", "a2"]]
