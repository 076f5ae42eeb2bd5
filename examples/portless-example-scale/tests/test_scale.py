"""Tests of the scale node, through portless's own test harness (as any plugin can)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from typing import Any

import pytest
from portless.runtime import FlowInvalid, Message, Registry, check_flow
from portless.testing import FlowHarness, run_node

from portless_example_scale import Scale

# (test id, config, input payloads, expected output payloads, expected warning fragments)
CASES: list[tuple[str, dict[str, Any], list[Any], list[Any], list[str]]] = [
    ("defaults-pass-through", {}, [0, 7, -2.5], [0, 7, -2.5], []),
    ("factor", {"factor": 2}, [1, 2, 3], [2, 4, 6], []),
    ("offset", {"offset": 10}, [1, -10], [11, 0], []),
    ("factor-and-offset", {"factor": 0.5, "offset": -1}, [4, 0], [1.0, -1.0], []),
    ("celsius-to-fahrenheit", {"factor": 1.8, "offset": 32}, [100, -40], [212.0, -40.0], []),
    ("round-2", {"factor": 1 / 3, "round": 2}, [1, 2], [0.33, 0.67], []),
    ("round-0-gives-int", {"factor": 0.4, "round": 0}, [4, 6], [2, 2], []),
    ("round-null-leaves-it", {"factor": 0.1, "round": None}, [3], [0.30000000000000004], []),
    ("fraction-is-a-number", {"factor": 2}, [Fraction(1, 4)], [Fraction(1, 2)], []),
    ("string-dropped", {"factor": 2}, ["12"], [],
     ["msg.payload is not a number: '12' (str)"]),
    ("bool-dropped", {"factor": 2}, [True, False], [],
     ["not a number: True (bool)", "not a number: False (bool)"]),
    ("null-dropped", {}, [None], [], ["not a number: None (NoneType)"]),
    ("object-dropped", {}, [{"v": 1}], [], ["not a number: {'v': 1} (dict)"]),
    ("long-value-shortened", {}, ["x" * 200], [], ["xxxx... (str)"]),
    ("bad-ones-dropped-good-ones-kept-in-order", {"offset": 1}, [1, "a", 2, None, 3],
     [2, 3, 4], ["'a' (str)", "None (NoneType)"]),
]


@pytest.mark.parametrize(("config", "payloads", "expected", "warnings"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_scale_payload(config: dict[str, Any], payloads: list[Any], expected: list[Any],
                       warnings: list[str]) -> None:
    run = run_node("scale", config, [{"payload": p} for p in payloads])
    outputs = [msg["payload"] for msg in run.outputs[0]]
    assert outputs == pytest.approx(expected)
    assert [type(v) for v in outputs] == [type(v) for v in expected]
    assert len(run.warnings) == len(warnings)
    for text, fragment in zip(run.warnings, warnings, strict=True):
        assert fragment in text
        assert text.endswith("message dropped")
    assert run.errors == []


# (test id, property, input message, expected message after scaling by 10)
PROPERTY_CASES: list[tuple[str, str, Message, Message]] = [
    ("top-level", "value", {"payload": "kept", "value": 2},
     {"payload": "kept", "value": 20}),
    ("dotted", "payload.temperature", {"payload": {"temperature": 2, "unit": "C"}},
     {"payload": {"temperature": 20, "unit": "C"}}),
    ("deeply-dotted", "payload.a.b", {"payload": {"a": {"b": 3, "c": 4}}},
     {"payload": {"a": {"b": 30, "c": 4}}}),
    ("index", "payload.values[1]", {"payload": {"values": [1, 2, 3]}},
     {"payload": {"values": [1, 20, 3]}}),
    ("index-top", "payload[0]", {"payload": [5, 6]}, {"payload": [50, 6]}),
    ("quoted-key", 'payload["flow rate"]', {"payload": {"flow rate": 4}},
     {"payload": {"flow rate": 40}}),
    ("object-key-0", "payload[0]", {"payload": {"0": 1}}, {"payload": {"0": 10}}),
    ("by-topic", "payload[msg.topic]", {"topic": "b", "payload": {"a": 1, "b": 2}},
     {"payload": {"a": 1, "b": 20}}),
]


@pytest.mark.parametrize(("path", "msg", "expected"),
                         [case[1:] for case in PROPERTY_CASES],
                         ids=[case[0] for case in PROPERTY_CASES])
def test_scale_property(path: str, msg: Message, expected: Message) -> None:
    run = run_node("scale", {"factor": 10, "property": path}, [msg])
    assert run.warnings == []
    [out] = run.outputs[0]
    assert {key: out[key] for key in expected} == expected


@pytest.mark.parametrize(("path", "msg", "fragment"), [
    ("payload.temperature", {"payload": {"unit": "C"}}, "msg.payload.temperature is missing"),
    ("payload.temperature", {"payload": 5}, "msg.payload.temperature is missing"),
    ("value", {"payload": 1}, "msg.value is missing"),
    ("payload.values[5]", {"payload": {"values": [1]}}, "msg.payload.values[5] is missing"),
    ("payload.values[0]", {"payload": {"values": ["x"]}}, "is not a number: 'x'"),
])
def test_scale_property_missing_or_bad(path: str, msg: Message, fragment: str) -> None:
    run = run_node("scale", {"factor": 10, "property": path}, [msg])
    assert run.outputs[0] == []
    [warning] = run.warnings
    assert fragment in warning


def test_scale_keeps_the_message_and_its_other_fields() -> None:
    """The node sends the message it got (no copy), with only the property changed."""
    run = run_node("scale", {"factor": 2}, [{"payload": 21, "topic": "t/1", "extra": [1]}])
    [out] = run.outputs[0]
    assert out["payload"] == 42
    assert out["topic"] == "t/1"
    assert out["extra"] == [1]
    assert "_msgid" in out


async def test_scale_sends_the_same_object() -> None:
    """No per-message copy: the object that went in is the object that comes out."""
    flow = {"version": 1, "nodes": [
        {"id": "scale-id", "type": "scale", "config": {"factor": 3}}]}
    async with FlowHarness(flow) as h:
        sent: Message = {"payload": 2}
        h.inject("scale-id", sent)
        [out] = await h.wait_for("scale-id", 1, timeout=5)
    # The collector is the only wire, so it is the first one and gets the original.
    assert out is sent
    assert sent["payload"] == 6


def test_scale_nan_and_infinity_pass_unrounded() -> None:
    run = run_node("scale", {"round": 0}, [{"payload": math.inf}, {"payload": math.nan}])
    first, second = (msg["payload"] for msg in run.outputs[0])
    assert first == math.inf
    assert math.isnan(second)
    assert run.errors == []


def test_scale_immutable_container_warns() -> None:
    run = run_node("scale", {"factor": 2, "property": "payload[0]"}, [{"payload": (1, 2)}])
    assert run.outputs[0] == []
    [warning] = run.warnings
    assert "msg.payload[0] cannot be written" in warning


@pytest.mark.parametrize(("config", "field"), [
    ({"factor": "2"}, "factor"),
    ({"offset": None}, "offset"),
    ({"round": 1.5}, "round"),
    ({"round": -1}, "round"),
    ({"property": "payload..x"}, "property"),
    ({"property": "payload[x]"}, "property"),
    ({"property": ""}, "property"),
    ({"facter": 2}, "facter"),
])
def test_scale_bad_config_is_refused_at_load(config: dict[str, Any], field: str) -> None:
    """A wrong config is a load error naming the node and the field, before anything runs."""
    flow = {"version": 1, "nodes": [{"id": "scale-id", "type": "scale", "config": config}]}
    with pytest.raises(FlowInvalid) as caught:
        check_flow(flow, Registry.discover())
    [error] = caught.value.errors
    assert (error.node_id, error.pointer) == ("scale-id", f"/config/{field}")


def test_scale_schema_documents_every_field() -> None:
    """The schema drives the editor's form and the docs: every field needs all three."""
    assert Scale.schema["additionalProperties"] is False
    for name, field in Scale.schema["properties"].items():
        assert {"title", "description", "default"} <= field.keys(), name


