"""switch, differentially: every one-rule row of test_switch.py's tables through
Node-RED 4's own switch node too (tests/node_red.py); the two agree except on the
differences the switch's description lists, which are checked to still differ."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portless.node_red_import.function import OPERATORS
from portless.runtime import Message
from portless.testing import run_node
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.test_switch import (
    LOOSE,
    NO_PAYLOAD,
    NODE_RED_BETWEEN,
    NODE_RED_IS_TYPE,
    NODE_RED_MESSAGES,
    NODE_RED_NO_VALUE,
    NODE_RED_ONE_RULE,
    routed,
    rule,
)
from tests.nodes.core.test_switch_sequences import NODE_RED_SEQUENCES, sequence

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

_OPERATORS = {ours: theirs for theirs, ours in OPERATORS.items()}  # the importer's table
_KINDS = {"string": "str", "number": "num", "boolean": "bool", "previous": "prev"}

# (operator, value, payload) of the rows where portless differs on purpose.
DIFFERENCES = [("==", 0, ""), ("<", 1, None), (">=", 0, None),
               ("contains", "undefined", NO_PAYLOAD), ("regex", "def", NO_PAYLOAD),
               ("==", {"kind": "msg", "value": "other"}, {"a": [1]}),
               ("has-key", "length", [1, 2])]


def node_red_rule(spec: dict[str, Any]) -> dict[str, Any]:
    """A portless rule as Node-RED's switch writes it."""
    operator = spec["operator"]
    out: dict[str, Any] = {"t": _OPERATORS[operator]}
    if operator == "is-type":
        out.update(v=spec["type"], vt=spec["type"])
    elif operator == "jsonata":
        out.update(v=spec["expression"], vt="jsonata")
    for key, kind_key in (("value", "v"), ("value2", "v2")):
        if key in spec:
            kind = spec[key]["kind"]
            out[kind_key] = spec[key].get("value", "")
            out[kind_key + "t"] = _KINDS.get(kind, kind)
    if spec.get("ignore_case"):
        out["case"] = True
    return out


def node_red_switch(rules: list[dict[str, Any]], property_: dict[str, Any],
                    check_all: bool, recreate: bool = False) -> dict[str, Any]:
    return {"type": "switch", "property": property_["value"],
            "propertyType": property_["kind"], "rules": [node_red_rule(r) for r in rules],
            "checkall": "true" if check_all else "false", "repair": recreate,
            "outputs": len(rules)}


def _rows() -> list[tuple[str, dict[str, Any], Message, dict[str, Any], bool]]:
    """(id, rule, message, property, known difference) for every JSON-able row."""
    payload_path = {"kind": "msg", "value": "payload"}
    rows = []

    def add(name: str, one: dict[str, Any], payload: Any, extra: Message | None = None,
            differs: bool = False, prop: dict[str, Any] = payload_path) -> None:
        msg: Message = {} if payload is NO_PAYLOAD else {"payload": payload}
        msg.update(extra or {})
        try:
            json.dumps(msg, allow_nan=False)
        except (TypeError, ValueError):  # bytes, NaN, Infinity: no JSON to hand over
            return
        rows.append((name, one, msg, prop, differs))

    for operator, value, payload, _ in [*NODE_RED_ONE_RULE, *LOOSE]:
        add(f"{operator} {value!r} on {payload!r}", rule(operator, value), payload,
            {"other": {"a": [1.0]}}, (operator, value, payload) in DIFFERENCES)
    for low, high, payload, _ in NODE_RED_BETWEEN:
        add(f"between {low!r} {high!r} on {payload!r}", rule("between", low, high), payload)
    for type_, payload, _ in NODE_RED_IS_TYPE:
        add(f"is-type {type_} on {payload!r}", rule("is-type", type=type_), payload)
    for operator, payload, _ in NODE_RED_NO_VALUE:
        add(f"{operator} on {payload!r}", rule(operator), payload)
    for number, (one, msg, _) in enumerate(NODE_RED_MESSAGES):
        prop = {"kind": "msg", "value": "payload[msg.topic]"} if "topic" in msg \
            else payload_path
        rest = {k: item for k, item in msg.items() if k != "payload"}
        add(f"message case {number}", one, msg.get("payload", NO_PAYLOAD), rest, prop=prop)
    return rows


