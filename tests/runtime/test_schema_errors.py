"""Schema errors in words: what is allowed, never the validator's internals or a raw
regular expression (the editor's form says the same: tests/editor/test_error_sentences.py)."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime.schema_dialect import SchemaValidator
from portless.runtime.schema_errors import describe
from tests.error_sentences import CASES


def sentences(schema: dict[str, Any], value: Any) -> list[tuple[str, str]]:
    found = []
    for error in SchemaValidator(schema).iter_errors(value):
        for pair in describe(error, list(error.absolute_path)):
            if pair not in found:
                found.append(pair)
    return found


@pytest.mark.parametrize(("schema", "value", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_error_says_what_is_allowed(schema: dict[str, Any], value: Any,
                                         expected: list[tuple[str, str]]) -> None:
    assert sentences(schema, value) == expected


def test_an_unknown_field_suggests_only_a_close_name() -> None:
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"separate_topics": {}, "scale": {}}}
    assert sentences(schema, {"separate_topic": 1, "change": 2}) == [
        ("/separate_topic", "unknown field 'separate_topic'; did you mean 'separate_topics'?"),
        ("/change", "unknown field 'change'")]
