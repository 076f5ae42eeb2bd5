"""The compiled check agrees with jsonschema (in portless's dialect: ECMA-262 `$`) on
every instance, for every shipped schema and for each keyword it compiles; a schema it
cannot compile falls back to jsonschema."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from portless.runtime import Registry
from portless.runtime.compiled_schema import CompiledSchema, json_equal
from portless.runtime.flow import FLOW_SCHEMA
from portless.runtime.schema_dialect import SchemaValidator

PROBES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 0.5, -0.0, 2.5, 10, 65535, 65536, 1e20, 2**70,
    "", "x", "10%", "-5%", "abc%", "a/b", "a/#", "+/x", "#", "$share/g/t", "\U0001f600",
    "payload", "payload.value", "a b", "sim", "file", "sine", "\n", [], [1], ["a"],
    [["a"]], {}, {"a": 1}, {"type": "x"},
]
"""Values tried in every field: each type, boundaries, lookalikes (1.0, true)."""


def schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    yield "flow file", FLOW_SCHEMA
    yield "flow node", {**FLOW_SCHEMA["$defs"]["node"]}
    for cls in Registry.discover():
        yield cls.type, cls.schema


def instances(schema: dict[str, Any]) -> Iterator[Any]:
    """The schema's defaults, then each field set to each probe, plus odd shapes."""
    properties = schema.get("properties", {})
    base = {key: sub["default"] for key, sub in properties.items() if "default" in sub}
    yield from (base, {}, None, [], "x", 1, {**base, "unknown": 1})
    for key, sub in properties.items():
        values = [*PROBES, *sub.get("enum", []), *sub.get("examples", [])]
        if isinstance(sub.get("properties"), dict):
            values += list(instances(sub))
        for value in values:
            yield {**base, key: value}
    for first, second in itertools.combinations(list(properties)[:6], 2):
        for value in PROBES[:12]:
            yield {**base, first: value, second: value}


@pytest.mark.parametrize(("name", "schema"), list(schemas()), ids=lambda v: str(v)[:20])
def test_every_shipped_schema_compiles_and_agrees_with_jsonschema(
        name: str, schema: dict[str, Any]) -> None:
    compiled = CompiledSchema(schema)
    assert compiled.check is not None, f"{name}: no compiled check"
    reference = SchemaValidator(schema)
    for instance in instances(schema):
        assert compiled.is_valid(instance) == reference.is_valid(instance), (name, instance)


KEYWORD_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None, 2**80]),
    ({"type": ["string", "null"]}, ["a", None, 0, False]),
    ({"enum": [1, "a", None, [1], {"k": True}]}, [1, 1.0, True, "a", None, [1], [True],
                                                   {"k": True}, {"k": 1}, False]),
    ({"const": False}, [False, 0, None, 0.0]),
    ({"const": 0}, [0, 0.0, False, -0.0]),
    ({"minimum": 1, "exclusiveMaximum": 5}, [1, 0.99, 4.999, 5, "0", True, False]),
    ({"maximum": 3, "exclusiveMinimum": 0}, [0, 3, 3.0001, 1e-300, None]),
    ({"minLength": 2, "maxLength": 3}, ["a", "ab", "abcd", "\U0001f600\U0001f600", 12]),
    ({"pattern": "^a+$"}, ["aaa", "ab", "", 5, "a\n"]),
    ({"minItems": 1, "maxItems": 2, "items": {"type": "string"}},
     [[], ["a"], ["a", "b", "c"], [1], "ab", {"0": "a"}]),
    ({"required": ["a"], "properties": {"a": {"type": "number"}},
      "additionalProperties": False},
     [{"a": 1}, {"a": "1"}, {}, {"a": 1, "b": 2}, [], "a"]),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": {"type":
                                                                                "integer"}},
     [{"x-a": "s"}, {"x-a": 1}, {"b": 1}, {"b": 1.5}, {}]),
    ({"minProperties": 1, "maxProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}, []]),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, [1, 1.5, "x"]),
    ({"anyOf": [{"type": "number"}, {"pattern": "%$"}]}, [1, "1%", "1", None]),
    ({"allOf": [{"minimum": 0}, {"maximum": 1}]}, [0, 1, 2, -1, "x"]),
    ({"not": {"type": "string"}}, ["a", 1, None]),
    ({"if": {"properties": {"mode": {"const": "file"}}}, "then": {"required": ["path"]},
      "else": {"not": {"required": ["path"]}}},
     [{"mode": "file", "path": "p"}, {"mode": "file"}, {"mode": "sim"},
      {"mode": "sim", "path": "p"}, 3]),
    ({"$defs": {"list": {"type": "array", "items": {"$ref": "#/$defs/list"}}},
      "$ref": "#/$defs/list"}, [[], [[]], [[[]], []], [1], [[1]], "x"]),
    (True, [1, None]),
    (False, [1, None]),
]


@pytest.mark.parametrize(("schema", "values"), KEYWORD_CASES, ids=lambda v: str(v)[:30])
def test_each_compiled_keyword_agrees_with_jsonschema(schema: Any, values: list[Any]) -> None:
    compiled = CompiledSchema(schema)
    assert compiled.check is not None
    reference = SchemaValidator(schema)
    for value in values:
        assert compiled.is_valid(value) == reference.is_valid(value), value


@pytest.mark.parametrize("schema", [
    {"uniqueItems": True},
    {"properties": {"a": {"multipleOf": 0.1}}},
    {"prefixItems": [{"type": "string"}]},
    {"unevaluatedProperties": False},
    {"$defs": {"a": {"$id": "other", "type": "string"}}, "$ref": "#/$defs/a"},
])
def test_a_keyword_it_does_not_compile_leaves_the_checking_to_jsonschema(
        schema: dict[str, Any]) -> None:
    compiled = CompiledSchema(schema)
    assert compiled.check is None
    reference = SchemaValidator(schema)
    for value in [[1, 1], [1, 2], {"a": 0.3}, {"a": 0.35}, ["x"], [1], {"b": 1}, "s", 3]:
        assert compiled.is_valid(value) == reference.is_valid(value)
        assert [e.message for e in compiled.iter_errors(value)] == \
            [e.message for e in reference.iter_errors(value)]


def test_errors_still_come_from_jsonschema() -> None:
    compiled = CompiledSchema({"properties": {"band": {"type": "number"}}})
    assert list(compiled.iter_errors({"band": 1})) == []
    (error,) = compiled.iter_errors({"band": "wide"})
    assert (error.message, list(error.absolute_path)) == ("'wide' is not of type 'number'",
                                                          ["band"])


def test_json_equality_tells_true_from_one() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal([0], [False])
    assert json_equal({"a": [1]}, {"a": [1.0]})
