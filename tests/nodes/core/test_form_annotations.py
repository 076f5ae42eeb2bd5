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


def test_the_rule_lists_of_switch_and_change_and_inject_are_found() -> None:
    assert {name for name, _ in conditional_objects()} >= {
        "switch/rules/[]", "change/rules/[]", "inject"}


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
    assert checked


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
