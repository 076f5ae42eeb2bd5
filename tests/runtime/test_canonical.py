"""The canonical text: numbers as JavaScript writes them, and the remembered node texts
never go stale."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from portless.runtime import canonical_text
from portless.runtime.canonical import number_text

NUMBER_FORMS: list[tuple[float | int, str]] = [
    (1.0, "1"), (-0.0, "0"), (0.5, "0.5"), (100.0, "100"), (-2.5, "-2.5"),
    (0.1 + 0.2, "0.30000000000000004"), (123.456, "123.456"),
    (1e16, "10000000000000000"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
    (1.5e22, "1.5e+22"), (1e-6, "0.000001"), (0.00001, "0.00001"), (1e-7, "1e-7"),
    (-1.5e-7, "-1.5e-7"), (5e-324, "5e-324"), (1.7976931348623157e308,
                                               "1.7976931348623157e+308"),
    (7, "7"), (-12, "-12"), (2**53, "9007199254740992"),
]
"""Each number and the text JSON.stringify gives it; the browser test checks the same
table against Chromium, so both writers agree."""


@pytest.mark.parametrize(("value", "text"), NUMBER_FORMS, ids=[t for _, t in NUMBER_FORMS])
def test_numbers_are_written_as_javascript_writes_them(value: float, text: str) -> None:
    written = canonical_text({"version": 1, "nodes": [{"id": "a", "type": "t",
                                                       "config": {"v": value}}]})
    assert f'"v": {text}\n' in written
    if isinstance(value, float):
        assert number_text(value) == text
    assert json.loads(text) == value


def test_an_integral_float_and_the_integer_are_one_text() -> None:
    as_float = {"version": 1, "nodes": [{"id": "f", "type": "t", "config": {"band": 1.0},
                                         "wires": [[]], "x": 10.0, "y": 20}]}
    as_int = copy.deepcopy(as_float)
    as_int["nodes"][0]["config"]["band"] = 1
    assert canonical_text(as_float) == canonical_text(as_int)


def flow(count: int) -> dict[str, Any]:
    return {"version": 1, "name": "n", "nodes": [
        {"id": f"n{i}", "type": "t", "config": {"band": i / 2, "list": [i, [i]]},
         "wires": [[f"n{i + 1}"]], "x": i, "y": i} for i in range(count)]}


def test_a_node_changed_in_place_is_written_anew() -> None:
    document = flow(5)
    before = canonical_text(document)
    document["nodes"][2]["config"]["band"] = 9
    after = canonical_text(document)
    assert after == before.replace('"band": 1,', '"band": 9,')
    assert canonical_text(json.loads(after)) == after


def test_remembered_texts_give_the_same_bytes_as_a_fresh_write() -> None:
    first = flow(50)
    second = copy.deepcopy(first)
    second["nodes"][10]["x"] = 999
    second["nodes"].insert(3, {"id": "new", "type": "t", "config": {}})
    expected = canonical_text(second)
    canonical_text(first)  # remembers first's nodes
    assert canonical_text(second) == expected
    assert canonical_text(json.loads(expected)) == expected


@pytest.mark.parametrize("document", [
    {"version": 1, "nodes": []},
    {"version": 1, "nodes": [1, {"id": "a"}]},
    {"nodes": [{"id": "a", "type": "t"}], "extra": {"b": [1.0, {"c": None}]}, "version": 1},
])
def test_odd_documents_are_written_like_any_other(document: dict[str, Any]) -> None:
    text = canonical_text(document)
    assert text.endswith("\n")
    assert canonical_text(json.loads(text)) == text
