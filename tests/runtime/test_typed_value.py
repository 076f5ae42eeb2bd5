"""Typed values (runtime/typed_value.py): where a config field's value comes from, read
and written per message through a real flow."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest

from portless.runtime import FlowInvalid, Message, Node, TypedValue, typed_value_schema
from portless.testing import FlowHarness, run_node


class Copy(Node):
    """Copies the typed value ``source`` to the place ``target`` names."""

    type = "test-copy"
    schema: ClassVar[dict[str, Any]] = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "source": typed_value_schema("From", default={"kind": "msg", "value": "payload"}),
            "target": typed_value_schema("To", kinds=("msg", "flow", "global"),
                                         default={"kind": "msg", "value": "result"}),
            "delete": {"type": "boolean", "default": False},
        },
    }

    async def start(self) -> None:
        self.source = TypedValue(self.config["source"], self, env={"LINE": "L7"})
        self.target = TypedValue(self.config["target"], self)

    def on_input(self, msg: Message) -> None:
        if self.config["delete"]:
            msg["deleted"] = self.target.delete(msg)
        else:
            msg["written"] = self.target.set(msg, self.source.get(msg))
        msg["flow"] = dict(self.flow_context.get("store") or {})
        self.send(msg)


SOURCES = [  # (typed value, message, what it reads)
    ({"kind": "string", "value": "open"}, {}, "open"),
    ({"kind": "number", "value": 2.5}, {}, 2.5),
    ({"kind": "boolean", "value": True}, {}, True),
    ({"kind": "json", "value": {"a": [1, 2]}}, {}, {"a": [1, 2]}),
    ({"kind": "json", "value": None}, {}, None),
    ({"kind": "msg", "value": "payload.values[1]"}, {"payload": {"values": [4, 5]}}, 5),
    ({"kind": "msg", "value": "payload.length"}, {"payload": "abc"}, 3),
    ({"kind": "env", "value": "LINE"}, {}, "L7"),
    ({"kind": "env", "value": "NOT_SET_ANYWHERE"}, {}, ""),
    ({"kind": "jsonata", "value": "payload * 2 + $count(topic)"},
     {"payload": 4, "topic": "t"}, 9),
    ({"kind": "jsonata", "value": '$env("LINE") & "-" & topic'}, {"topic": "x"}, "L7-x"),
]


@pytest.mark.parametrize(("source", "msg", "expected"), SOURCES)
def test_a_typed_value_reads_its_kind(source: dict[str, Any], msg: Message,
                                      expected: Any) -> None:
    run = run_node(Copy, {"source": source}, [msg])
    assert run.outputs[0][0]["result"] == expected, run.errors


def test_a_json_value_is_a_fresh_copy_for_every_message() -> None:
    run = run_node(Copy, {"source": {"kind": "json", "value": {"n": 1}}}, [{}, {}])
    first, second = (msg["result"] for msg in run.outputs[0])
    assert first == second
    assert first is not second


def test_a_timestamp_is_now_in_milliseconds_or_iso() -> None:
    before = int(time.time() * 1000)
    run = run_node(Copy, {"source": {"kind": "timestamp", "value": "milliseconds"}}, [{}])
    assert before <= run.outputs[0][0]["result"] <= int(time.time() * 1000)
    iso = run_node(Copy, {"source": {"kind": "timestamp", "value": "iso"}}, [{}])
    assert iso.outputs[0][0]["result"].endswith("Z")
    assert iso.outputs[0][0]["result"][:4] == time.strftime("%Y", time.gmtime())


async def test_flow_and_global_context_are_read_and_written_by_key_path() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "put", "type": "test-copy", "config": {
            "source": {"kind": "msg", "value": "payload"},
            "target": {"kind": "flow", "value": "store.level"}}},
        {"id": "get", "type": "test-copy", "config": {
            "source": {"kind": "flow", "value": "store.level"},
            "target": {"kind": "global", "value": "seen"}}},
        {"id": "expr", "type": "test-copy", "config": {
            "source": {"kind": "jsonata",
                       "value": '$flowContext("store.level") + $globalContext("seen")'}}},
    ]}
    async with FlowHarness(flow, node_types=[Copy]) as harness:
        harness.inject("put", {"payload": 41})
        (put,) = await harness.wait_for("put")
        assert put["written"]
        assert put["flow"] == {"level": 41}
        harness.inject("get", {})
        await harness.wait_for("get")
        harness.inject("expr", {})
        (expr,) = await harness.wait_for("expr")
        assert expr["result"] == 82


async def test_delete_removes_a_message_property_or_a_context_key() -> None:
    flow = {"version": 1, "nodes": [
        {"id": "put", "type": "test-copy", "config": {
            "target": {"kind": "flow", "value": "store.level"}}},
        {"id": "drop", "type": "test-copy", "config": {
            "target": {"kind": "flow", "value": "store.level"}, "delete": True}},
        {"id": "drop-msg", "type": "test-copy", "config": {
            "target": {"kind": "msg", "value": "payload.a"}, "delete": True}},
    ]}
    async with FlowHarness(flow, node_types=[Copy]) as harness:
        harness.inject("put", {"payload": 1})
        await harness.wait_for("put")
        harness.inject("drop", {})
        (dropped,) = await harness.wait_for("drop")
        assert dropped["deleted"]
        assert dropped["flow"] == {}
        harness.inject("drop-msg", {"payload": {"a": 1, "b": 2}})
        (msg,) = await harness.wait_for("drop-msg")
        assert msg["deleted"]
        assert msg["payload"] == {"b": 2}


def test_copying_a_missing_message_property_leaves_the_target_unset() -> None:
    run = run_node(Copy, {"source": {"kind": "msg", "value": "payload.nothing"}},
                   [{"payload": {}, "result": "old"}])
    assert "result" not in run.outputs[0][0]


@pytest.mark.parametrize(("source", "pointer", "sentence"), [
    ({"kind": "number", "value": "5"}, "/config/source/value", "must be a number"),
    ({"kind": "msg", "value": "payload..x"}, "/config/source/value", "property path"),
    ({"kind": "jsonata", "value": "payload +"}, "/config/source/value",
     "must be a JSONata expression"),
    ({"kind": "env", "value": "not a name"}, "/config/source/value", "environment variable"),
    ({"kind": "timestamp", "value": "week"}, "/config/source/value", "milliseconds"),
    ({"kind": "regex", "value": "x"}, "/config/source/kind", "must be one of"),
    ({"value": "x"}, "/config/source/kind", "required field is missing"),
])
def test_a_bad_typed_value_is_a_config_error_naming_its_field(
        source: dict[str, Any], pointer: str, sentence: str) -> None:
    with pytest.raises(FlowInvalid) as caught:
        run_node(Copy, {"source": source}, [])
    (error,) = caught.value.errors
    assert error.node_id == "node-under-test"
    assert error.pointer == pointer
    assert sentence in error.message


def test_a_target_must_be_a_place() -> None:
    with pytest.raises(FlowInvalid) as caught:
        run_node(Copy, {"target": {"kind": "string", "value": "x"}}, [])
    assert caught.value.errors[0].pointer == "/config/target/kind"


def test_the_schema_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="typed value kinds"):
        typed_value_schema("x", kinds=("msg", "cookie"))  # type: ignore[arg-type]
