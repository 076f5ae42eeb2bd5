"""The schema annotations the editor's widgets read (editor/static/list.js, typed.js)
agree with what the schemas validate, for every installed node type: a rule row never
hides a field its rule requires, a switch has one port per rule row, and every kind of
a typed value has the one value schema its picker builds the value control from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from portless.runtime import Registry, config_outputs

REGISTRY = Registry.discover()


def subschemas(schema: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema below ``schema`` (its properties, list items and branches)."""
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    for key, sub in (schema.get("properties") or {}).items():
        yield from subschemas(sub, f"{pointer}/{key}")
    yield from subschemas(schema.get("items"), f"{pointer}/[]")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(keyword) or []:
            yield from subschemas(sub, pointer)


def conditional_objects() -> list[tuple[str, dict[str, Any]]]:
    """(type and pointer, object schema) of every object (a config, a list's rows) with
    fields shown by condition."""
    return [(f"{cls.type}{pointer}", schema)
            for cls in REGISTRY for pointer, schema in subschemas(cls.schema)
            if any("x-show-if" in field for field in (schema.get("properties") or {}).values()
                   if isinstance(field, dict))]


def conditions(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's if/then pairs: its own and its allOf's."""
    return [part for part in [schema, *schema.get("allOf", [])] if "if" in part]


def valid(schema: dict[str, Any], instance: Any) -> bool:
    return bool(Draft202012Validator(schema).is_valid(instance))


def test_the_objects_with_fields_by_condition_are_found() -> None:
    assert {name for name, _ in conditional_objects()} >= {
        "switch/rules/[]", "change/rules/[]", "inject", "join", "split", "batch", "sort",
        "http-request", "modbus-in", "modbus-in/points/[]", "modbus-out/points/[]",
        "opcua-in", "link-out"}


@pytest.mark.parametrize(("name", "items"), conditional_objects(),
                         ids=[n for n, _ in conditional_objects()])
def test_a_form_shows_every_field_its_choice_requires(name: str, items: dict[str, Any]) -> None:
    properties = items["properties"]
    for field in properties.values():
        if "x-show-if" in field:
            Draft202012Validator.check_schema(field["x-show-if"])
    checked = 0
    for choice, choice_schema in properties.items():
        for value in choice_schema.get("enum", []):
            row = {choice: value}
            for part in conditions(items):
                if not valid(part["if"], row):
                    continue
                for key in part.get("then", {}).get("required", []):
                    shown_if = properties[key].get("x-show-if")
                    assert shown_if is None or valid(shown_if, row), (
                        f"{name}: {choice} {value!r} requires {key}, which its row hides")
                    checked += 1
    assert checked or not any(part.get("then", {}).get("required") for part in conditions(items))


def test_a_shown_field_depends_only_on_fields_of_its_object() -> None:
    for name, items in conditional_objects():
        for key, field in items["properties"].items():
            if isinstance(field, dict) and "x-show-if" in field:
                named = set(field["x-show-if"].get("properties", {})) | set(
                    field["x-show-if"].get("required", []))
                assert named, (name, key)
                assert named <= items["properties"].keys() - {key}, (name, key)


def shown(type_: str, config: dict[str, Any], pointer: str = "") -> set[str]:
    """The fields of the object at ``pointer`` (a list's rows: ``/points/[]``) the form
    shows for ``config``, of those shown by condition."""
    schema = REGISTRY.get(type_).schema  # type: ignore[union-attr]
    items = dict(subschemas(schema))[pointer]
    return {key for key, field in items["properties"].items()
            if "x-show-if" in field and valid(field["x-show-if"], config)}


MANUAL = {"build", "whole_message", "count", "use_parts", "accumulate", "timeout"}
REDUCE = {"reduce_expression", "reduce_initial", "reduce_fixup", "reduce_right"}


@pytest.mark.parametrize(("type_", "config", "expected"), [
    ("join", {"mode": "auto"}, set()),
    ("join", {"mode": "manual", "build": "array", "whole_message": False},
     MANUAL | {"property"}),
    ("join", {"mode": "manual", "build": "array", "whole_message": True}, MANUAL),
    ("join", {"mode": "manual", "build": "object", "whole_message": False},
     MANUAL | {"property", "key_property"}),
    ("join", {"mode": "manual", "build": "string", "join_with": "string",
              "whole_message": True}, MANUAL | {"join_with", "joiner"}),
    ("join", {"mode": "manual", "build": "buffer", "join_with": "bytes",
              "whole_message": True}, MANUAL | {"join_with", "joiner_bytes"}),
    ("join", {"mode": "reduce", "build": "string", "join_with": "string"}, REDUCE),
    ("split", {"split_by": "delimiter"}, {"delimiter"}),
    ("split", {"split_by": "bytes"}, {"delimiter_bytes"}),
    ("split", {"split_by": "length"}, {"length"}),
    ("batch", {"mode": "count"}, {"count", "overlap", "complete_with_parts"}),
    ("batch", {"mode": "interval"}, {"interval", "send_empty"}),
    ("batch", {"mode": "concat"}, {"topics"}),
    ("sort", {"target": "property", "key_by": "value"}, {"property"}),
    ("sort", {"target": "property", "key_by": "jsonata"}, {"property", "key_expression"}),
    ("sort", {"target": "sequence", "key_by": "value"}, {"key_property", "max_messages"}),
    ("sort", {"target": "sequence", "key_by": "jsonata"}, {"key_expression", "max_messages"}),
    ("http-request", {"auth_type": "none"}, set()),
    ("http-request", {"auth_type": "basic"}, {"username", "password"}),
    ("http-request", {"auth_type": "digest"}, {"username", "password"}),
    ("http-request", {"auth_type": "bearer"}, {"token"}),
    ("modbus-in", {"output": "per-point"}, set()),
    ("modbus-in", {"output": "all-points"}, {"topic"}),
    ("opcua-in", {"mode": "subscribe"},
     {"publishing_interval", "sampling_interval", "queue_size", "deadband"}),
    ("opcua-in", {"mode": "poll"}, {"poll_interval"}),
    ("link-out", {"mode": "link"}, {"links"}),
    ("link-out", {"mode": "return"}, set()),
])
def test_a_form_shows_the_fields_of_its_mode(type_: str, config: dict[str, Any],
                                             expected: set[str]) -> None:
    assert shown(type_, config) == expected


@pytest.mark.parametrize("type_", ["modbus-in", "modbus-out"])
@pytest.mark.parametrize(("point_type", "expected"), [
    ("string", {"registers"}), ("uint16", set()), ("float32", set())])
def test_a_modbus_point_shows_its_length_only_for_a_string(type_: str, point_type: str,
                                                           expected: set[str]) -> None:
    assert shown(type_, {"type": point_type}, "/points/[]") == expected


def test_every_code_widget_names_its_language() -> None:
    marked = {f"{cls.type}{pointer}": schema.get("x-language")
              for cls in REGISTRY for pointer, schema in subschemas(cls.schema)
              if schema.get("x-widget") == "code"}
    assert marked.get("template/template") == "mustache"
    assert all(isinstance(language, str) and language for language in marked.values())


@pytest.mark.parametrize(("operator", "shown"), [
    ("==", {"value"}), ("between", {"value", "value2"}), ("regex", {"value", "ignore_case"}),
    ("is-type", {"type"}), ("jsonata", {"expression"}), ("true", set()),
    ("otherwise", set()), ("index", {"value", "value2"})])
def test_a_switch_rule_row_shows_the_fields_of_its_operator(operator: str,
                                                            shown: set[str]) -> None:
    items = REGISTRY.get("switch").schema["properties"]["rules"]["items"]  # type: ignore[union-attr]
    found = {key for key, field in items["properties"].items()
             if "x-show-if" in field and valid(field["x-show-if"], {"operator": operator})}
    assert found == shown


@pytest.mark.parametrize(("config", "shown"), [
    ({"repeat": "none"}, set()), ({"repeat": "interval"}, {"interval"}),
    ({"repeat": "cron"}, {"cron", "time_zone"}), ({"repeat": "daily"}, {"at", "days", "time_zone"}),
    ({"repeat": "none", "once": True}, {"once_delay"})])
def test_an_inject_form_shows_the_fields_of_its_repeat(config: dict[str, Any],
                                                       shown: set[str]) -> None:
    properties = REGISTRY.get("inject").schema["properties"]  # type: ignore[union-attr]
    found = {key for key, field in properties.items()
             if "x-show-if" in field and valid(field["x-show-if"], config)}
    assert found == shown


@pytest.mark.parametrize(("action", "shown"), [
    ("set", {"value", "deep_copy"}), ("change", {"search", "regex", "replace"}),
    ("delete", set()), ("move", {"to"})])
def test_a_change_rule_row_shows_the_fields_of_its_action(action: str, shown: set[str]) -> None:
    items = REGISTRY.get("change").schema["properties"]["rules"]["items"]  # type: ignore[union-attr]
    found = {key for key, field in items["properties"].items()
             if "x-show-if" in field and valid(field["x-show-if"], {"action": action})}
    assert found == shown


def test_a_list_marked_one_port_per_row_gives_its_type_one_output_per_row() -> None:
    marked = [(cls, key) for cls in REGISTRY
              for key, field in (cls.schema.get("properties") or {}).items()
              if field.get("x-port-per-item") is True]
    assert [(cls.type, key) for cls, key in marked] == [("switch", "rules")]
    for count in (0, 1, 3):
        rules = [{"operator": "true"}] * count
        assert config_outputs(REGISTRY, "switch", {"rules": rules}, file="f.json",
                              node_id="route") == count
    nested = [f"{cls.type}{pointer}" for cls in REGISTRY
              for pointer, schema in subschemas(cls.schema)
              if pointer.count("/") > 1 and schema.get("x-port-per-item")]
    assert nested == []  # the editor maps the ports of a top-level list only


def typed_values() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{cls.type}{pointer}", schema) for cls in REGISTRY
            for pointer, schema in subschemas(cls.schema) if "x-typed-value" in schema]


@pytest.mark.parametrize(("name", "schema"), typed_values(), ids=[n for n, _ in typed_values()])
def test_each_kind_of_a_typed_value_has_one_value_schema_for_the_picker(
        name: str, schema: dict[str, Any]) -> None:
    assert schema["x-typed-value"] == schema["properties"]["kind"]["enum"]
    for kind in schema["x-typed-value"]:
        branches = [part["then"]["properties"]["value"] for part in schema.get("allOf", [])
                    if part.get("if", {}).get("properties", {}).get("kind", {}).get("const")
                    == kind]
        # `previous` (a switch rule's) takes no value: the picker shows no value input.
        assert len(branches) == (0 if kind == "previous" else 1), (name, kind)
