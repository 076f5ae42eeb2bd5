"""exception-filter: Node-RED's filter (rbe) behaviour case by case, then what portless
adds (deep type-sensitive compare, custom topic property, min_interval, max_silence)."""

from __future__ import annotations

import asyncio
import datetime
import itertools
from typing import Any

import pytest

from portless.runtime import FlowInvalid, Message
from portless.testing import FlowHarness, run_node

TYPE = "exception-filter"


def strict(value: Any) -> Any:
    """A form of a value that compares type-sensitively (True != 1, 1 != "1")."""
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict(item) for item in value]
    return (type(value).__name__, value)


def sent(config: dict[str, Any], inputs: list[Message], keys: tuple[str, ...] = ("payload",)
         ) -> list[Any]:
    """What the node sends for ``inputs``: one value per message, or a tuple of ``keys``."""
    outputs = run_node(TYPE, config, inputs).outputs[0]
    if len(keys) == 1:
        return [out.get(keys[0]) for out in outputs]
    return [tuple(out.get(key) for key in keys) for out in outputs]


def values(*payloads: Any) -> list[Message]:
    return [{"payload": payload} for payload in payloads]


def on(topic: Any, *payloads: Any) -> list[Message]:
    return [{"topic": topic, "payload": payload} for payload in payloads]


