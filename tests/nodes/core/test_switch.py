"""switch: Node-RED's 10-switch_spec.js case by case (one table row each, in its order),
then portless's deliberate differences and what a user relies on beyond the spec."""

from __future__ import annotations

import math
from typing import Any

import pytest

from portless.runtime import FlowInvalid, Message
from portless.testing import FlowHarness, run_node

TYPE = "switch"


def v(value: Any) -> dict[str, Any]:
    """A literal rule value of the kind its Python type says."""
    kind = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) \
        else "number"
    return {"kind": kind, "value": value}


def rule(operator: str, value: Any = None, value2: Any = None, **extra: Any
         ) -> dict[str, Any]:
    spec: dict[str, Any] = {"operator": operator, **extra}
    if value is not None:
        spec["value"] = value if isinstance(value, dict) else v(value)
    if value2 is not None:
        spec["value2"] = value2 if isinstance(value2, dict) else v(value2)
    return spec


def routed(rules: list[dict[str, Any]], messages: list[Message], **config: Any
           ) -> list[list[Any]]:
    """The payloads each output sent (a message without one shows as "<none>")."""
    run = run_node(TYPE, {"rules": rules, **config}, messages)
    assert not run.errors, run.errors
    return [[out.get("payload", "<none>") for out in port] for port in run.outputs]


def passes(one_rule: dict[str, Any], msg: Message, **config: Any) -> bool:
    [port] = routed([one_rule], [msg], **config)
    return bool(port)


NO_PAYLOAD: Message = {}
"""A message whose payload is undefined in Node-RED's tests."""

# --- Node-RED's 10-switch_spec.js: one rule, one message: does it pass? ---------------
NODE_RED_ONE_RULE = [
    ("==", "Hello", "Hello", True), ("==", "Hello", "Hello!", False),
    ("!=", "Hello", "HEllO", True), ("!=", "Hello", "Hello", False),
    ("==", 3, 3, True), ("==", 2, 4, False), ("!=", 55667744, -1234, True),
    ("!=", 10, 10, False), ("<", 3, 2, True), ("<", 3, 4, False), ("<=", 3, 3, True),
    (">", 3, 6, True), (">", 3, -1, False), (">=", 3, 3, True),
    (">", 3, -1, False), (">=", 3, 3, True),  # Node-RED lists these two twice
    ("has-key", "a", {"a": 1}, True), ("has-key", "a", {"b": 1}, False),
    ("has-key", 1, {"a": 1}, False), ("has-key", "a", None, False),
    ("has-key", "a", NO_PAYLOAD, False),
    ("contains", "Hello", "Hello World!", True),
    ("contains", "Hello", "This is not a greeting!", False),
    ("regex", "[abc]+", "abbabac", True),
    ("regex", "\\d+", "This is not a digit", False),
    ("contains", "Hello", "This is not a greeting!", False),  # listed twice too
]


@pytest.mark.parametrize(("operator", "value", "payload", "expected"), NODE_RED_ONE_RULE)
def test_node_red_value_rules(operator: str, value: Any, payload: Any, expected: bool
                              ) -> None:
    msg = NO_PAYLOAD if payload is NO_PAYLOAD else {"payload": payload}
    assert passes(rule(operator, value), dict(msg)) is expected


NODE_RED_BETWEEN = [(3, 5, 4, True), (5, 3, 4, True), ("c", "e", "d", True),
                    (3, 5, 12, False)]


@pytest.mark.parametrize(("low", "high", "payload", "expected"), NODE_RED_BETWEEN)
def test_node_red_between(low: Any, high: Any, payload: Any, expected: bool) -> None:
    assert passes(rule("between", low, high), {"payload": payload}) is expected


NODE_RED_IS_TYPE = [
    ("string", "Hello", True), ("number", 999, True), ("number", 0, True),
    ("number", math.nan, False), ("number", math.inf, True), ("boolean", True, True),
    ("boolean", True, True),  # Node-RED's "boolean false" case sends true as well
    ("array", [1, 2, 3, "a", "b"], True), ("buffer", b"Hello", True),
    ("object", {"a": 1, "b": "b", "c": True}, True),
    ("json", '{"a":1,"b":"b","c":true}', True), ("json", "Hello", False),
    ("null", None, True), ("undefined", NO_PAYLOAD, True),
]


