"""join: Node-RED's 17-split_spec.js (its JOIN part) case by case as table rows, then
the bounds (forged counts and indexes, too many held) and bad config."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.runtime import FlowInvalid
from portless.testing import FlowHarness, run_node
from tests.nodes.core.sequence_rows import Row, buffer, check_row, heard, row

TYPE = "join"


def seq(values: list[Any], sequence_id: Any = 1, count: int | None = None,
        **more: Any) -> list[dict[str, Any]]:
    """Messages of one sequence, in index order, each with msg.parts."""
    total = len(values) if count is None else count
    return [{"payload": value, "parts": {"id": sequence_id, "index": index, "count": total,
                                         **more}} for index, value in enumerate(values)]


def order(messages: list[dict[str, Any]], *indexes: int) -> list[dict[str, Any]]:
    return [messages[index] for index in indexes]


def reduce(expression: str, initial: dict[str, Any] | None = None, **more: Any
           ) -> dict[str, Any]:
    return {"mode": "reduce", "reduce_expression": expression,
            "reduce_initial": initial or {"kind": "number", "value": 0}, **more}


def manual(**config: Any) -> dict[str, Any]:
    return {"mode": "manual", **config}


FOUR = order(seq([1, 2, 3, 4], 222), 2, 1, 3, 0)
"""Node-RED's reduce input: payloads 3, 2, 4, 1 at indexes 2, 1, 3, 0."""
REDUCED = {"parts": {"id": 222, "index": 3, "count": 4}}
"""The message a reduce of FOUR sends (its last in index order), without its payload."""
ABC = [{"payload": "A", "parts": {"id": 1, "type": "string", "ch": ",", "index": i,
                                  "count": 4}} for i in range(4)]


def initial(kind: str, value: Any, result: Any, **more: Any) -> Any:
    """Node-RED's reduce init-type cases: `$A` over FOUR is the initial value."""
    return row(f"reduce-initial-{kind}", reduce("$A", {"kind": kind, "value": value}),
               FOUR, [{"payload": result, **REDUCED}], **more)


