"""Schema errors in words a user can act on: what is allowed, never the validator's
internals ("is not valid under any of the given schemas") or a raw regular expression.

The editor's page says the same sentences for the same schemas (``check`` in
editor/static/schema.js); tests/editor/test_error_sentences.py runs both over one
table of cases. A schema can say it better itself: ``x-error`` on a (sub)schema is the
sentence for any value that fails its own keywords; a branch's ``title`` names it in
"must be A or B".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from jsonschema import ValidationError

from .expressions import JSONATA_KEYWORD
from .node import Node
from .properties import PROPERTY_PATH_KEYWORD
from .python_code import PYTHON_KEYWORD, PYTHON_SCRIPT_KEYWORD
from .regex import REGEX_KEYWORD
from .registry import Registry, closest_name
from .schedule import CRON_KEYWORD, TIME_ZONE_KEYWORD

ERROR_KEYWORD = "x-error"
"""Schema keyword: the sentence to say when a value fails this schema's own keywords."""
_TEXT_SENTENCES = {
    PROPERTY_PATH_KEYWORD: "must be a message property path such as payload, "
                           "payload.values[2] or payload[\"a b\"]",
    JSONATA_KEYWORD: "must be a JSONata expression",
    REGEX_KEYWORD: "must be a regular expression",
    CRON_KEYWORD: "must be a cron expression",
    TIME_ZONE_KEYWORD: "must be a time zone",
    PYTHON_KEYWORD: "must be Python code",
    PYTHON_SCRIPT_KEYWORD: "must be Python code",
}
"""What a field with each text keyword must be; the check's own reason follows it."""

TYPE_WORDS = {"string": "text", "number": "a number", "integer": "a whole number",
              "boolean": "true or false", "null": "null", "object": "an object",
              "array": "a list"}
_ABOUT_FIELDS = ("required", "additionalProperties", "dependentRequired")
"""Keywords whose errors are about another field (a missing or unknown one)."""


def config_problems(registry: Registry, cls: type[Node], config: dict[str, Any]
                    ) -> Iterator[tuple[str, str]]:
    """(pointer below /config, sentence) for each way a config (defaults filled in)
    breaks its type's schema, in field order."""
    problems = sorted(registry.validator(cls.type).iter_errors(config), key=error_order)
    for problem in problems:
        yield from describe(problem, list(problem.absolute_path))
    if not problems:
        yield from _type_problems(cls, config)