@pytest.mark.parametrize(("type_", "payload", "expected"), NODE_RED_IS_TYPE)
def test_node_red_is_type(type_: str, payload: Any, expected: bool) -> None:
    msg = {} if payload is NO_PAYLOAD else {"payload": payload}
    assert passes(rule("is-type", type=type_), msg) is expected


NODE_RED_NO_VALUE = [
    ("true", True, True), ("true", False, False), ("false", False, True),
    ("false", True, False),
    *[("is-empty", payload, expected) for payload, expected in [
        ("", True), ([], True), (b"", True), ({}, True), ("1", False), ([1], False),
        (b"\0", False), ({"a": 1}, False), (None, False), (NO_PAYLOAD, False),
        (0, False)]],
    *[("not-empty", payload, expected) for payload, expected in [
        ("", False), ([], False), (b"", False), ({}, False), ("1", True), ([1], True),
        (b"\0", True), ({"a": 1}, True), (None, False), (NO_PAYLOAD, False),
        (0, False)]],
    ("null", None, True), ("null", NO_PAYLOAD, True), ("not-null", "Anything here", True),
    ("otherwise", 123456, True),
]


@pytest.mark.parametrize(("operator", "payload", "expected"), NODE_RED_NO_VALUE)
def test_node_red_rules_without_a_value(operator: str, payload: Any, expected: bool
                                        ) -> None:
    msg = {} if payload is NO_PAYLOAD else {"payload": payload}
    assert passes(rule(operator), msg, check_all=operator != "not-null") is expected


NODE_RED_MESSAGES = [
    # A nested property, compared with a literal and with another nested property.
    (rule("==", "bar"), {"topic": "foo", "payload": {"foo": "bar"}}, True),
    (rule("==", "bar"), {"topic": "foo", "payload": {"foo": "none"}}, False),
    (rule("==", {"kind": "msg", "value": "payload[msg.topic2]"}),
     {"topic": "foo", "topic2": "foo2", "payload": {"foo": "bar", "foo2": "bar"}}, True),
    (rule("==", {"kind": "msg", "value": "payload[msg.topic2]"}),
     {"topic": "foo", "topic2": "foo2", "payload": {"foo": "bar", "foo2": "none"}}, False),
    # regex with and without ignoring case.
    (rule("regex", "onetwothree", ignore_case=True), {"payload": "oneTWOthree"}, True),
    (rule("regex", "onetwothree"), {"payload": "oneTWOthree"}, False),
    (rule("regex", "onetwothree", ignore_case=False), {"payload": "oneTWOthree"}, False),
    # A value from an absent property is undefined: it equals only an absent payload.
    (rule("==", {"kind": "msg", "value": "this.does.not.exist"}), {"payload": ""}, False),
    (rule("==", {"kind": "msg", "value": "this.does.not.exist"}), {}, True),
    # A JSONata rule: its expression on the message yields true.
    (rule("jsonata", expression="payload%2 = 1"), {"payload": 9}, True),
]


@pytest.mark.parametrize(("one_rule", "msg", "expected"), NODE_RED_MESSAGES)
def test_node_red_message_cases(one_rule: dict[str, Any], msg: Message, expected: bool
                                ) -> None:
    assert passes(one_rule, msg, property={"kind": "msg", "value": "payload[msg.topic]"}
                  if "topic" in msg else {"kind": "msg", "value": "payload"}) is expected


def test_node_red_defaults_are_check_all_and_no_rules() -> None:
    run = run_node(TYPE, {}, [{"payload": 1}])
    assert (run.outputs, run.errors) == ([], [])


THREE_RULES = [rule("==", "Hello"), rule("contains", "ello"), rule("otherwise")]


def test_node_red_check_all_sends_on_every_matching_rule() -> None:
    assert routed(THREE_RULES, [{"payload": "Hello"}]) == [["Hello"], ["Hello"], []]