# --- Node-RED's 17-split_spec.js, "JOIN node" -------------------------------------------
NODE_RED_CASES = [
    row("auto-text", {"build": "string", "joiner": ","},
        seq(list("ABCD"), type="string", ch=","), [{"payload": "A,B,C,D"}]),
    row("auto-text-ignores-the-joiner-config", {"join_with": "bytes", "joiner_bytes": [44]},
        seq(list("ABCD"), type="string", ch=","), [{"payload": "A,B,C,D"}]),
    row("auto-bytes", {}, seq([b"A", b"B", b"C", b"D"], type="buffer", ch=b"-"),
        [{"payload": buffer("A-B-C-D")}]),
    row("manual-array-after-count", manual(count=3, joiner=","),
        [{"payload": 1}, {"payload": True}, {"payload": {"a": 1}}],
        [{"payload": [1, True, {"a": 1}]}]),
    row("manual-array-ignores-parts-index", manual(count=3, joiner=","),
        [{"payload": 1, "parts": {"index": 3}}, {"payload": True, "parts": {"index": 0}},
         {"payload": {"a": 1}, "parts": {"index": 9}}],
        [{"payload": [1, True, {"a": 1}]}]),
    row("manual-array-with-a-bytes-joiner", manual(count=3, join_with="bytes"),
        [{"payload": 1}, {"payload": True}, {"payload": {"a": 1}}],
        [{"payload": [1, True, {"a": 1}]}]),
    row("auto-array-in-a-nested-property", {},
        [{"foo": {"bar": c}, "parts": {"id": 1, "type": "array", "len": 1, "index": i,
                                        "count": 4, "property": "foo.bar"}}
         for i, c in enumerate("ABCD")],
        [{"foo": {"bar": ["A", "B", "C", "D"]}}]),
    row("manual-texts-into-bytes", manual(count=2, build="buffer", join_with="bytes"),
        [{"payload": "hello"}, {"payload": "world"}], [{"payload": buffer("helloworld")}]),
    row("manual-object-after-count", manual(count=5, build="object"),
        [{"payload": 1, "topic": "a"}, {"payload": "2", "topic": "b"},
         {"payload": True, "topic": "c"}, {"payload": {"e": 5}, "topic": "d"},
         {"payload": {"e": 7}, "topic": "d"}, {"payload": {"f": 6}, "topic": "g"}],
        [{"topic": "g", "payload": {"a": 1, "b": "2", "c": True, "d": {"e": 7},
                                    "g": {"f": 6}}}]),
    row("manual-merge", manual(count=5, build="merged"),
        [{"payload": {"a": 9}, "topic": "f"}, {"payload": {"a": 1}, "topic": "a"},
         {"payload": {"b": 9}, "topic": "b"}, {"payload": {"b": 2}, "topic": "b"},
         {"payload": {"c": 3}, "topic": "c"}, {"payload": {"d": 4}, "topic": "d"},
         {"payload": {"e": 5}, "topic": "e"}],
        [{"topic": "e", "payload": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}}]),
    row("manual-merge-nested-property", manual(count=5, build="merged", property="foo.bar"),
        [{"foo": {"bar": {k: v}, "topic": t}} for k, v, t in
         [("a", 9, "f"), ("a", 1, "a"), ("b", 9, "b"), ("b", 2, "b"), ("c", 3, "c"),
          ("d", 4, "d"), ("e", 5, "e")]],
        [{"foo": {"bar": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, "topic": "e"}}]),
    row("manual-merge-whole-messages", manual(count=6, build="merged", whole_message=True),
        [{"payload": 1, "topic": "f"}, {"payload": 2, "topic": "a"},
         {"payload": 3, "foo": "b"}, {"payload": 4, "bar": "b"}, {"payload": 5, "aha": "c"},
         {"payload": 6, "foo": "d"}, {"payload": 7, "bingo": "e"}],
        [{"payload": {"payload": 7, "topic": "", "foo": "d", "bar": "b", "aha": "c",
                      "bingo": "e"}, "foo": "d", "bar": "b", "aha": "c", "bingo": "e"}]),
    row("manual-accumulate-merged", manual(count=3, build="merged", accumulate=True),
        [{"payload": {k: v}, "topic": t} for k, v, t in
         [("a", 1, "a"), ("b", 2, "b"), ("c", 3, "c"), ("a", 3, "d"), ("b", 2, "e"),
          ("c", 1, "f")]],
        [{"topic": t, "payload": p} for t, p in [
            ("c", {"a": 1, "b": 2, "c": 3}), ("d", {"a": 3, "b": 2, "c": 3}),
            ("e", {"a": 3, "b": 2, "c": 3}), ("f", {"a": 3, "b": 2, "c": 1})]]),
    row("manual-accumulate-reset", manual(count=3, build="merged", accumulate=True),
        [{"payload": {k: v}, "topic": k, **more} for k, v, more in
         [("a", 1, {}), ("b", 2, {}), ("c", 3, {}), ("d", 4, {"complete": True}),
          ("e", 2, {}), ("f", 1, {"complete": True}), ("g", 2, {}), ("h", 1, {})]]
        + [{"reset": True}]
        + [{"payload": {k: v}, "topic": k} for k, v in [("g", 2), ("h", 1), ("i", 3)]],
        [{"topic": "c", "payload": {"a": 1, "b": 2, "c": 3}},
         {"topic": "d", "payload": {"a": 1, "b": 2, "c": 3, "d": 4}},
         {"topic": "f", "payload": {"e": 2, "f": 1}},
         {"topic": "i", "payload": {"g": 2, "h": 1, "i": 3}}]),
    row("manual-accumulate-object", manual(count=4, build="object", accumulate=True,
                                           key_property="foo"),
        [{"payload": 2, "foo": "b"}, {"payload": 3, "foo": "c"}, {"reset": True},
         {"payload": 1, "foo": "a"}, {"payload": 2, "foo": "b"}, {"payload": 3, "foo": "c"},
         {"payload": 4, "foo": "d"}],
        [{"foo": "d", "payload": {"a": 1, "b": 2, "c": 3, "d": 4}}]),
    row("manual-text-after-timeout", manual(build="string", timeout=0.05, joiner=","),
        [{"payload": "a"}, {"payload": "b"}, {"payload": "c"}], [{"payload": "a,b,c"}]),
    row("manual-text-at-complete", manual(build="string", timeout=5, joiner="\n"),
        [{"payload": "Hello"}, {"payload": "NodeRED"}, {"payload": "World"},
         {"payload": "", "complete": True}], [{"payload": "Hello\nNodeRED\nWorld\n"}]),
    row("manual-whole-messages-after-count", manual(count=3, whole_message=True),
        [{"payload": "a"}, {"payload": "b"}, {"payload": "c"}],
        [{"payload": [{"payload": "a"}, {"payload": "b"}, {"payload": "c"}]}]),
    row("auto-array-out-of-order", {}, order(seq([1, 2, 3, 4], 111), 2, 1, 3, 0),
        [{"payload": [1, 2, 3, 4]}]),
    row("auto-object-out-of-order", {},
        order([{"payload": v, "parts": {"index": v - 1, "count": 4, "id": 222, "key": k,
                                         "type": "object"}}
               for k, v in zip("abcd", [1, 2, 3, 4], strict=True)], 2, 1, 3, 0),
        [{"payload": {"c": 3, "b": 2, "d": 4, "a": 1}}]),
    row("auto-complete-early-leaves-a-hole", {"timeout": 0.25},
        [*order(seq([1, 2, 3, 4], 444), 2, 1),
         {"payload": 4, "parts": {"index": 3, "count": 4, "id": 444}, "complete": True}],
        [{"payload": [None, 2, 3, 4]}]),
    row("manual-array-at-complete", manual(timeout=1, build="array"),
        [{"payload": 1, "topic": "A"}, {"payload": 2, "topic": "B"},
         {"payload": 3, "topic": "C"}, {"complete": True}],
        [{"payload": [1, 2, 3]}]),
    row("manual-object-at-complete", manual(timeout=1, build="object"),
        [{"payload": 1, "topic": "A"}, {"payload": 2, "topic": "B"},
         {"payload": 3, "topic": "C"}, {"complete": True}],
        [{"topic": "C", "payload": {"A": 1, "B": 2, "C": 3}}]),
    row("auto-text-into-a-word", {},
        order(seq(list("abcd"), 555, type="string", ch=""), 0, 3, 2, 1),
        [{"payload": "abcd"}]),
    row("reduce-sum", reduce("$A+payload"), FOUR, [{"payload": 10, **REDUCED}]),
    row("reduce-count-only-in-the-last-part", reduce("$A+payload"),
        [{"payload": p, "parts": {"index": i, "id": 222}} for p, i in [(3, 2), (2, 1)]]
        + [{"payload": 4, "parts": {"index": 3, "count": 4, "id": 222}},
           {"payload": 1, "parts": {"index": 0, "id": 222}}],
        [{"payload": 10, "parts": {"index": 3, "count": 4, "id": 222}}]),
    initial("string", "xyz", "xyz"),
    initial("number", 10, 10),
    initial("boolean", True, True),
    initial("json", {"x": "vx", "y": "vy", "z": "vz"}, {"x": "vx", "y": "vy", "z": "vz"}),
    initial("jsonata", "1+2+3", 6),
    initial("env", "NR_XYZ", "nr_xyz", env={"NR_XYZ": "nr_xyz"}),
    initial("flow", "foo", "bar", flow_context={"foo": "bar"}),
    initial("global", "foo", "bar", global_context={"foo": "bar"}),
    row("reduce-with-index", reduce("$A+$I"), FOUR, [{"payload": 6, **REDUCED}]),
    row("reduce-with-fixup", reduce("$A+payload", reduce_fixup="$A/$N"),
        order(seq([1, 2, 3, 4, 0], 222), 2, 1, 3, 0, 4),
        [{"payload": 2, "parts": {"id": 222, "index": 4, "count": 5}}]),
    row("reduce-left", reduce("'(' & $A & '+' & payload & ')'",
                              {"kind": "string", "value": "0"}),
        order(seq(["1", "2", "3", "4"], 222), 2, 1, 3, 0),
        [{"payload": "((((0+1)+2)+3)+4)", **REDUCED}]),
    row("reduce-right", reduce("'(' & $A & '+' & payload & ')'",
                               {"kind": "string", "value": "0"}, reduce_right=True),
        order(seq(["1", "2", "3", "4"], 222), 2, 1, 3, 0),
        [{"payload": "((((0+4)+3)+2)+1)", "parts": {"id": 222, "index": 0, "count": 4}}]),
    row("reduce-into-a-list-two-sequences", reduce("$append($A,[payload])",
                                                   {"kind": "json", "value": []}),
        [{"payload": p, "parts": {"index": i, "count": 2, "id": g}}
         for p, i, g in [(1, 0, 222), (2, 1, 222), (3, 2, 333), (4, 3, 333)]],
        [{"payload": [1, 2], "parts": {"index": 1, "count": 2, "id": 222}},
         {"payload": [3, 4], "parts": {"index": 3, "count": 2, "id": 333}}]),
    row("reduce-too-many-held", reduce("$A+payload", max_messages=2), FOUR, [],
        errors=["more than 2 messages held for their sequences to complete: the oldest "
                "sequence (3 messages) dropped"], node_red=False),
    row("reduce-with-flow-context", reduce("$A+(payload*$flowContext(\"two\"))",
                                           {"kind": "jsonata",
                                            "value": "$flowContext(\"one\")"},
                                           reduce_fixup="$A*$flowContext(\"three\")"),
        FOUR, [{"payload": ((((1 + 1 * 2) + 2 * 2) + 3 * 2) + 4 * 2) * 3, **REDUCED}],
        flow_context={"one": 1, "two": 2, "three": 3}),
    row("reduce-with-global-context", reduce("$A+(payload/$globalContext(\"two\"))",
                                             {"kind": "jsonata",
                                              "value": "$globalContext(\"one\")"},
                                             reduce_fixup="$A*$globalContext(\"three\")"),
        FOUR, [{"payload": ((((1 + 1 / 2) + 2 / 2) + 3 / 2) + 4 / 2) * 3, **REDUCED}],
        global_context={"one": 1, "two": 2, "three": 3}),
    row("reduce-expression-fails", reduce("$uknown()"), [ABC[0] | {"parts": {
        **ABC[0]["parts"], "count": 1}}], [],
        errors=["the reduce expression failed: "]),
    row("reduce-fixup-fails", reduce("$A", reduce_fixup="$unknown()"), [ABC[0] | {"parts": {
        **ABC[0]["parts"], "count": 1}}], [],
        errors=["the reduce expression failed: "]),
    row("auto-list-pieces-flattened", {},
        [{"payload": p, "parts": {"id": 1, "type": "array", "ch": ",", "index": i,
                                  "count": 3, "len": 2}}
         for i, p in enumerate(["ab", "cd", "ef"])],
        [{"payload": ["ab", "cd", "ef"]}]),
    row("auto-bytes-without-ch", {"joiner": ",", "build": "buffer"},
        seq([b"A", b"B", b"C"], type="buffer"), [{"payload": buffer("ABC")}]),
    row("auto-text-with-a-bytes-ch", {"joiner": ",", "build": "buffer"},
        seq([b"A", b"B", b"C"], type="string", ch=b"0"), [{"payload": "A0B0C"}]),
    row("auto-without-parts-id-is-not-joined", {"build": "string"},
        [{"payload": c, "parts": {"type": "string", "ch": ",", "index": i, "count": 2}}
         for i, c in enumerate("AB")], [],
        warnings=["a message without msg.parts.id cannot be joined"] * 2),
    row("auto-a-repeated-index-replaces", {},
        [{"payload": c, "parts": {"id": 1, "type": "array", "ch": ",", "index": i,
                                  "count": 2}} for c, i in zip("ABCD", [0, 0, 0, 1],
                                                               strict=True)],
        [{"payload": ["C", "D"]}]),
    row("auto-reset-halfway", {},
        [{"payload": c, "parts": {"id": 1, "type": "array", "ch": ",", "index": i,
                                  "count": 2}} for c, i in [("A", 0), ("B", 0)]]
        + [{"reset": True}]
        + [{"payload": c, "parts": {"id": 1, "type": "array", "ch": ",", "index": i,
                                    "count": 2}} for c, i in [("C", 1), ("D", 0)]],
        [{"payload": ["D", "C"]}]),
    row("auto-out-of-order-count-in-one-message", {},
        [{"payload": i, "parts": {"id": "x", "index": i, **({"count": 5} if i == 4 else {})}}
         for i in (1, 2, 3, 4, 0)],
        [{"payload": [0, 1, 2, 3, 4]}]),
]
"""Of the spec's 64 JOIN cases: these 51, the two bad expressions below
(test_a_bad_expression_is_refused), the restarted timeout, the chained split-join and
the five messaging cases below; N/A: "should be loaded" (JavaScript object fields),
the reduce initial value of type `bin` (typed values have no bytes kind) and the two
"persistable context" cases ($flowContext(key, store): no per-call store names). The five join
"messaging API" cases are test_a_complete_node_hears... (the spec's seven split ones
are counted in test_split.py)."""

