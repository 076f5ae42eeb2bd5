"""sort: Node-RED's 18-sort_spec.js case by case as table rows (a list in a property, and
a sequence of messages), then the bound, hostile keys, and the messaging API (when a
complete node hears of a message) in a flow with complete and catch nodes."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import run_node
from tests.nodes.core.sequence_rows import Row, check_row, heard, row

TYPE = "sort"
NUMBERS = ["200", "4", "30", "1000"]
AS_TEXT = ["1000", "200", "30", "4"]
AS_NUMBER = ["4", "30", "200", "1000"]
LETTERED = ["C200", "A4", "B30", "D1000"]


def sequence(values: list[Any], prop: str = "payload") -> list[dict[str, Any]]:
    """Node-RED's sequence input: one message per value, id X, in the values' order."""
    return [{prop: value, "parts": {"id": "X", "index": i, "count": len(values)}}
            for i, value in enumerate(values)]


def sorted_sequence(values: list[Any], prop: str = "payload") -> list[dict[str, Any]]:
    """What sort sends for a sequence whose sorted values are ``values``."""
    return sequence(values, prop)


def four_ways(name: str, config: dict[str, Any], sorted_values: list[str]) -> list[Any]:
    """Node-RED's four cases of one order: payload, msg.data, a sequence by payload, a
    sequence by msg.data."""
    return [
        row(f"{name}-payload", config, [{"payload": NUMBERS}], [{"payload": sorted_values}]),
        row(f"{name}-other-property", {**config, "property": "data"}, [{"data": NUMBERS}],
            [{"data": sorted_values}]),
        row(f"{name}-sequence-by-payload", {**config, "target": "sequence"},
            sequence(NUMBERS), sorted_sequence(sorted_values)),
        row(f"{name}-sequence-by-other-property",
            {**config, "target": "sequence", "key_property": "data"},
            sequence(NUMBERS, "data"), sorted_sequence(sorted_values, "data")),
    ]


def by_expression(expression: str, **more: Any) -> dict[str, Any]:
    return {"key_by": "jsonata", "key_expression": expression, **more}


# --- Node-RED's 18-sort_spec.js ---------------------------------------------------------
NODE_RED_CASES = [
    *four_ways("text-ascending", {}, AS_TEXT),
    *four_ways("text-descending", {"order": "descending"}, AS_NUMBER),
    *four_ways("number-ascending", {"as_number": True}, AS_NUMBER),
    *four_ways("number-descending", {"as_number": True, "order": "descending"}, AS_TEXT),
    row("expression-ascending-property", by_expression("$substring($,1)", property="data"),
        [{"data": LETTERED}], [{"data": ["D1000", "C200", "B30", "A4"]}]),
    row("expression-ascending-sequence", by_expression("$substring(payload,1)",
                                                        target="sequence"),
        sequence(LETTERED), sorted_sequence(["D1000", "C200", "B30", "A4"])),
    row("expression-descending-property", by_expression("$substring($,1)", property="data",
                                                         order="descending"),
        [{"data": LETTERED}], [{"data": ["A4", "B30", "C200", "D1000"]}]),
    row("expression-descending-sequence", by_expression("$substring(payload,1)",
                                                         target="sequence",
                                                         order="descending"),
        sequence(LETTERED), sorted_sequence(["A4", "B30", "C200", "D1000"])),
    row("expression-on-objects", by_expression("val", property="data", as_number=True),
        [{"data": [{"val": v} for v in NUMBERS]}], [{"data": [{"val": v} for v in AS_NUMBER]}]),
    row("expression-with-flow-context", by_expression("$flowContext($)", property="data"),
        [{"data": ["first", "second", "third", "fourth"]}],
        [{"data": ["second", "third", "first", "fourth"]}],
        flow_context={"first": "3", "second": "1", "third": "2", "fourth": "4"}),
    row("expression-with-global-context", by_expression("$globalContext(payload)",
                                                         target="sequence"),
        sequence(["first", "second", "third", "fourth"]),
        sorted_sequence(["second", "fourth", "third", "first"]),
        global_context={"first": "4", "second": "1", "third": "3", "fourth": "2"}),
    row("expression-fails", by_expression("$unknown()", target="sequence"),
        sequence(["A", "B"]), [], errors=["the key expression failed: "]),
    row("too-many-held", {"target": "sequence", "max_messages": 2},
        sequence(["V0", "V1", "V2", "V3"]), [],
        errors=["more than 2 messages held for their sequences to complete: the oldest "
                "sequence (3 messages) dropped"], node_red=False),
    row("a-stop-drops-what-is-held", {"target": "sequence"},
        [{"payload": 0, "parts": {"id": "X", "index": 0, "count": 2}}], []),
]
"""Of the spec's 33 cases: these 26 and the 4 "messaging API" cases
(test_complete_nodes_hear...); N/A: "should be loaded" (JavaScript object fields) and
the two "persistable context" cases ($globalContext(key, store): no per-call store
names in portless). "should clear pending messages on close" is a-stop-drops-what-is-held
(portless logs nothing for it)."""

MORE_CASES = [
    row("not-a-list-is-dropped", {}, [{"payload": "cba"}], []),
    row("missing-property-is-dropped", {}, [{"topic": "t"}], []),
    row("without-parts-is-dropped", {"target": "sequence"}, [{"payload": 1}], []),
    row("equal-keys-keep-their-order", by_expression("k", property="data"),
        [{"data": [{"k": 1, "n": "a"}, {"k": 0, "n": "b"}, {"k": 1, "n": "c"}]}],
        [{"data": [{"k": 0, "n": "b"}, {"k": 1, "n": "a"}, {"k": 1, "n": "c"}]}]),
    row("numbers-without-as-number", {}, [{"payload": [10, 9, 100, -1, 2.5]}],
        [{"payload": [-1, 2.5, 9, 10, 100]}]),
    row("two-sequences-interleaved", {"target": "sequence"},
        [{"payload": p, "parts": {"id": g, "index": i, "count": 2}}
         for p, g, i in [(2, "a", 0), (9, "b", 0), (1, "a", 1), (8, "b", 1)]],
        [{"payload": p, "parts": {"id": g, "index": i, "count": 2}}
         for p, g, i in [(1, "a", 0), (2, "a", 1), (8, "b", 0), (9, "b", 1)]]),
    row("a-forged-count-waits-bounded", {"target": "sequence", "max_messages": 1},
        [{"payload": 1, "parts": {"id": "X", "index": 0, "count": 10 ** 12}},
         {"payload": 2, "parts": {"id": "X", "index": 1, "count": 10 ** 12}}], [],
        errors=["more than 1 messages held"], node_red=False),
    row("nan-and-infinity-keys", {"as_number": True},
        [{"payload": ["3", "x", "-Infinity", "1"]}],
        [{"payload": ["-Infinity", "1", "x", "3"]}]),
    row("deep-items-are-kept-whole", {}, [{"payload": [[[[[[2]]]]], [[[[[1]]]]]]}],
        [{"payload": [[[[[[1]]]]], [[[[[2]]]]]]}]),
]

CASES = NODE_RED_CASES + MORE_CASES


@pytest.mark.parametrize("case", CASES)
def test_sort(case: Row) -> None:
    check_row(TYPE, case)


def test_a_big_list_sorts() -> None:
    values = [(i * 7919) % 100_003 for i in range(100_000)]
    run = run_node(TYPE, {}, [{"payload": values}], timeout=20)
    assert run.outputs[0][0]["payload"] == sorted(values)


# --- the messaging API: when a complete node hears that sort is done with a message -------
MESSAGING = [
    ("property-sent", {}, [{"payload": [1, 3, 2]}], 1, 0),
    ("sequence-sent", {"target": "sequence"},
     [{"payload": 3, "parts": {"id": "A", "index": 0, "count": 2}},
      {"payload": 2, "parts": {"id": "A", "index": 1, "count": 2}}], 2, 0),
    ("overflow-same-sequence", {"target": "sequence", "max_messages": 2},
     [{"payload": p, "parts": {"id": "A", "index": i, "count": 3}}
      for i, p in enumerate([1, 3, 2])], 3, 0),
    ("overflow-other-sequences", {"target": "sequence", "max_messages": 2},
     [{"payload": p, "parts": {"id": g, "index": i, "count": 2}}
      for p, g, i in [(1, "A", 0), (3, "B", 0), (5, "C", 0), (2, "B", 1), (4, "C", 1)]],
     4, 1),
]


@pytest.mark.parametrize(("name", "config", "inputs", "completed", "caught"), MESSAGING,
                         ids=[case[0] for case in MESSAGING])
async def test_complete_nodes_hear_when_sort_is_done(
        name: str, config: dict[str, Any], inputs: list[dict[str, Any]],
        completed: int, caught: int) -> None:
    done, errors = await heard(TYPE, config, inputs, completed, caught)
    assert len(done) == completed
    assert len(errors) == caught