def _type_problems(cls: type[Node], config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The type's own ``config_errors``; one that raises is an error naming the type,
    never a crash of the checker or the editor."""
    try:
        found = [(str(pointer), str(sentence)) for pointer, sentence in cls.config_errors(config)]
    except Exception as exc:  # a plugin's bug must not take the checker down
        found = [("", f"cannot check this config: {cls.type}'s config_errors raised "
                      f"{type(exc).__name__}: {exc}")]
    yield from found


def error_order(error: ValidationError) -> tuple[str, ...]:
    """Sort key: errors in the order of the fields they are about."""
    return tuple(str(part) for part in error.absolute_path)


def describe(error: ValidationError, path: Sequence[Any]) -> Iterator[tuple[str, str]]:
    """(JSON pointer, sentence) for a schema error at ``path`` (the pointer's parts)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword = str(error.validator)
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        for key in error.instance:
            if key not in known:
                close = closest_name(str(key), known)
                hint = f"; did you mean '{close}'?" if close else ""
                yield pointer_of([*path, key]), f"unknown field '{key}'{hint}"
        return
    if keyword == "required" and isinstance(error.instance, dict):
        for key in schema.get("required", ()):
            if key not in error.instance:
                yield pointer_of([*path, key]), "required field is missing"
        return
    if keyword == "type" and ("enum" in schema or "const" in schema):
        return  # the enum's or const's own error says what is allowed, and says it once
    if isinstance(schema.get(ERROR_KEYWORD), str) and keyword not in _ABOUT_FIELDS:
        yield pointer_of(path), schema[ERROR_KEYWORD]
        return
    if keyword in _TEXT_SENTENCES:
        yield pointer_of(path), f"{_TEXT_SENTENCES[keyword]}: {error.message}"
        return
    if keyword in ("oneOf", "anyOf"):
        yield from _describe_choice(error, path, schema[keyword])
        return
    yield pointer_of(path), sentence(keyword, error.validator_value, schema)


def _describe_choice(error: ValidationError, path: Sequence[Any],
                     branches: list[Any]) -> Iterator[tuple[str, str]]:
    """A value that fits no branch: inside the one object or list branch of its own
    type, say what is wrong there; otherwise say what the choices are."""
    own = own_branch(branches, error.instance) if error.context else None  # else: fits 2
    if own is not None:
        for sub in error.context or ():
            if sub.relative_schema_path and sub.relative_schema_path[0] == own:
                yield from describe(sub, [*path, *sub.relative_path])
        return
    yield pointer_of(path), "must be " + either(words(branch) for branch in branches)


def own_branch(branches: list[Any], value: Any) -> int | None:
    """The index of the only object or list branch that takes the value's JSON type."""
    kind = json_type(value)
    if kind not in ("object", "array"):
        return None
    matching = [index for index, branch in enumerate(branches)
                if isinstance(branch, dict) and kind in types_of(branch)]
    return matching[0] if len(matching) == 1 else None


def sentence(keyword: str, limit: Any, schema: dict[str, Any]) -> str:
    """The sentence for a value that fails one keyword (whose value is ``limit``)."""
    if keyword == "type":
        return "must be " + either(TYPE_WORDS.get(kind, kind) for kind in _listed(limit))
    if keyword == "const":
        return f"must be {show(limit)}"
    if keyword == "enum":
        return f"must be {one_of(limit)}"
    if keyword == "pattern":
        about = schema.get("description")
        return "is not in the form this field takes" + (f": {about}" if about else "")
    if keyword in _LIMITS:
        return _LIMITS[keyword].format(number(limit), "" if limit == 1 else "s")
    if keyword == "minLength" and limit == 1:
        return "must not be empty"
    if keyword in _LENGTHS:
        return _LENGTHS[keyword].format(limit, "" if limit == 1 else "s")
    if keyword == "uniqueItems":
        return "must not hold the same item twice"
    if keyword == "format":
        return f"must be a valid {limit}"
    if keyword == "not":
        return "is not allowed here"
    return f"does not fit this field ({keyword}: {show(limit)})"


_LIMITS = {"minimum": "must be at least {0}", "maximum": "must be at most {0}",
           "exclusiveMinimum": "must be more than {0}",
           "exclusiveMaximum": "must be less than {0}",
           "multipleOf": "must be a multiple of {0}"}
_LENGTHS = {"minLength": "must be at least {0} character{1} long",
            "maxLength": "must be at most {0} character{1} long",
            "minItems": "must hold at least {0} item{1}",
            "maxItems": "must hold at most {0} item{1}",
            "minProperties": "must hold at least {0} field{1}",
            "maxProperties": "must hold at most {0} field{1}"}


def words(schema: Any) -> str:
    """What a branch of a choice allows, in words: its title, else from its keywords."""
    if not isinstance(schema, dict):
        return "anything" if schema is True else "nothing"
    if isinstance(schema.get("title"), str):
        return str(schema["title"])
    if "const" in schema:
        return show(schema["const"])
    if isinstance(schema.get("enum"), list):
        return one_of(schema["enum"])
    kinds = types_of(schema)
    if not kinds:
        return "a value of another form"
    said = [TYPE_WORDS.get(kind, kind) for kind in kinds]
    if kinds == ["string"] and "pattern" in schema:
        said = ["text in the form this field takes"]
    low, high = schema.get("minimum"), schema.get("maximum")
    if set(kinds) <= {"number", "integer"} and (low is not None or high is not None):
        said = [said[0] + (f" from {number(low)} to {number(high)}" if low is not None
                           and high is not None else f" of at least {number(low)}"
                           if low is not None else f" of at most {number(high)}")]
    return either(said)


def one_of(values: Sequence[Any]) -> str:
    return show(values[0]) if len(values) == 1 else "one of " + either(map(show, values))


def either(parts: Iterable[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    items = list(parts)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def number(value: Any) -> str:
    """A number as JavaScript prints it (1, not 1.0), so page and CLI say the same."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int | float) else show(value)


def show(value: Any) -> str:
    """A JSON value as JavaScript's JSON.stringify writes it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    if isinstance(value, list):
        return "[" + ",".join(map(show, value)) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{show(item)}"
                              for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def types_of(schema: dict[str, Any]) -> list[str]:
    return _listed(schema.get("type", []))


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def pointer_of(parts: Iterable[Any]) -> str:
    return "".join(f"/{part}" for part in parts)
