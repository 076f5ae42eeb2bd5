"""Helpers for node configs as parsed JSON: copy, ``${NAME}`` placeholders, schema
defaults, and the shared-connection references a schema marks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

REF_KEYWORD = "x-ref"
"""Schema keyword marking a config field that holds the id of a shared connection."""

PLACEHOLDER_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${NAME}``: an environment variable, or a subflow parameter inside a subflow."""


def copy_json(value: Any) -> Any:
    """A deep copy of a parsed JSON value (dicts, lists, scalars), several times
    faster than copy.deepcopy, which a check of thousands of nodes felt."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def substitute_env(value: Any, env: Mapping[str, str], pointer: str = "",
                   resolved: set[str] | None = None) -> list[tuple[str, str]]:
    """Replace ``${NAME}`` in every string inside ``value`` (in place).

    Returns (pointer, name) for each variable that is not set; those stay as written.
    The pointers of strings that took a value from the environment go into ``resolved``.
    """
    missing: list[tuple[str, str]] = []
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        where = f"{pointer}/{key}"
        if isinstance(item, str) and "${" in item:
            def replace(match: re.Match[str], where: str = where) -> str:
                name = match.group(1)
                if name in env:
                    return env[name]
                missing.append((where, name))
                return match.group(0)
            value[key] = PLACEHOLDER_PATTERN.sub(replace, item)
            if resolved is not None and value[key] != item:
                resolved.add(where)
        elif isinstance(item, dict | list):
            missing.extend(substitute_env(item, env, where, resolved))
    return missing


def fill_defaults(schema: Mapping[str, Any], value: Any) -> None:
    """Fill in schema defaults for absent properties, recursing into nested objects."""
    if not isinstance(value, dict):
        return
    for key, subschema in schema.get("properties", {}).items():
        if key not in value:
            if "default" in subschema:
                default = subschema["default"]
                value[key] = copy_json(default) if isinstance(default, dict | list) \
                    else default
            continue
        if not isinstance(value[key], dict):  # nothing below a scalar or a list to fill
            continue
        fill_defaults(subschema, value[key])
        objects = [branch for branch in subschema.get("oneOf", subschema.get("anyOf", []))
                   if branch.get("type") == "object"]
        if len(objects) == 1:
            fill_defaults(objects[0], value[key])


def items_with_defaults(array_schema: Mapping[str, Any], items: Iterable[Mapping[str, Any]]
                        ) -> list[dict[str, Any]]:
    """Copies of an array field's objects with its ``items`` schema's defaults filled in
    (fill_defaults fills a config's own fields, not those of list items)."""
    filled = [dict(item) for item in items]
    for item in filled:
        fill_defaults(array_schema["items"], item)
    return filled


def config_references(schema: Mapping[str, Any], config: Any, pointer: str = ""
                ) -> Iterator[tuple[str, str, str]]:
    """(pointer, wanted type, referenced id) for every reference field set: a string
    with ``x-ref``, or each string of an array whose ``items`` have it (a link-out's
    link-ins)."""
    if not isinstance(config, dict) or not _mentions_references(schema):
        return
    for key, subschema in schema.get("properties", {}).items():
        if key not in config:
            continue
        value, items = config[key], subschema.get("items", {})
        if REF_KEYWORD in subschema and isinstance(value, str) and value:
            yield f"{pointer}/{key}", subschema[REF_KEYWORD], value
        elif isinstance(value, list) and isinstance(items, dict) and REF_KEYWORD in items:
            yield from ((f"{pointer}/{key}/{index}", items[REF_KEYWORD], target)
                        for index, target in enumerate(value)
                        if isinstance(target, str) and target)
        else:
            yield from config_references(subschema, config[key], f"{pointer}/{key}")


_REFERRING: dict[int, tuple[Mapping[str, Any], bool]] = {}
"""Whether a schema holds REF_KEYWORD anywhere, by id (the schema is kept with it, so
its id is never reused): most node types refer to no connection."""


def _mentions_references(schema: Mapping[str, Any]) -> bool:
    known = _REFERRING.get(id(schema))
    if known is None:
        known = _REFERRING[id(schema)] = (schema, REF_KEYWORD in json.dumps(schema, default=str))
    return known[1]
