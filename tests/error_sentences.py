"""One table of (schema, value, expected errors) that both the runtime's sentences
(runtime/schema_errors.py) and the editor page's (editor/static/schema.js ``check``)
must produce: the same words in `portless validate` and in the form."""

from __future__ import annotations

from typing import Any

PERCENT_BAND: dict[str, Any] = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^\\d+%$"}],
    "x-error": 'must be a number (0 or more) or a percentage like "10%"'}
TOGGLE: dict[str, Any] = {"oneOf": [{"const": False}, {
    "type": "object", "additionalProperties": False,
    "properties": {"ca_file": {"type": "string"}}}]}

CASES: list[tuple[str, dict[str, Any], Any, list[tuple[str, str]]]] = [
    # name, schema, value, [(pointer, sentence)]
    ("band-word", PERCENT_BAND, "wide",
     [("", 'must be a number (0 or more) or a percentage like "10%"')]),
    ("band-negative", PERCENT_BAND, -1,
     [("", 'must be a number (0 or more) or a percentage like "10%"')]),
    ("choice-from-titles", {"oneOf": [{"type": "number", "title": "a number"},
                                      {"type": "string", "title": 'a percentage like "10%"'}]},
     True, [("", 'must be a number or a percentage like "10%"')]),
    ("choice-from-keywords", {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 9},
                                        {"const": "auto"}]},
     "x", [("", 'must be a whole number from 1 to 9 or "auto"')]),
    ("toggle-inner-field", TOGGLE, {"ca_file": 3}, [("/ca_file", "must be text")]),
    ("toggle-wrong-kind", TOGGLE, "yes", [("", "must be false or an object")]),
    ("enum", {"enum": ["json", "text", "raw"]}, "xml",
     [("", 'must be one of "json", "text" or "raw"')]),
    ("enum-numbers", {"enum": [0, 1, 2]}, 3, [("", "must be one of 0, 1 or 2")]),
    ("const", {"const": 1}, 2, [("", "must be 1")]),
    ("type", {"type": "number"}, "x", [("", "must be a number")]),
    ("types", {"type": ["integer", "null"]}, "x", [("", "must be a whole number or null")]),
    ("minimum", {"type": "number", "minimum": 0}, -1, [("", "must be at least 0")]),
    ("maximum", {"type": "integer", "maximum": 65535}, 70000, [("", "must be at most 65535")]),
    ("exclusive-minimum", {"type": "number", "exclusiveMinimum": 0}, 0,
     [("", "must be more than 0")]),
    ("exclusive-maximum", {"type": "number", "exclusiveMaximum": 1.5}, 2,
     [("", "must be less than 1.5")]),
    ("not-empty", {"type": "string", "minLength": 1}, "", [("", "must not be empty")]),
    ("max-length", {"type": "string", "maxLength": 3}, "abcd",
     [("", "must be at most 3 characters long")]),
    ("pattern-x-error", {"type": "string", "pattern": "^[a-z]+$",
                         "x-error": "must be lower-case letters"}, "A1",
     [("", "must be lower-case letters")]),
    ("pattern-description", {"type": "string", "pattern": "^[a-z]+$",
                             "description": "lower-case letters, such as valve"}, "A1",
     [("", "is not in the form this field takes: lower-case letters, such as valve")]),
    ("pattern-end-is-the-end", {"type": "string", "pattern": "^[a-z]+$",
                                "x-error": "must be lower-case letters"}, "valve\n",
     [("", "must be lower-case letters")]),
    ("required", {"type": "object", "required": ["broker"],
                  "properties": {"broker": {"type": "string"}}}, {},
     [("/broker", "required field is missing")]),
    ("unknown-field", {"type": "object", "additionalProperties": False,
                       "properties": {"topic": {"type": "string"}}}, {"colour": 1},
     [("/colour", "unknown field 'colour'")]),
    ("unknown-field-close", {"type": "object", "additionalProperties": False,
                             "properties": {"separate_topics": {}, "scale": {}}},
     {"separate_topic": 1}, [("/separate_topic", "unknown field 'separate_topic'; did you "
                                                 "mean 'separate_topics'?")]),
    ("unknown-field-not-close", {"type": "object", "additionalProperties": False,
                                 "properties": {"scale": {}}}, {"change": 1},
     [("/change", "unknown field 'change'")]),
    ("enum-of-text-given-a-number", {"type": "string", "enum": ["a", "b"]}, 5,
     [("", 'must be one of "a" or "b"')]),
    ("min-items", {"type": "array", "minItems": 1, "items": {"type": "string"}}, [],
     [("", "must hold at least 1 item")]),
    ("min-properties", {"type": "object", "minProperties": 1}, {},
     [("", "must hold at least 1 field")]),
    ("max-properties", {"type": "object", "maxProperties": 2}, {"a": 1, "b": 2, "c": 3},
     [("", "must hold at most 2 fields")]),
    ("list-item", {"type": "array", "items": {"type": "string"}}, ["a", 2],
     [("/1", "must be text")]),
    ("nested", {"type": "object", "properties": {"tls": {
        "type": "object", "properties": {"port": {"type": "integer", "minimum": 1}}}}},
     {"tls": {"port": 0}}, [("/tls/port", "must be at least 1")]),
]