def test_scale_is_discovered_through_its_entry_point() -> None:
    registry = Registry.discover()
    assert registry.get("scale") is Scale
    assert "portless-example-scale" in registry.source("scale")


async def test_scale_in_a_flow() -> None:
    """io-in counts 0, 1, 2, ...; scale turns each count n into n * 10 + 1."""
    flow = {"version": 1, "nodes": [
        {"id": "counter", "type": "io-in", "name": "count",
         "config": {"source": "sim", "signal": "counter", "interval": 0.01},
         "wires": [["scale-id"]]},
        {"id": "scale-id", "type": "scale", "name": "to units",
         "config": {"factor": 10, "offset": 1}, "wires": [[]]},
    ]}
    async with FlowHarness(flow) as h:
        received = await h.wait_for("scale-id", 3, timeout=5)
    assert [msg["payload"] for msg in received] == [1, 11, 21]
    assert [msg["topic"] for msg in received] == ["", "", ""]
    assert not [e for e in h.events if e.kind in ("warning", "error")]


@pytest.mark.slow  # portless as a subprocess
def test_portless_nodes_lists_scale() -> None:
    done = subprocess.run([sys.executable, "-m", "portless", "nodes", "--json"],
                          capture_output=True, text=True, check=True, timeout=60)
    types = {entry["type"]: entry for entry in json.loads(done.stdout)}
    scale = types["scale"]
    assert "portless-example-scale" in scale["source"]
    assert scale["category"] == "function"
    assert (scale["inputs"], scale["outputs"]) == (1, 1)
    assert scale["schema"] == Scale.schema