def flow(config: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": [{"id": "filter", "type": TYPE, "config": config}]}


# --- Node-RED's rbe_spec.js, case by case ---------------------------------------------
# Each: (config, input messages, what is sent: payloads or (topic, payload) pairs).
NODE_RED_CASES = [
    # "should only send output if payload changes - with multiple topics (rbe)":
    # strings, numbers, objects with keys in another order, booleans, then per-topic state.
    pytest.param(
        {"mode": "changed"},
        [*values("a", "a", "a", 2, 2, {"b": 1, "c": 2}, {"c": 2, "b": 1}, {"c": 2, "b": 1},
                 True, False, False, True),
         *on("a", 1), *on("b", 1), *on("b", 1), *on("a", 1), *on("c", 1)],
        [("", "a"), ("", 2), ("", {"b": 1, "c": 2}), ("", True), ("", False), ("", True),
         ("a", 1), ("b", 1), ("c", 1)],
        id="changed-per-topic"),
    # "should ignore multiple topics if told to (rbe)": one reference for all topics.
    pytest.param(
        {"mode": "changed", "separate_topics": False},
        [*on("a", "a"), *on("b", "a"), *on("c", "a"), *on("a", 2), *on("b", 2),
         *values({"b": 1, "c": 2}, {"c": 2, "b": 1}, {"c": 2, "b": 1}),
         *on("a", True), *on("b", False), *on("c", False), *on("d", True),
         *on("a", 1), *on("b", 1), *on("c", 1), *on("d", 1), *on("a", 2)],
        [("a", "a"), ("a", 2), ("", {"b": 1, "c": 2}), ("a", True), ("b", False),
         ("d", True), ("a", 1), ("a", 2)],
        id="changed-one-reference-for-all-topics"),
    # "should only send output if payload changes - ignoring first value (rbei)".
    pytest.param(
        {"mode": "changed-ignore-initial"},
        [*on("a", "a"), *on("b", "a"), *on("a", "a"), *on("a", "b"), *on("b", "b"),
         *on("a", "c"), *on("b", "c")],
        [("a", "b"), ("b", "b"), ("a", "c"), ("b", "c")],
        id="changed-ignore-initial"),
    # "should send output if queue is reset (rbe)": reset all (reset: true, reset: ""),
    # reset one topic, and a message with neither reset nor payload changes nothing.
    pytest.param(
        {"mode": "changed"},
        [*on("a", "a"), *on("a", "a"), *on("b", "b"), {"reset": True},
         *on("a", "a"), *on("b", "b"), *on("b", "b"), {"topic": "b", "reset": ""},
         *on("b", "b"), *on("a", "a"), {"reset": ""},
         *on("b", "b"), *on("a", "a"), {"topic": "c"},
         *on("b", "b"), *on("a", "a"), *on("c", "c")],
        [("a", "a"), ("b", "b"), ("a", "a"), ("b", "b"), ("b", "b"), ("b", "b"),
         ("a", "a"), ("c", "c")],
        id="reset-all-and-per-topic"),
    # "should only send output if x away from original value (deadbandEq)".
    pytest.param(
        {"mode": "deadband-or-equal", "band": 10, "compare": "last-output"},
        values(0, 2, 4, 6, 8, 10, 15, 20),
        [("", 0), ("", 10), ("", 20)],
        id="deadband-or-equal"),
    # "should only send output if more than x away from original value (deadband)",
    # with leading numbers parsed from text and the original text sent.
    pytest.param(
        {"mode": "deadband", "band": 10},
        values(0, 2, 4, "6 deg", 8, 20, 15, "5 deg"),
        [("", 0), ("", 20), ("", "5 deg")],
        id="deadband-parses-leading-numbers"),
    # "should only send output if more than x% away from original value (deadband)".
    pytest.param(
        {"mode": "deadband", "band": "10%"},
        values(100, 95, 105, 111, 120, 135),
        [("", 100), ("", 111), ("", 135)],
        id="deadband-percent"),
    # "should not send output if x away or greater from original value (narrowbandEq)",
    # starting from a start value far from the first input.
    pytest.param(
        {"mode": "narrowband-or-equal", "band": 10, "compare": "last-output", "start": 1},
        values(100, 0, 10, 5, 15, 10, 20, 25),
        [("", 0), ("", 5), ("", 10)],
        id="narrowband-or-equal-from-start"),
    # "should not send output if more than x away from original value (narrowband)".
    pytest.param(
        {"mode": "narrowband", "band": 10},
        values(0, 20, 40, "6 deg", 18, 20, 50, "5 deg"),
        [("", 0), ("", "6 deg"), ("", "5 deg")],
        id="narrowband"),
    # "should send output if gap is 0 and input doesnt change (narrowband)".
    pytest.param(
        {"mode": "narrowband", "band": 0},
        values(1, 1, 1, 1, 0, 1),
        [("", 1), ("", 1), ("", 1), ("", 1), ("", 1)],
        id="narrowband-zero-band-passes-repeats"),
    # "should not send output if more than x away from original value (narrowband in
    # step mode)": compared with the last input, so a step is followed after one value.
    pytest.param(
        {"mode": "narrowband", "band": 10, "compare": "last-input", "start": 500},
        values(50, 55, 200, 205),
        [("", 55), ("", 205)],
        id="narrowband-last-input-follows-steps"),
]


@pytest.mark.parametrize(("config", "inputs", "expected"), NODE_RED_CASES)
def test_node_red_cases(config: dict[str, Any], inputs: list[Message],
                        expected: list[tuple[str, Any]]) -> None:
    assert strict(sent(config, inputs, ("topic", "payload"))) == strict(expected)


def test_node_red_chosen_property() -> None:
    # "should only send output if another chosen property changes - foo (rbe)":
    # messages without the property are ignored, not treated as a change.
    inputs = [{"foo": "a"}, {"payload": "a"}, {"foo": "a"}, {"payload": "a"}, {"foo": "a"},
              {"foo": "b"}, {"foo": {"b": 1, "c": 2}}, {"foo": {"c": 2, "b": 1}},
              {"payload": {"c": 2, "b": 1}}]
    assert sent({"property": "foo"}, inputs, ("foo",)) == ["a", "b", {"b": 1, "c": 2}]


def test_node_red_date_payloads() -> None:
    # "should only send output if a Date payload changes (rbe)".
    first, second = (datetime.datetime.fromtimestamp(t, datetime.UTC) for t in (1, 2))
    payloads = sent({}, values(first, datetime.datetime.fromtimestamp(1, datetime.UTC), second))
    assert payloads == [first, second]


def test_node_red_warns_when_no_number_found() -> None:
    # "should warn if no number found in deadband mode": one warning, nothing sent.
    run = run_node(TYPE, {"mode": "deadband", "band": 10}, values("banana"))
    assert run.outputs[0] == []
    assert len(run.warnings) == 1
    assert "no number" in run.warnings[0]


async def test_node_red_defaults() -> None:
    # "should be loaded with correct defaults": rbe mode, gap 0 (here: every field).
    async with FlowHarness(flow({})) as h:
        assert h.engine.nodes["filter"].config == {
            "mode": "changed", "band": 0, "compare": "last-output", "start": None,
            "property": "payload", "separate_topics": True, "topic_property": "topic",
            "max_topics": 10000, "min_interval": 0, "max_silence": 0}


# --- topics as Node-RED keys them, and where portless differs on purpose -----------------
def shared(topic: Any, text: str) -> list[Message]:
    """A value on a numeric topic, the same value and a new one on its text."""
    return [*on(topic, 5), *on(text, 5), *on(text, 6)]


# A topic that is no text is keyed by its text as JavaScript's String() writes it, so a
# number shares the state of that text; each row: (topic, its text). The 5 on the text
# is no change: sent are 5 and 6.
NUMERIC_TOPICS = [
    (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (-2.5e-8, "-2.5e-8"), (1e-5, "0.00001"),
    (1e-6, "0.000001"), (1e21, "1e+21"), (1.5e300, "1.5e+300"),
    (2.0 ** 60, "1152921504606847000"), (123.456, "123.456"), (7, "7"), (True, "true"),
]


@pytest.mark.parametrize(("topic", "text"), NUMERIC_TOPICS, ids=[t for _, t in NUMERIC_TOPICS])
def test_a_numeric_topic_shares_the_state_of_its_javascript_text(topic: Any, text: str
                                                                  ) -> None:
    assert sent({}, shared(topic, text)) == [5, 6]


def test_a_topic_of_minus_zero_is_no_topic() -> None:
    # -0 is falsy, as 0, "" and null are: the state of messages without a topic
    assert sent({}, [*on(-0.0, 5), *values(5, 6)]) == [5, 6]


# Where Node-RED's rbe is wrong or JavaScript-specific and portless is right, each in the
# node's description: (id, config, inputs, what portless sends, what Node-RED 4 sends),
# the payloads sent. tests/nodes/test_exception_filter_node_red.py runs them in both.
BIG = 2 ** 53 + 1  # JavaScript reads it as 2 ** 53
DIFFERENCES = [
    # Node-RED keys its state in a plain object: its prototype's members are "there"
    ("constructor-never-passes-a-band", {"mode": "deadband", "band": 1},
     on("constructor", 0, 5, 10), [0, 5, 10], []),
    ("toString-never-passes-a-band", {"mode": "narrowband", "band": 10},
     on("toString", 0, 5, 50), [0, 5], []),
    # once a value is kept under "hasOwnProperty", Node-RED's check of every message
    # calls it: a TypeError, for every topic, from then on
    ("hasOwnProperty-stops-every-topic", {"mode": "changed-ignore-initial"},
     [*on("a", 1, 2), *on("hasOwnProperty", 1, 2), *on("a", 3, 4)], [2, 2, 3, 4], [2]),
    # a value kept under "__proto__" is not kept (a repeat passes) or, an object, becomes
    # the prototype: topic "b" then finds a 7 it never had
    ("__proto__-is-never-filtered-and-leaks", {"mode": "changed"},
     [*on("__proto__", 1, 1, {"b": 7}), *on("b", 7, 7, 8)], [1, {"b": 7}, 7, 8],
     [1, 1, {"b": 7}, 8]),
    # Node-RED's key for messages without a topic is the text "_no_topic"
    ("a-topic-named-_no_topic-is-a-topic", {"mode": "changed"},
     [*values(1), *on("_no_topic", 1, 2), *values(2)], [1, 1, 2, 2], [1, 2]),
    # integers beyond 2^53 compare exactly, as values and as topics
    ("integers-beyond-2**53-values", {"mode": "changed"},
     on("t", BIG, BIG - 1, BIG), [BIG, BIG - 1, BIG], [BIG - 1]),
    ("integers-beyond-2**53-topics", {"mode": "changed"},
     [*on(BIG, 5), *on(BIG - 1, 5)], [5, 5], [5]),
    # a reset for a topic from a custom topic property clears that topic (Node-RED clears
    # the one named by msg.topic): x is reset here, y in Node-RED
    ("reset-of-a-custom-topic-property", {"topic_property": "device"},
     [{"device": "x", "payload": 1}, {"device": "y", "payload": 2},
      {"device": "x", "topic": "y", "reset": True},
      {"device": "x", "payload": 1}, {"device": "y", "payload": 2}], [1, 2, 1], [1, 2, 2]),
]


@pytest.mark.parametrize(("config", "inputs", "ours"),
                         [row[1:4] for row in DIFFERENCES], ids=[row[0] for row in DIFFERENCES])
def test_where_node_red_differs(config: dict[str, Any], inputs: list[Message],
                                ours: list[Any]) -> None:
    assert strict(sent(config, inputs)) == strict(ours)


# --- the filter, beyond the Node-RED suite -----------------------------------------------
@pytest.mark.parametrize(("inputs", "expected"), [
    # type-sensitive: a number and its text differ, as do true and 1
    ([2, "2", 2], [2, "2", 2]),
    ([True, 1, True], [True, 1, True]),
    # 1 and 1.0 are one JSON number
    ([1, 1.0, 2.0, 2], [1, 2.0]),
    # deep: nested order of keys ignored, nested types respected, list order respected
    ([{"a": 1, "b": [1, {"c": None}]}, {"b": [1, {"c": None}], "a": 1.0}],
     [{"a": 1, "b": [1, {"c": None}]}]),
    ([{"a": True}, {"a": 1}, {"a": [1, 2]}, {"a": [2, 1]}, {"a": [2, 1], "b": 0}],
     [{"a": True}, {"a": 1}, {"a": [1, 2]}, {"a": [2, 1]}, {"a": [2, 1], "b": 0}]),
    # null is a value (only a missing property is ignored); bytes compare by content
    ([None, None, 0, b"x", b"x", bytearray(b"x"), b"y"], [None, 0, b"x", b"y"]),
    # as in Node-RED: an object is compared with {} when the reference is not an object,
    # so a first {} is not a change, nor is {} after a text; null is compared the same way
    ([{}, {}, "a", {}], ["a"]),
    ([{}, {"a": 1}, "x", {"a": 1}, None, None], [{"a": 1}, "x", {"a": 1}, None]),
    ([[], [], [1]], [[], [1]]),
])
def test_changed_compares_deeply_and_by_type(inputs: list[Any], expected: list[Any]) -> None:
    assert strict(sent({"mode": "changed"}, values(*inputs))) == strict(expected)


@pytest.mark.parametrize(("inputs", "expected"), [
    # numbers in text the way JavaScript's parseFloat reads them
    ([" 12.5 kPa", "+1e3x", ".5", "-7.", "0x10"], [" 12.5 kPa", "+1e3x", ".5", "-7.", "0x10"]),
    ([[3], 3.0, "3"], [[3]]),
])
def test_numeric_modes_read_leading_numbers(inputs: list[Any], expected: list[Any]) -> None:
    config = {"mode": "deadband-or-equal", "band": 0.1}
    assert strict(sent(config, values(*inputs))) == strict(expected)


def test_percent_band_is_recomputed_from_each_new_reference() -> None:
    # reference 100 -> band 10: 109 blocked, 111 passes; reference 111 -> band 11.1:
    # 121 (10 away) is now blocked, 123 (12 away) passes; reference 123 -> band 12.3.
    assert sent({"mode": "deadband", "band": "10%"}, values(100, 109, 111, 121, 123, 135)) \
        == [100, 111, 123]
    # narrowband too: from start 200 (band 20) 175 is dropped and 185 passes; then the
    # band is 18.5, so 204 (19 away) is dropped, where a band of 20 would have passed it
    assert sent({"mode": "narrowband", "band": "10%", "start": 200},
                values(175, 185, 204, 203)) == [185, 203]


@pytest.mark.parametrize(("compare", "expected"), [
    # from the last value sent: a slow drift passes each time it adds up to the band
    ("last-output", [0, 12, 24]),
    # from the last value received: each step is small, so the drift never passes
    ("last-input", [0]),
])
def test_compare_with_last_output_or_last_input(compare: str, expected: list[int]) -> None:
    config = {"mode": "deadband", "band": 10, "compare": compare}
    assert sent(config, values(0, 6, 12, 18, 24)) == expected


def test_without_separate_topics_a_reset_with_a_topic_clears_everything() -> None:
    inputs = [*on("a", 1), *on("b", 2), {"topic": "a", "reset": True}, *on("b", 2)]
    assert sent({"separate_topics": False}, inputs, ("topic", "payload")) \
        == [("a", 1), ("b", 2), ("b", 2)]


def test_custom_topic_property_keeps_state_and_resets_per_device() -> None:
    inputs = [{"device": "x", "payload": 1}, {"device": "y", "payload": 1},
              {"device": "x", "payload": 1},
              {"device": "x", "topic": "y", "reset": True},  # resets x (not msg.topic)
              {"device": "x", "payload": 1}, {"device": "y", "payload": 1}]
    assert sent({"topic_property": "device"}, inputs, ("device", "payload")) \
        == [("x", 1), ("y", 1), ("x", 1)]


def test_nested_property_and_topic_paths() -> None:
    config = {"property": "payload.flow", "topic_property": "meta.channels[0]"}
    inputs = [{"meta": {"channels": [c]}, "payload": {"flow": f, "t": t}}
              for t, (c, f) in enumerate([("a", 1), ("b", 1), ("a", 1), ("a", 2)])]
    assert [m["payload"]["t"] for m in run_node(TYPE, config, inputs).outputs[0]] == [0, 1, 3]


@pytest.mark.parametrize(("config", "inputs", "expected"), [
    # what Node-RED's paths read, and a filter on them used to ignore as missing
    ({"property": "payload.length"}, values("ab", "cd", "abc", [1, 2, 3], []),
     ["ab", "abc", []]),
    ({"property": "payload[0]"}, values({"0": 1}, {"0": 1}, {"0": 2}), [{"0": 1}, {"0": 2}]),
    ({"property": 'payload["flow rate"]', "topic_property": "payload['dev.id']"},
     values({"flow rate": 1, "dev.id": "a"}, {"flow rate": 1, "dev.id": "b"},
            {"flow rate": 1, "dev.id": "a"}),
     [{"flow rate": 1, "dev.id": "a"}, {"flow rate": 1, "dev.id": "b"}]),
    ({"property": "payload[msg.topic]"},
     on("a", {"a": 1, "b": 5}, {"a": 1, "b": 6}, {"a": 2, "b": 6}),
     [{"a": 1, "b": 5}, {"a": 2, "b": 6}]),
])
def test_node_red_property_paths(config: dict[str, Any], inputs: list[Message],
                                 expected: list[Any]) -> None:
    assert sent(config, inputs) == expected


@pytest.mark.parametrize(("mode", "expected"), [
    # the reference is gone, so a reset carrying a value lets it through ...
    ("changed", [5, 5]),
    ("deadband", [5, 5]),
    # ... except where a topic's first value is never sent
    ("changed-ignore-initial", []),
])
def test_reset_with_a_value_clears_first_then_filters(mode: str, expected: list[int]) -> None:
    inputs = [{"topic": "t", "payload": 5}, {"topic": "t", "payload": 5, "reset": True}]
    assert sent({"mode": mode, "band": 1}, inputs) == expected


def test_reset_of_one_topic_keeps_the_others() -> None:
    inputs = [*on("a", 1), *on("b", 1), {"topic": "a", "reset": True}, *on("a", 1), *on("b", 1)]
    assert sent({}, inputs, ("topic", "payload")) == [("a", 1), ("b", 1), ("a", 1)]


@pytest.mark.parametrize("bad", ["banana", None, True, {"v": 1}, "", "  "])
def test_numeric_mode_warns_on_non_numbers_and_drops_them(bad: Any) -> None:
    run = run_node(TYPE, {"mode": "deadband", "band": 1}, values(bad, 5))
    assert [m["payload"] for m in run.outputs[0]] == [5]
    assert len(run.warnings) == 1
    # the problem shows under the node, and is cleared by the next good value
    assert run.statuses[0]["fill"] == "yellow"
    assert run.statuses[-1] == {"fill": "blue", "shape": "dot", "text": "passed 1 of 2"}


@pytest.mark.parametrize("mode", ["changed", "deadband", "narrowband"])
def test_a_message_without_the_property_is_ignored(mode: str) -> None:
    run = run_node(TYPE, {"mode": mode}, [{"topic": "t"}, {"value": 3}, {"topic": "t"}])
    assert run.outputs[0] == []
    assert run.warnings == []


def test_the_original_message_is_sent() -> None:
    inputs = [{"_msgid": "m-1", "payload": 1, "unit": "bar"},
              {"_msgid": "m-2", "payload": 1}, {"_msgid": "m-3", "payload": 2.5}]
    outputs = run_node(TYPE, {"mode": "deadband", "band": 1}, inputs).outputs[0]
    assert [m["_msgid"] for m in outputs] == ["m-1", "m-3"]
    assert outputs[0]["unit"] == "bar"


async def test_the_same_object_is_sent_and_the_reference_is_a_snapshot() -> None:
    async with FlowHarness(flow({})) as h:
        msg = {"payload": {"level": 1}}
        h.inject("filter", msg)
        (out,) = await h.wait_for("filter", 1)
        assert out is msg
        out["payload"]["level"] = 2  # a downstream node changing what it got in place
        h.inject("filter", {"payload": {"level": 1}})
        h.inject("filter", {"payload": {"level": 2}})
        await h.engine.wait_idle()
        assert [m["payload"] for m in h.received("filter")] == [{"level": 2}, {"level": 2}]


@pytest.mark.parametrize("config", [
    {"band": "10"},             # a band in text must be a percentage
    {"band": -1},
    {"band": "-5%"},
    {"mode": "rbe"},            # Node-RED's short names are not accepted
    {"gap": 0},                 # nor its field names
    {"property": ""},
    {"property": "payload..x"},
    {"start": "1"},
    {"min_interval": -1},
    {"max_silence": -0.5},
])
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(FlowInvalid):
        run_node(TYPE, config, [])


# --- min_interval: at most one message per topic per interval, the latest wins ------------
LIMIT = 0.05


@pytest.mark.parametrize(("config", "inputs", "expected"), [
    # a burst: the first at once, the latest at the end of the interval
    ({}, values(1, 2, 3, 4), [1, 4]),
    # back to the value sent within the interval: nothing new to report
    ({}, values(1, 2, 1), [1]),
    # values the filter blocks are not held at all
    ({}, values(1, 1, 1), [1]),
    # the filter reference is what will be sent: 15 is held, 22 is within the band of 15
    ({"mode": "deadband", "band": 10}, values(0, 15, 22), [0, 15]),
    # ... and 3 is not, so it replaces 15 and the subscriber ends with the true value
    ({"mode": "deadband", "band": 10}, values(0, 15, 3), [0, 3]),
])
def test_min_interval(config: dict[str, Any], inputs: list[Message], expected: list[Any]) -> None:
    assert sent({**config, "min_interval": LIMIT}, inputs) == expected


def test_min_interval_is_per_topic() -> None:
    inputs = [*on("a", 1), *on("b", 1), *on("a", 2), *on("b", 2), *on("a", 3)]
    got = sent({"min_interval": LIMIT}, inputs, ("topic", "payload"))
    assert [p for t, p in got if t == "a"] == [1, 3]
    assert [p for t, p in got if t == "b"] == [1, 2]
    assert got[:2] == [("a", 1), ("b", 1)]


async def test_min_interval_sends_the_held_value_when_the_interval_ends() -> None:
    loop = asyncio.get_running_loop()
    async with FlowHarness(flow({"min_interval": LIMIT})) as h:
        started = loop.time()
        h.inject("filter", {"payload": 1})
        h.inject("filter", {"payload": 2})
        await h.engine.wait_idle()
        assert [m["payload"] for m in h.received("filter")] == [1]
        got = await h.wait_for("filter", 2, timeout=2)
        assert loop.time() - started >= LIMIT * 0.9
        assert [m["payload"] for m in got] == [1, 2]


async def test_after_the_interval_a_value_passes_at_once() -> None:
    async with FlowHarness(flow({"min_interval": LIMIT})) as h:
        node = h.engine.nodes["filter"]
        clock = [100.0]
        node._now = lambda: clock[0]  # type: ignore[attr-defined]  # a clock the test moves
        h.inject("filter", {"payload": 1})
        clock[0] += LIMIT * 1.2
        h.inject("filter", {"payload": 2})
        await h.engine.wait_idle()
        assert [m["payload"] for m in h.received("filter")] == [1, 2]
        assert not node.pending


# --- max_silence: resend the last value after a silence ------------------------------------
SILENCE = 0.05


async def test_max_silence_resends_copies_of_the_last_message() -> None:
    async with FlowHarness(flow({"max_silence": SILENCE})) as h:
        original = {"_msgid": "m-1", "topic": "t", "payload": {"level": 5}}
        h.inject("filter", original)
        h.inject("filter", {"topic": "t", "payload": {"level": 5}})  # blocked: no activity
        original["payload"]["unit"] = "bar"  # changed downstream after it was sent
        first, *resends = await h.wait_for("filter", 3, timeout=2)
        assert first is original
        for resend in resends:
            assert resend["payload"] == {"level": 5}
            assert resend["topic"] == "t"
            assert resend is not original
            assert resend["payload"] is not original["payload"]
        ids = [m["_msgid"] for m in (first, *resends)]
        assert ids[0] == "m-1"
        assert len(set(ids)) == 3


async def test_max_silence_resends_the_latest_value_passed() -> None:
    async with FlowHarness(flow({"max_silence": SILENCE})) as h:
        h.inject("filter", {"payload": 1})
        await h.wait_for("filter", 2, timeout=2)
        h.inject("filter", {"payload": 2})
        count = len(h.received("filter"))
        got = await h.wait_for("filter", count + 2, timeout=2)
        assert [m["payload"] for m in got[count - 1:]] == [2, 2, 2]


async def test_max_silence_is_per_topic_and_a_reset_ends_a_topics_resends() -> None:
    async with FlowHarness(flow({"max_silence": SILENCE})) as h:
        h.inject("filter", {"topic": "a", "payload": 1})
        h.inject("filter", {"topic": "b", "payload": 1})
        await h.wait_for("filter", 4, timeout=2)  # both topics resent at least once
        assert {m["topic"] for m in h.received("filter")[2:]} <= {"a", "b"}
        h.inject("filter", {"topic": "a", "reset": True})
        after = len(h.received("filter"))
        await h.wait_for("filter", after + 3, timeout=2)
        assert all(m["topic"] == "b" for m in h.received("filter")[after:])


async def test_max_silence_never_resends_faster_than_min_interval() -> None:
    config = {"max_silence": 0.01, "min_interval": 0.06}
    async with FlowHarness(flow(config)) as h:
        h.inject("filter", {"payload": 1})
        got = await h.wait_for("filter", 3, timeout=2)
        gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(got)]
        assert min(gaps) >= 0.06 * 0.9


# --- bounded state and the status ------------------------------------------------------

def test_past_max_topics_the_least_recently_seen_topic_is_forgotten() -> None:
    inputs = [*on("a", 1), *on("b", 1), *on("c", 1),
              *on("a", 1),   # a is seen again: b is now the least recently seen
              *on("d", 1),   # a fourth topic: b is forgotten
              *on("a", 1), *on("b", 1)]  # a is remembered (unchanged); b starts afresh
    run = run_node(TYPE, {"max_topics": 3}, inputs)
    assert [(m["topic"], m["payload"]) for m in run.outputs[0]] == [
        ("a", 1), ("b", 1), ("c", 1), ("d", 1), ("b", 1)]
    assert run.warnings == ["more than 3 topics (max_topics): forgetting the least recently "
                            "seen; their next value is judged as a first value"]
    # Shown at once (later counts within the second follow when it is over).
    assert run.statuses[-1] == {"fill": "yellow", "shape": "dot",
                                "text": "passed 4 of 5 · forgot 1 topic (max 3)"}


def test_a_change_held_for_a_forgotten_topic_is_sent_not_lost() -> None:
    # a:2 is held by the throttle; when b makes a be forgotten, a:2 goes out at once.
    inputs = [*on("a", 1), *on("a", 2), *on("b", 1)]
    run = run_node(TYPE, {"max_topics": 1, "min_interval": 60}, inputs)
    assert [(m["topic"], m["payload"]) for m in run.outputs[0]] == [
        ("a", 1), ("a", 2), ("b", 1)]


@pytest.mark.slow
async def test_a_million_distinct_topics_keep_state_for_at_most_max_topics() -> None:
    """Before the bound, every topic kept a reference forever (105 MB for a million)."""
    async with FlowHarness(flow({})) as h:
        node: Any = h.engine.nodes["filter"]
        for start in range(0, 1_000_000, 100_000):
            for n in range(start, start + 100_000):
                h.inject("filter", {"topic": f"sensor/{n}", "payload": n})
            await h.engine.wait_idle()
        assert node.passed == node.received == 1_000_000
        assert len(node._references) == len(node._seen) == 10_000
        assert node.forgotten == 990_000
        assert "sensor/999999" in node._references
        assert "sensor/989999" not in node._references


async def test_the_status_says_how_many_passed_of_how_many_at_most_once_a_second() -> None:
    async with FlowHarness(flow({"mode": "deadband", "band": 1})) as h:
        for value in (50, 50.2, 50.4, 51.5, 51.6, 51.7):
            h.inject("filter", {"topic": "flow", "payload": value})
        # The first pass shows at once; the rest within a second, in one more status.
        await h.wait_event(lambda e: e.kind == "status"
                           and e.data.get("text") == "passed 2 of 6", timeout=3)
        texts = [e.data["text"] for e in h.events if e.kind == "status"]
    assert texts == ["passed 1 of 1", "passed 2 of 6"]