def test_node_red_stops_after_the_first_match() -> None:
    assert routed(THREE_RULES, [{"payload": "Hello"}], check_all=False) == [
        ["Hello"], [], []]


def test_node_red_previous_value() -> None:
    # Node-RED sends 1 and 2: before the first message the previous value is null,
    # which JavaScript reads as 0. In portless null is no number, so 1 > null fails.
    previous = {"kind": "previous"}
    assert routed([rule(">", previous)], [{"payload": p} for p in (1, 0, -2, 2)]) == [[2]]
    # The second value as the previous one: Node-RED also sends 0 (0 between 10 and
    # null); its test skips it.
    assert routed([rule("between", 10, previous)],
                  [{"payload": p} for p in (0, 20, 30, 20, 30, 25)]) == [[20, 25]]


def test_node_red_sequences_pass_unchanged_without_recreating_them() -> None:
    data = [1, -2, 2, 0, -1]
    msgs = [{"payload": p, "xindex": i, "parts": {"index": i, "count": 5, "id": 222}}
            for i, p in enumerate(data)]
    run = run_node(TYPE, {"rules": [rule(">", 0), rule("<", 0), rule("otherwise")]}, msgs)
    assert [[(m["payload"], m["parts"]) for m in port] for port in run.outputs] == [
        [(p, {"index": i, "count": 5, "id": 222}) for i, p in enumerate(data) if test(p)]
        for test in (lambda p: p > 0, lambda p: p < 0, lambda p: p == 0)]


async def test_node_red_flow_and_global_context() -> None:
    for kind in ("flow", "global"):
        flow = {"version": 1, "nodes": [{"id": "s", "type": TYPE, "config": {
            "property": {"kind": kind, "value": "foo"},
            "rules": [rule("==", {"kind": kind, "value": "bar"})]}}]}
        async with FlowHarness(flow) as harness:
            node = harness.engine.nodes["s"]
            store = node.flow_context if kind == "flow" else node.global_context
            store.set("foo", f"{kind}Value")
            store.set("bar", f"{kind}Value")
            harness.inject("s", {"payload": "value"})
            [got] = await harness.wait_for("s")
        assert got["payload"] == "value"


async def test_node_red_jsonata_property_and_values() -> None:
    # The property and both ends of between as JSONata: |-5| is between 4 and 6, once
    # from the message, once from flow and global context.
    cases = [({"kind": "jsonata", "value": "$abs(payload)"},
              {"kind": "jsonata", "value": "$sqrt(16)"},
              {"kind": "jsonata", "value": "$sqrt(36)"}, -5),
             ({"kind": "jsonata", "value": '$abs($flowContext("payload"))'},
              {"kind": "jsonata", "value": '$flowContext("vt")'},
              {"kind": "jsonata", "value": '$globalContext("v2t")'}, "pass")]
    for prop, low, high, payload in cases:
        flow = {"version": 1, "nodes": [{"id": "s", "type": TYPE, "config": {
            "property": prop, "rules": [rule("between", low, high)]}}]}
        async with FlowHarness(flow) as harness:
            node = harness.engine.nodes["s"]
            node.flow_context.set("payload", -5)
            node.flow_context.set("vt", 4)
            node.global_context.set("v2t", 6)
            harness.inject("s", {"payload": payload})
            [got] = await harness.wait_for("s")
        assert got["payload"] == payload


