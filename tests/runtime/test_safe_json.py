"""safe_json: a document that is one lone value (a number, a text) is read and checked as
an object or a list is (the json node parses such payloads)."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import JsonProblems, safe_json_loads


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("1962", 1962), ('"hi"', "hi"), ("null", None), ("2.5", 2.5)])
def test_a_lone_value_is_read(text: str, value: Any) -> None:
    assert safe_json_loads(text) == value


@pytest.mark.parametrize(("text", "problem"), [
    ("9" * 5000, "integer out of range"), ("NaN", "must be a finite number"),
    ('"\\ud800"', "lone UTF-16 surrogate")])
def test_a_lone_value_is_refused_as_a_nested_one_is(text: str, problem: str) -> None:
    with pytest.raises(JsonProblems, match=problem):
        safe_json_loads(text)