def test_every_row_agrees_with_node_red_but_the_differences() -> None:
    rows = _rows()
    theirs = run_in_node_red([NodeRedCase(node_red_switch([one], prop, True), [msg])
                              for _, one, msg, prop, _ in rows])
    agree, differ = [], []
    for (name, one, msg, prop, differs), [port] in zip(rows, theirs, strict=True):
        ours = routed([one], [msg], property=prop)[0]
        same = bool(ours) == bool(port)
        (agree if same != differs else differ).append(name)
    assert differ == []
    assert len(agree) == len(rows) > 90  # all rows but a few with bytes, NaN or Infinity


def test_sequences_of_messages_agree_with_node_red() -> None:
    cases = [  # (rules, check_all, payloads)
        ([rule("==", "Hello"), rule("contains", "ello"), rule("otherwise")], True,
         ["Hello", "Jello", "x"]),
        ([rule("==", "Hello"), rule("contains", "ello"), rule("otherwise")], False,
         ["Hello", "Jello", "x"]),
        ([rule("==", "a"), rule("otherwise"), rule("==", "b"), rule("otherwise")], True,
         ["a", "b", "c"]),
        ([rule(">", {"kind": "previous"})], True, [3, 5, 4, 6, 6, "7", "10"]),
        ([rule("between", 10, {"kind": "previous"})], True, [5, 20, 30, 20, 30, 25]),
        ([rule(">", 0), rule("<", 0), rule("otherwise")], True, [1, -2, 2, 0, -1, "3"]),
    ]
    payload = {"kind": "msg", "value": "payload"}
    theirs = run_in_node_red([
        NodeRedCase(node_red_switch(rules, payload, check_all),
                    [{"payload": p} for p in payloads], outputs=len(rules))
        for rules, check_all, payloads in cases])
    for (rules, check_all, payloads), ports in zip(cases, theirs, strict=True):
        ours = routed(rules, [{"payload": p} for p in payloads], check_all=check_all)
        expected = [[m["payload"] for m in port] for port in ports]
        if "previous" in str(rules) and expected[0][:1] == payloads[:1]:
            del expected[0][0]  # Node-RED compares the first with null as with 0
        assert ours == expected, (rules, check_all)


def test_the_first_value_against_previous_is_where_node_red_reads_null_as_0() -> None:
    [[port]] = run_in_node_red([NodeRedCase(
        node_red_switch([rule(">", {"kind": "previous"})],
                        {"kind": "msg", "value": "payload"}, True), [{"payload": 1}])])
    assert [m["payload"] for m in port] == [1]
    assert routed([rule(">", {"kind": "previous"})], [{"payload": 1}]) == [[]]


def test_sequence_rules_and_recreated_sequences_agree_with_node_red() -> None:
    cases = [(p.values[0], p.values[1]) for p in NODE_RED_SEQUENCES
             if "global" not in str(p.values[0])]  # run_node has no context to seed
    cases += [(rule("tail", 2), False), (rule("head", 4), True),
              (rule("index", 3, 1), True)]
    payload = {"kind": "msg", "value": "payload"}
    msgs = sequence(5, 6, 7, 8, 9)
    theirs = run_in_node_red([
        NodeRedCase(node_red_switch([one], payload, True, recreate), msgs)
        for one, recreate in cases])
    for (one, recreate), [port] in zip(cases, theirs, strict=True):
        run = run_node("switch", {"rules": [one], "recreate_sequences": recreate}, msgs)
        ours = [(m["payload"], m["parts"]["index"], m["parts"]["count"])
                for m in run.outputs[0]]
        assert ours == [(m["payload"], m["parts"]["index"], m["parts"]["count"])
                        for m in port], one
