"""expression: a JSONata expression on each message into a property or context key."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import FlowInvalid
from portless.testing import FlowHarness, run_node

TYPE = "expression"


@pytest.mark.parametrize(("config", "msg", "expected"), [
    pytest.param({"expression": "payload * 2"}, {"payload": 21}, {"payload": 42},
                 id="into-the-payload"),
    pytest.param({"expression": "$round(payload.temp, 1)",
                  "property": {"kind": "msg", "value": "reading.celsius"}},
                 {"payload": {"temp": 21.456}},
                 {"payload": {"temp": 21.456}, "reading": {"celsius": 21.5}},
                 id="into-a-nested-property-created-on-the-way"),
    pytest.param({"expression": "topic & '/' & payload"}, {"topic": "valve", "payload": "open"},
                 {"topic": "valve", "payload": "valve/open"}, id="string-concatenation"),
    pytest.param({"expression": "payload.missing"}, {"payload": {}}, {"payload": None},
                 id="nothing-sets-null"),
    pytest.param({"expression": "$sum(payload.readings)"}, {"payload": {"readings": [1, 2, 3]}},
                 {"payload": 6}, id="a-function-over-a-list"),
])
def test_the_result_goes_into_the_property(config: dict[str, Any], msg: dict[str, Any],
                                           expected: dict[str, Any]) -> None:
    run = run_node(TYPE, config, [msg])
    assert run.errors == []
    [out] = run.outputs[0]
    assert {key: out[key] for key in expected} == expected


def test_env_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINE_ID", "line-7")
    [out] = run_node(TYPE, {"expression": "$env('LINE_ID')"}, [{}]).outputs[0]
    assert out["payload"] == "line-7"


async def test_reads_and_writes_flow_and_global_context() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "limit", "type": TYPE, "config": {
            "expression": "payload > $flowContext('limit') ? $globalContext('site') : 'ok'",
            "property": {"kind": "flow", "value": "verdict"}}}]}
    async with FlowHarness(flow) as h:
        node = h.engine.nodes["limit"]
        node.flow_context.set("limit", 10)
        node.global_context.set("site", "plant-3")
        h.inject("limit", {"payload": 12})
        [out] = await h.wait_for("limit")
        assert node.flow_context.get("verdict") == "plant-3"
    assert out["payload"] == 12


async def test_a_failing_expression_is_an_error_a_catch_node_takes() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "calc", "type": TYPE, "config": {"expression": "$number(payload)"}},
        {"id": "catch", "type": "catch", "config": {"scope": "all"}}]}
    async with FlowHarness(flow) as h:
        h.inject("calc", {"payload": "not a number"})
        [caught] = await h.wait_for("catch")
        assert h.received("calc") == []
    assert caught["error"]["source"]["id"] == "calc"


def test_a_message_that_cannot_hold_the_property_is_an_error() -> None:
    run = run_node(TYPE, {"expression": "1", "property": {"kind": "msg",
                                                          "value": "payload.x"}},
                   [{"payload": "text"}])
    assert run.outputs == [[]]
    assert run.errors == ["cannot set msg.payload.x: a part of the way is not an object "
                          "or list"]


def test_a_broken_expression_is_a_config_error_at_load() -> None:
    with pytest.raises(FlowInvalid, match="node-under-test: /config/expression: must be "
                                          "a JSONata expression"):
        run_node(TYPE, {"expression": "payload +"})