def test_node_red_env_property(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAR", "VAL")
    run = run_node(TYPE, {"property": {"kind": "env", "value": "VAR"},
                          "rules": [rule("==", "VAL")]}, [{"payload": "OK"}])
    assert [m["payload"] for m in run.outputs[0]] == ["OK"]


async def test_node_red_a_failing_jsonata_property_is_an_error_with_the_message() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "s", "type": TYPE, "config": {
            "property": {"kind": "jsonata", "value": "$invalidExpression(payload)"},
            "rules": [rule("between", {"kind": "jsonata", "value": "$sqrt(16)"},
                           {"kind": "jsonata", "value": "$sqrt(36)"})]}},
        {"id": "c", "type": "catch", "config": {"scope": "all"}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("s", {"payload": 1})
        [caught] = await harness.wait_for("c")
        assert harness.received("s") == []
    assert caught["payload"] == 1
    assert caught["error"]["source"]["id"] == "s"


# --- JavaScript's loose comparisons, and where portless differs on purpose ------------
LOOSE = [
    ("==", 5, "5", True), ("==", "5", 5, True), ("==", 1, True, True),
    ("==", "1", True, True), ("==", "true", True, False), ("==", 5, [5], True),
    ("==", "1,2", [1, 2], True), ("==", 1, 1.0, True), (">", 9, "10", True),
    ("<", "9", "10", True),  # two texts compare as texts: "10" < "9"
    (">", 2, "1e1", True), ("==", 26, "0x1A", True),
    # differences: objects by content, "" and null are no numbers, absent matches nothing
    ("==", {"kind": "msg", "value": "other"}, {"a": [1]}, True),
    ("==", 0, "", False), ("<", 1, None, False), (">=", 0, None, False),
    ("contains", "undefined", NO_PAYLOAD, False), ("regex", "def", NO_PAYLOAD, False),
    ("has-key", "length", [1, 2], False), ("has-key", 1, [1, 2], True),
    ("has-key", "01", [1, 2], False), ("has-key", 0, "ab", True),
    ("regex", "(?<n>\\d+)$", "a12", True),  # JavaScript's named group syntax
]


@pytest.mark.parametrize(("operator", "value", "payload", "expected"), LOOSE)
def test_comparisons(operator: str, value: Any, payload: Any, expected: bool) -> None:
    msg: Message = {} if payload is NO_PAYLOAD else {"payload": payload}
    msg["other"] = {"a": [1.0]}
    assert passes(rule(operator, value), msg) is expected


def test_otherwise_counts_from_an_otherwise_before_it_that_did_not_match() -> None:
    # As Node-RED: "c" goes to the first otherwise only, which counts as a match.
    rules = [rule("==", "a"), rule("otherwise"), rule("==", "b"), rule("otherwise")]
    assert routed(rules, [{"payload": p} for p in ("a", "b", "c")]) == [
        ["a"], ["b", "c"], ["b"], ["a"]]


def test_each_output_after_the_first_gets_its_own_copy() -> None:
    run = run_node(TYPE, {"rules": [rule("not-null"), rule("not-null")]},
                   [{"payload": {"n": 1}}])
    first, second = (port[0] for port in run.outputs)
    assert first == second
    assert first["payload"] is not second["payload"]


def test_outputs_follow_the_rules() -> None:
    rules = [rule("true"), rule("false"), rule("otherwise")]
    assert len(run_node(TYPE, {"rules": rules}).outputs) == 3


async def test_a_bad_regular_expression_from_the_message_is_an_error_with_it() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "s", "type": TYPE, "config": {"rules": [
            rule("regex", {"kind": "msg", "value": "pattern"})]}},
        {"id": "c", "type": "catch", "config": {"scope": "all"}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("s", {"payload": "abc", "pattern": "(unclosed"})
        harness.inject("s", {"payload": "abc", "pattern": "^a"})
        [caught] = await harness.wait_for("c")
        [passed] = await harness.wait_for("s")
    assert "invalid regular expression '(unclosed'" in caught["error"]["message"]
    assert passed["pattern"] == "^a"


@pytest.mark.parametrize(("bad_rule", "pointer"), [
    ({"operator": "between", "value": v(1)}, "/config/rules/0"),
    ({"operator": "=="}, "/config/rules/0"),
    ({"operator": "jsonata", "expression": "payload ="}, "/config/rules/0/expression"),
    ({"operator": "equals", "value": v(1)}, "/config/rules/0/operator"),
    ({"operator": "regex", "value": v("[a-")}, "/config/rules/0/value/value"),
])
def test_a_rule_missing_what_its_operator_needs_is_refused_at_load(
        bad_rule: dict[str, Any], pointer: str) -> None:
    with pytest.raises(FlowInvalid, match=f"node {'node-under-test'}: {pointer}"):
        run_node(TYPE, {"rules": [bad_rule]})

