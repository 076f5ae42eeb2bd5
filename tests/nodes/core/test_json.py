"""json: Node-RED's 70-JSON_spec.js case by case as table rows, then hostile JSON (refused
with a catchable error) and what a user relies on beyond the spec."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import FlowHarness, run_node
from tests.nodes.core.parser_table import Table, shown

TYPE = "json"
EMPLOYEES = {"employees": [{"firstName": "John", "lastName": "Smith"}]}
EMPLOYEES_TEXT = '{"employees":[{"firstName":"John","lastName":"Smith"}]}'
SCHEMA = {"title": "testSchema", "type": "object",
          "properties": {"number": {"type": "number"}, "string": {"type": "string"}}}
VALID = {"number": 3, "string": "allo"}
VALID_TEXT = '{"number":3,"string":"allo"}'
INVALID = {"number": "foo", "string": 3}
INVALID_TEXT = '{"number":"foo","string":3}'


TABLE = Table()
PORTLESS_ONLY = TABLE.portless_only
row = TABLE.row


# --- Node-RED's 70-JSON_spec.js ---------------------------------------------------------
NODE_RED_CASES = [
    row("text-to-object", {}, {"payload": EMPLOYEES_TEXT, "topic": "bar"},
        [{"payload": EMPLOYEES, "topic": "bar"}]),
    row("bytes-to-object", {"action": "object"},
        {"payload": EMPLOYEES_TEXT.encode(), "topic": "bar"},
        [{"payload": EMPLOYEES, "topic": "bar"}], node_red=False),
    row("object-to-text", {}, {"payload": EMPLOYEES}, [{"payload": EMPLOYEES_TEXT}]),
    row("list-to-text", {}, {"payload": [1, 2, 3]}, [{"payload": "[1,2,3]"}]),
    row("boolean-to-text", {}, {"payload": True}, [{"payload": "true"}]),
    row("text-to-boolean", {}, {"payload": "true"}, [{"payload": True}]),
    row("number-to-text", {}, {"payload": 2019}, [{"payload": "2019"}]),
    row("text-to-number", {}, {"payload": "1962"}, [{"payload": 1962}]),
    row("not-json-is-an-error", {}, {"payload": "foo", "topic": "bar"}, [],
        "Unexpected token"),
    row("not-json-bytes-is-an-error", {"action": "object"},
        {"payload": b'{"name":foo}', "topic": "bar"}, [], "Unexpected token",
        node_red=False),
    row("no-property-passes", {}, {"topic": "bar"}, [{"topic": "bar"}]),
    row("always-text-from-object", {"action": "string"}, {"payload": EMPLOYEES},
        [{"payload": EMPLOYEES_TEXT}]),
    row("always-text-from-text", {"action": "string"}, {"payload": EMPLOYEES_TEXT},
        [{"payload": EMPLOYEES_TEXT}]),
    row("always-object-from-object", {"action": "object"}, {"payload": EMPLOYEES},
        [{"payload": EMPLOYEES}]),
    row("always-object-from-text", {"action": "object"}, {"payload": EMPLOYEES_TEXT},
        [{"payload": EMPLOYEES}]),
    row("other-property-text", {"property": "one.two"},
        {"payload": "", "one": {"two": EMPLOYEES_TEXT}, "topic": "bar"},
        [{"payload": "", "one": {"two": EMPLOYEES}, "topic": "bar"}]),
    row("other-property-object", {"property": "one.two"},
        {"payload": "", "one": {"two": EMPLOYEES}, "topic": "bar"},
        [{"payload": "", "one": {"two": EMPLOYEES_TEXT}, "topic": "bar"}]),
    row("schema-valid-text", {}, {"payload": VALID_TEXT, "schema": SCHEMA},
        [{"payload": VALID}]),
    row("schema-valid-object-always-object", {"action": "object"},
        {"payload": VALID, "schema": SCHEMA}, [{"payload": VALID}]),
    row("schema-valid-object", {}, {"payload": VALID, "schema": SCHEMA},
        [{"payload": VALID_TEXT}]),
    row("schema-valid-text-always-text", {"action": "string"},
        {"payload": VALID_TEXT, "schema": SCHEMA}, [{"payload": VALID_TEXT}]),
    row("schema-invalid-object", {}, {"payload": INVALID, "schema": SCHEMA}, [],
        "JSON Schema error: "),
    row("schema-invalid-object-always-object", {"action": "object"},
        {"payload": INVALID, "schema": SCHEMA}, [], "JSON Schema error: "),
    row("schema-invalid-text", {}, {"payload": INVALID_TEXT, "schema": SCHEMA}, [],
        "JSON Schema error: "),
    row("schema-invalid-text-always-text", {"action": "string"},
        {"payload": INVALID_TEXT, "schema": SCHEMA}, [], "JSON Schema error: "),
    row("schema-garbage", {}, {"payload": VALID, "schema": "garbage"}, [],
        "JSON Schema error: failed to compile schema"),
]

# --- beyond the spec --------------------------------------------------------------------
BEYOND = [
    row("pretty", {"pretty": True}, {"payload": {"a": [1, {"b": None}]}},
        [{"payload": '{\n    "a": [\n        1,\n        {\n            "b": null\n'
                     '        }\n    ]\n}'}]),
    row("whole-float-as-integer", {}, {"payload": {"a": 2.0, "b": 0.5}},
        [{"payload": '{"a":2,"b":0.5}'}]),
    row("unicode-kept", {}, {"payload": {"name": "Zoë ☃"}},
        [{"payload": '{"name":"Zoë ☃"}'}]),
    row("null-to-text", {}, {"payload": None}, [{"payload": "null"}]),
    row("empty-text-is-an-error", {}, {"payload": ""}, [], "Unexpected token"),
    row("bytes-to-text-always-text", {"action": "string"}, {"payload": b"[1]"},
        [{"payload": "[1]"}], node_red=False),
    row("bytes-in-object-as-buffer", {}, {"payload": {"b": b"hi"}},
        [{"payload": '{"b":{"type":"Buffer","data":[104,105]}}'}], node_red=False),
    row("not-utf8-bytes", {}, {"payload": b"\xff"}, [], "msg.payload is not UTF-8",
        node_red=False),
    row("nan-refused", {}, {"payload": '{"a": NaN}'}, [], "msg.payload is refused JSON",
        node_red=False),
    row("duplicate-key-refused", {}, {"payload": '{"a": 1, "a": 2}'}, [],
        "msg.payload is refused JSON", node_red=False),
    row("huge-depth-refused", {}, {"payload": "[" * 100_000 + "]" * 100_000}, [],
        "msg.payload is refused JSON", node_red=False),
    row("huge-integer-refused", {}, {"payload": "9" * 5000}, [],
        "msg.payload is refused JSON", node_red=False),
    row("schema-url-not-fetched", {}, {"payload": "1", "schema": {"$ref": "http://x/s"}},
        [], "JSON Schema error: a $ref cannot be resolved", node_red=False),
    row("schema-bad-pattern", {}, {"payload": "1", "schema": {"pattern": "("}}, [],
        "JSON Schema error: failed to compile schema", node_red=False),
    row("set-is-an-error", {}, {"payload": {"s": {1, 2}}}, [],
        "Failed to convert msg.payload to JSON", node_red=False),
]

CASES = NODE_RED_CASES + BEYOND


@pytest.mark.parametrize(("cfg", "msg", "sent", "error"), CASES)
def test_cases(cfg: dict[str, Any], msg: dict[str, Any], sent: list[Any],
               error: str | None) -> None:
    run = run_node(TYPE, cfg, [msg])
    assert [shown(out) for out in run.outputs[0]] == sent
    if error is None:
        assert run.errors == []
    else:
        [text] = run.errors
        assert text.startswith(error), text


def test_table_counts() -> None:
    assert (len(NODE_RED_CASES), len(BEYOND)) == (26, 15)


async def test_a_schema_failure_is_caught_with_each_failure_in_schema_error() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "parse", "type": TYPE, "config": {}},
        {"id": "catch", "type": "catch", "config": {"scope": "all"}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("parse", {"payload": INVALID_TEXT, "schema": SCHEMA})
        [caught] = await harness.wait_for("catch")
    assert caught["payload"] == INVALID_TEXT  # kept as it came: nothing half-converted
    assert [(e["instancePath"], e["keyword"]) for e in caught["schemaError"]] == [
        ("/number", "type"), ("/string", "type")]
    assert caught["error"]["message"] == (
        "JSON Schema error: data/number 'foo' is not of type 'number', "
        "data/string 3 is not of type 'string'")


def test_a_new_schema_replaces_the_last_one() -> None:
    other = {"type": "array"}
    run = run_node(TYPE, {"action": "object"}, [
        {"payload": VALID, "schema": SCHEMA}, {"payload": VALID, "schema": other},
        {"payload": [1], "schema": other}])
    assert [out["payload"] for out in run.outputs[0]] == [VALID, [1]]
    assert len(run.errors) == 1
