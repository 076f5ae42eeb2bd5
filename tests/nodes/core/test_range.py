"""range: Node-RED's 16-range_spec.js case by case, then what a user relies on beyond
it (texts read as Number() reads them, errors catchable, whole results as integers)."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import FlowHarness, run_node

TYPE = "range"


def config(action: str, from_min: float, from_max: float, to_min: float, to_max: float,
           round_: bool = False) -> dict[str, Any]:
    return {"action": action, "from_min": from_min, "from_max": from_max,
            "to_min": to_min, "to_max": to_max, "round": round_}


def payloads(config: dict[str, Any], *values: Any) -> list[Any]:
    run = run_node(TYPE, config, [{"payload": value} for value in values])
    assert not run.errors
    return [out["payload"] for out in run.outputs[0]]


# --- Node-RED's 16-range_spec.js: (config, payload in, payload out) --------------------
NODE_RED_CASES = [
    pytest.param(config("scale", 0, 100, 0, 1000), 50, 500, id="up-tenfold"),
    pytest.param(config("scale", 0, 100, 0, 1), 55, 0.55, id="centimetres-to-metres"),
    pytest.param(config("wrap", 0, 10, 0, 360, True), 15, 180, id="wrap-half-turn"),
    pytest.param(config("wrap", 0, 10, 0, 360, True), 13.3333, 120, id="wrap-third-turn"),
    pytest.param(config("wrap", 0, 10, 0, 360, True), 12.5, 90, id="wrap-quarter-turn"),
    pytest.param(config("wrap", 0, 10, 0, 360, True), -12.5, 270,
                 id="wrap-quarter-turn-backwards"),
    pytest.param(config("wrap", 0, 10, 0, 360, True), -10, 0, id="wrap-whole-turn-back"),
    pytest.param(config("clamp", 0, 10, 0, 1000), 111, 1000, id="clamp-over-max"),
    pytest.param(config("clamp", 0, 10, 0, 1000), -1, 0, id="clamp-below-min"),
    pytest.param(config("clamp", 0, 9.5, 0.5, 100.5, True), 13.1, 100,
                 id="clamp-over-max-fractional-rounded"),
    pytest.param(config("clamp", 0, 9.5, 0.3, 100.5, True), -13.1, 1,
                 id="clamp-below-min-fractional-rounded"),
    pytest.param(config("scale", 100, 0, 0, -100), 40, -60, id="reversed-input-range"),
    pytest.param(config("scale", 100, 0, -100, 0), 10, -10, id="reversed-both-ranges"),
]


@pytest.mark.parametrize(("cfg", "value", "expected"), NODE_RED_CASES)
def test_node_red_cases(cfg: dict[str, Any], value: Any, expected: Any) -> None:
    assert payloads(cfg, value) == [expected]


def test_drop_sends_only_values_inside_the_input_range() -> None:
    # Node-RED: "drops msg if in drop mode and input outside range".
    assert payloads(config("drop", 2, 8, 20, 80, True), 1, 9, 5, 2, 8) == [50, 20, 80]


def test_a_message_without_the_property_passes_unchanged() -> None:
    # Node-RED: "just passes on msg if payload not present".
    run = run_node(TYPE, config("scale", 0, 100, 0, 100, True), [{"topic": "pass on"}])
    assert [("payload" in out, out["topic"]) for out in run.outputs[0]] == [
        (False, "pass on")]


async def test_a_value_that_is_no_number_is_an_error_a_catch_node_takes() -> None:
    # Node-RED: "reports if input is not a number" (Node-RED logs; portless errors with
    # the message, so the flow can handle it).
    flow = {"version": 1, "nodes": [
        {"id": "scale", "type": TYPE, "config": config("scale", 0, 10, 0, 100)},
        {"id": "catch", "type": "catch", "config": {"scope": "all"}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("scale", {"payload": "NOT A NUMBER", "topic": "t"})
        [caught] = await harness.wait_for("catch")
        assert harness.received("scale") == []
    assert caught["payload"] == "NOT A NUMBER"
    assert caught["error"]["message"] == "msg.payload is not a number: 'NOT A NUMBER'"


# --- beyond the spec ------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (" 12 ", 120), ("1e1", 100), ("0x0A", 100), (True, 10), (False, 0), (2.5, 25),
])
def test_texts_and_booleans_are_read_as_javascript_number_reads_them(
        value: Any, expected: Any) -> None:
    assert payloads(config("scale", 0, 10, 0, 100), value) == [expected]


@pytest.mark.parametrize("value", ["", "12abc", None, [5], {"a": 1}, "Infinity"])
def test_what_is_no_number_is_an_error_and_not_sent(value: Any) -> None:
    run = run_node(TYPE, config("wrap", 0, 10, 0, 100), [{"payload": value}])
    assert run.outputs == [[]]
    assert len(run.errors) == 1


def test_a_whole_result_is_an_integer_and_a_fraction_stays_a_float() -> None:
    out = payloads(config("scale", 0, 10, 0, 100), 5, 0.5, 0.25)
    assert [(type(v), v) for v in out] == [(int, 50), (int, 5), (float, 2.5)]


def test_rounding_takes_a_half_up_as_javascript_does() -> None:
    assert payloads(config("scale", 0, 10, 0, 10, True), -2.5, 2.5, -2.6) == [-2, 3, -3]


def test_wrap_maps_the_top_of_the_range_onto_the_bottom() -> None:
    assert payloads(config("wrap", 0, 360, 0, 1), 360, 90, 720.0) == [0, 0.25, 0]


def test_clamp_limits_infinity_to_the_range() -> None:
    assert payloads(config("clamp", 0, 10, 0, 100), "Infinity", "-Infinity") == [100, 0]


def test_a_nested_property_is_scaled_in_place() -> None:
    run = run_node(TYPE, {**config("scale", 0, 1, 0, 100), "property": "payload.level"},
                   [{"payload": {"level": 0.25, "unit": "x"}}])
    assert run.outputs[0][0]["payload"] == {"level": 25, "unit": "x"}


async def test_an_input_range_of_no_width_is_refused_at_start() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "scale", "type": TYPE, "config": config("scale", 3, 3, 0, 100)}]}
    async with FlowHarness(flow) as harness:
        failed = dict(harness.engine.failed)
    assert "from_min and from_max are both 3" in failed["scale"]


def test_node_red_defaults_scale_payload_unrounded() -> None:
    # Node-RED: "should load some defaults" (round is false); portless's default ranges
    # are 0..100 both, so a default range node passes numbers through.
    assert payloads({}, 42.5, "50") == [42.5, 50]