# --- beyond the spec ---------------------------------------------------------------------
MORE_CASES = [
    row("reset-of-an-auto-sequence-only", {},
        [seq(["a", "b"], "A")[0], seq(["x", "y"], "B")[0],
         {"reset": True, "parts": {"id": "A"}}, seq(["a", "b"], "A")[1],
         seq(["x", "y"], "B")[1]], [{"payload": ["x", "y"]}]),
    row("manual-keyless-object-message-warns", manual(build="object", count=2),
        [{"payload": 1, "topic": "a"}, {"payload": 2}, {"payload": 3, "topic": "b"}],
        [{"topic": "b", "payload": {"a": 1, "b": 3}}],
        warnings=["a message without msg.topic cannot be added to an object"]),
    row("manual-merge-of-a-non-object-warns", manual(build="merged", count=1),
        [{"payload": 5}, {"payload": {"a": 1}}], [{"payload": {"a": 1}}],
        warnings=["cannot merge a value that is not an object"]),
    row("manual-number-into-bytes-is-an-error", manual(build="buffer", count=2),
        [{"payload": 5}, {"payload": b"a"}, {"payload": b"b"}],
        [{"payload": buffer("a\nb")}], errors=["cannot join int into bytes"]),
    row("manual-use-parts-groups-by-id", manual(use_parts=True),
        seq(["a", "b"], "A") + seq(["x"], "B"),
        [{"payload": ["a", "b"]}, {"payload": ["x"]}]),
    row("manual-keeps-an-outer-parts", manual(count=2),
        [{"payload": 1, "parts": {"id": "in", "index": 0, "parts": {"id": "out",
                                                                     "index": 5}}},
         {"payload": 2, "parts": {"id": "in", "index": 1, "parts": {"id": "out",
                                                                     "index": 5}}}],
        [{"payload": [1, 2], "parts": {"id": "out", "index": 5}}]),
    row("reduce-passes-messages-without-parts", reduce("$A+payload"), [{"payload": 7}],
        [{"payload": 7}]),
    row("auto-text-joins-values-as-text", {},
        seq([1, None, True, 2.5], type="string", ch="-"), [{"payload": "1--true-2.5"}]),
    row("nan-joins-as-text", manual(build="string", count=2, joiner=","),
        [{"payload": float("nan")}, {"payload": float("inf")}], [{"payload": "NaN,Infinity"}],
        node_red=False),
]

HOSTILE_CASES = [
    row("a-forged-count-allocates-nothing", {"max_messages": 100},
        [{"payload": "a", "parts": {"id": 1, "index": 0, "count": 10 ** 12}},
         {"payload": "b", "parts": {"id": 1, "index": 1, "count": 10 ** 12},
          "complete": True}],
        [{"payload": ["a", "b"]}], node_red=False),
    row("a-forged-index-is-refused", {"max_messages": 100},
        [{"payload": "a", "parts": {"id": 1, "index": 10 ** 12 - 1, "count": 10 ** 12}}],
        [], errors=["msg.parts.index 999999999999 is not a whole number from 0 to 99 "
                    "(max_messages): dropped"], node_red=False),
    row("a-negative-index-is-refused", {},
        [{"payload": "a", "parts": {"id": 1, "index": -1, "count": 2}}], [],
        errors=["msg.parts.index -1 is not a whole number"], node_red=False),
    row("a-nan-index-is-appended", {},
        [{"payload": "a", "parts": {"id": 1, "index": float("nan"), "count": 2}},
         {"payload": "b", "parts": {"id": 1, "index": "x", "count": 2}}],
        [{"payload": ["a", "b"]}], node_red=False),
    row("a-nan-count-never-completes", {},
        [{"payload": "a", "parts": {"id": 1, "index": 0, "count": float("nan")}}],
        [], node_red=False),
    row("too-many-held-drops-the-oldest-group", {"max_messages": 4},
        [*seq(["a", "b"], "A", count=3)[:2], *seq(["x", "y"], "B", count=3)[:2],
         *seq(["p", "q", "r"], "C")],
        [{"payload": ["p", "q", "r"]}],
        errors=["more than 4 messages held: the oldest group (2 values) dropped"] * 2,
        node_red=False),
    row("deep-payload-is-carried", manual(count=1),
        [{"payload": (deep := [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]])}],
        [{"payload": [deep]}]),
]

CASES = NODE_RED_CASES + MORE_CASES + HOSTILE_CASES


@pytest.mark.parametrize("case", CASES)
def test_join(case: Row) -> None:
    check_row(TYPE, case)


@pytest.mark.parametrize(("config", "field"), [
    (reduce("invalid expr"), "reduce_expression"),
    (reduce("$A", reduce_fixup="invalid expr"), "reduce_fixup"),
    ({"mode": "zip"}, "mode"),
    ({"timeout": -1}, "timeout"),
    ({"joiner_bytes": [300]}, "joiner_bytes"),
])
def test_a_bad_expression_is_refused(config: dict[str, Any], field: str) -> None:
    with pytest.raises(FlowInvalid) as caught:
        run_node(TYPE, config)
    assert f"node node-under-test: /config/{field}" in str(caught.value)


async def test_restart_timeout_starts_the_wait_again() -> None:
    document = {"version": 1, "nodes": [{"id": "j", "type": TYPE, "config": manual(
        build="string", timeout=0.2, joiner=",")}]}
    async with FlowHarness(document) as h:
        loop = asyncio.get_running_loop()
        started = loop.time()
        h.inject("j", {"payload": "a"})
        await asyncio.sleep(0.15)  # the test's own pacing, not a wait for the node
        h.inject("j", {"payload": "b", "restartTimeout": True})
        h.inject("j", {"payload": "c"})
        [joined] = await h.wait_for("j", 1, timeout=2)
        assert joined["payload"] == "a,b,c"
        assert loop.time() - started >= 0.34  # 0.15 + a fresh 0.2, not the first 0.2


async def test_chained_split_split_join_join() -> None:
    document = {"version": 1, "nodes": [
        {"id": "s1", "type": "split", "wires": [["s2"]]},
        {"id": "s2", "type": "split", "wires": [["j1"]]},
        {"id": "j1", "type": TYPE, "wires": [["j2"]]},
        {"id": "j2", "type": TYPE}]}
    async with FlowHarness(document) as h:
        h.inject("s1", {"payload": [[1, 2, 3], "a\nb\nc", [7, 8, 9]]})
        [joined] = await h.wait_for("j2", 1, timeout=2)
        assert joined["payload"] == [[1, 2, 3], "a\nb\nc", [7, 8, 9]]
        assert "parts" not in joined


def test_a_stop_drops_what_is_held() -> None:
    run = run_node(TYPE, manual(count=3), [{"payload": 1}])
    assert run.outputs == [[]]
    assert run.errors == []


STRING_PARTS = [{"payload": c, "parts": {"id": 1, "type": "string", "ch": ",", "index": i,
                                         "count": 3}} for i, c in enumerate("ABC")]
MESSAGING = [
    ("all-joined", {"timeout": 1}, STRING_PARTS, 3, 0),
    ("reset", {"timeout": 1},
     [*STRING_PARTS[:2], {"payload": "dummy", "reset": True, "parts": {"id": 1}}], 3, 0),
    ("timed-out", manual(joiner=",", build="string", timeout=0.05),
     [{"payload": "A"}, {"payload": "B"}], 2, 0),
    ("all-reduced", reduce("$A+payload"),
     [{"payload": p, "parts": {"index": i, "count": 3, "id": 222}}
      for p, i in [(3, 2), (2, 1), (4, 0)]], 3, 0),
    ("overflow", reduce("$A+payload", max_messages=3),
     [{"payload": p, "parts": {"index": i, "count": 5, "id": 222}}
      for p, i in [(3, 2), (2, 1), (4, 0), (1, 3)]], 3, 1),
]


@pytest.mark.parametrize(("name", "config", "inputs", "completed", "caught"), MESSAGING,
                         ids=[case[0] for case in MESSAGING])
async def test_a_complete_node_hears_when_join_is_done(
        name: str, config: dict[str, Any], inputs: list[dict[str, Any]],
        completed: int, caught: int) -> None:
    done, errors = await heard(TYPE, config, inputs, completed, caught)
    assert len(done) == completed
    assert len(errors) == caught


async def test_a_split_at_its_largest_default_joins_back() -> None:
    document = {"version": 1, "nodes": [
        {"id": "s", "type": "split", "config": {"split_by": "length", "length": 1},
         "wires": [["j"]]},
        {"id": "j", "type": TYPE}]}
    text = "0123456789" * 1000  # 10,000 pieces: split's max_parts and join's max_messages
    async with FlowHarness(document) as h:
        h.inject("s", {"payload": text})
        [joined] = await h.wait_for("j", 1, timeout=20)
    assert joined["payload"] == text
    assert [e for e in h.events if e.kind == "error"] == []
