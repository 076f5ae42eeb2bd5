"""trigger: Node-RED's trigger-node cases (test/nodes/core/function/89-trigger_spec.js),
re-expressed as table rows, plus portless's own (marked "").

Node-RED's file runs 53 cases (two of them for each of 8 value types); 40 are here, its
times as tenths or less, order and counts asserted, times bounded generously. Left out:
the defaults and duration-unit cases (4: seconds here, no unit field), a Buffer value
(2: portless has no binary kind), persistable context stores (4: one store here), the
Mustache template case (1: not expanded, use jsonata), and "string null as null" (2:
the importer's mapping of Node-RED's `val` kind, here a json null).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from portless.runtime import Message
from portless.testing import FlowHarness
from tests.nodes.core.timing import Step, pause, play

NR = "89-trigger_spec: "


def s(value: Any) -> dict[str, Any]:
    return {"kind": "string", "value": value}


def flow(config: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": [{"id": "t", "type": "trigger", "config": config}]}


def m(payload: Any, topic: str = "", **more: Any) -> Message:
    return {"payload": payload, "topic": topic, **more}


def sent(h: FlowHarness, port: int = 0) -> list[tuple[str, Any]]:
    return [(x.get("topic"), x.get("payload")) for x in h.received("t", port)]


QUICK = {"duration": 0.03}
WATCHDOG = {"send_first": False, "extend": True, "duration": 0.05, "second": s("alarm")}
ORDER = [  # (Node-RED case, config, steps, (topic, payload) sent in order)
    (NR + "should output 1 then 0 when triggered (default)", QUICK, [m("x")],
     [("", "1"), ("", "0")]),
    (NR + "should ignore any other inputs while triggered if extend is false", QUICK,
     [m("a"), m("b"), m("c")], [("", "1"), ("", "0")]),
    (NR + "should handle true and false as strings and delay of 0",
     {"first": {"kind": "boolean", "value": True}, "then": "reset",
      "second": {"kind": "boolean", "value": False}}, [m("a"), m("b"), {"reset": True}],
     [("", True)]),
    (NR + "should handle multiple topics as one if not asked to handle", QUICK,
     [m("a", "A"), m("b", "B")], [("A", "1"), ("A", "0")]),
    (NR + "should handle multiple topics individually if asked to do so",
     {**QUICK, "per_topic": True}, [m("a", "A"), m("b", "B"), m("c", "A")],
     [("A", "1"), ("B", "1"), ("A", "0"), ("B", "0")]),
    (NR + "should handle multiple topics individually, and extend one",
     {"duration": 0.1, "per_topic": True, "extend": True},
     [m("a", "A"), m("b", "B"), 0.06, m("c", "A")],
     [("A", "1"), ("B", "1"), ("B", "0"), ("A", "0")]),
    (NR + "should be able to not output anything on first trigger",
     {**QUICK, "send_first": False}, [m("a")], [("", "0")]),
    (NR + "should be able to not output anything on second edge",
     {**QUICK, "send_second": "nothing"}, [m("a")], [("", "1")]),
    (NR + "should be able to reset correctly having not output anything on second edge",
     {**QUICK, "send_second": "nothing"}, [m("a"), {"reset": True}, m("b")],
     [("", "1"), ("", "1")]),
    (NR + "should be able to extend the delay", {**QUICK, "extend": True,
                                                 "first": {"kind": "msg", "value": "payload"},
                                                 "second": s("Goodbye")},
     [m("Hello"), 0.015, m("World")], [("", "Hello"), ("", "Goodbye")]),
    (NR + "should be able to extend the delay (but with no 2nd output)",
     {**QUICK, "extend": True, "send_second": "nothing",
      "first": {"kind": "msg", "value": "payload"}},
     [m("Hello"), 0.015, m("World")], [("", "Hello")]),
    (NR + "should be able to extend the delay and output the most recent payload",
     {**QUICK, "extend": True, "send_first": False, "send_second": "latest"},
     [m("Hello"), 0.015, m("World")], [("", "World")]),
    (NR + "should be able output the 2nd payload (latest while waiting)",
     {**QUICK, "send_first": False, "send_second": "latest"},
     [m("Hello", "test1"), m("Goodbye", "test2"), 0.06, m("World", "test3")],
     [("test2", "Goodbye"), ("test3", "World")]),
    (NR + "should be able output the 2nd payload and handle multiple topics",
     {**QUICK, "send_first": False, "send_second": "latest", "per_topic": True},
     [m("Hello1", "test1"), m("Hello2", "test2"), m("Goodbye1", "test1"),
      m("Goodbye2", "test2")], [("test1", "Goodbye1"), ("test2", "Goodbye2")]),
    (NR + "should handle multiple other properties individually if asked to do so",
     {**QUICK, "per_topic": True, "topic_property": "foo"},
     [m("a", foo="A"), m("b", foo="B"), m("c", foo="A")],
     [("", "1"), ("", "1"), ("", "0"), ("", "0")]),
    (NR + "should ignore msg.delay if overrideDelay not set", QUICK,
     [m("a", delay=5000)], [("", "1"), ("", "0")]),
    (NR + "should use msg.delay if overrideDelay is set", {"duration": 5, "msg_delay": True},
     [m("a", delay=20)], [("", "1"), ("", "0")]),
    (NR + "should be able to set infinite timeout, and clear timeout",
     {"then": "reset"}, [m("a"), m("b"), {"reset": True}, m("c")], [("", "1"), ("", "1")]),
    (NR + "should be able to set infinite timeout, and clear timeout by message",
     {"then": "reset", "reset_payload": "boo"}, [m("a"), m("boo"), m("c")],
     [("", "1"), ("", "1")]),
    (NR + "should be able to set infinite timeout, and clear timeout by boolean true",
     {"then": "reset", "reset_payload": "true"}, [m("a"), m(True), m("c")],
     [("", "1"), ("", "1")]),
    (NR + "should be able to set infinite timeout, and clear timeout by boolean false",
     {"then": "reset", "reset_payload": "false"}, [m("a"), m(False), m("c")],
     [("", "1"), ("", "1")]),
    ("", WATCHDOG, [m(1), 0.02, m(2), 0.02, m(3)], [("", "alarm")]),
    ("", WATCHDOG, [m(1), 0.02, {"reset": True}], []),
    ("", {**QUICK, "second": {"kind": "msg", "value": "payload"}}, [m("orig")],
     [("", "1"), ("", "orig")]),
]


@pytest.mark.parametrize(("config", "steps", "expected"), [row[1:] for row in ORDER],
                         ids=[row[0] or f"portless-{n}" for n, row in enumerate(ORDER)])
async def test_what_is_sent_and_in_which_order(config: dict[str, Any], steps: list[Step],
                                               expected: list[tuple[str, Any]]) -> None:
    async with FlowHarness(flow(config)) as h:
        await play(h, "t", steps)
        assert sent(h) == expected


VALUES = [  # (value type, typed value, what the payload is; None: checked apart)
    ("num", {"kind": "number", "value": 10}, 10),
    ("str", s("10"), "10"),
    ("bool", {"kind": "boolean", "value": True}, True),
    ("json", {"kind": "json", "value": {"x": "vx", "y": "vy", "z": "vz"}},
     {"x": "vx", "y": "vy", "z": "vz"}),
    ("env", {"kind": "env", "value": "NR_TEST"}, "env-val"),
    ("date", {"kind": "timestamp", "value": "milliseconds"}, None),
    ("date iso", {"kind": "timestamp", "value": "iso"}, None),
]


def _check(payload: Any, kind: str, expected: Any) -> None:
    if kind == "date":
        assert abs(payload - time.time() * 1000) < 60_000
    elif kind == "date iso":
        assert payload[:11] == time.strftime("%Y-%m-%dT", time.gmtime())[:11]
    else:
        assert payload == expected


@pytest.mark.parametrize("which", ["1st", "2nd"])
@pytest.mark.parametrize(("kind", "value", "expected"), VALUES,
                         ids=[f"{NR}should output the value when triggered ({row[0]})"
                              for row in VALUES])
async def test_the_values(which: str, kind: str, value: dict[str, Any], expected: Any,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NR_TEST", "env-val")
    config = ({"first": value, "send_second": "nothing"} if which == "1st"
              else {"first": s("foo"), "second": value})
    async with FlowHarness(flow({**QUICK, **config})) as h:
        await play(h, "t", [m(None)])
        payloads = [payload for _, payload in sent(h)]
    if which == "2nd":
        assert payloads[0] == "foo"
    assert len(payloads) == (1 if which == "1st" else 2)
    _check(payloads[-1], kind, expected)


async def test_flow_and_global_context_are_read_when_sent() -> None:
    # Node-RED: "should be able to return things from flow and global context variables"
    config = {**QUICK, "first": {"kind": "flow", "value": "foo"},
              "second": {"kind": "global", "value": "goo"}}
    async with FlowHarness(flow(config)) as h:
        h.engine.context_of("t", "flow").set("foo", "FOO")
        h.engine.context_of("t", "global").set("goo", "GOO")
        await play(h, "t", [m(None)])
        assert sent(h) == [("", "FOO"), ("", "GOO")]


async def test_the_second_can_go_to_a_second_output() -> None:
    # Node-RED: "should be able to send 2nd message to a 2nd output"
    async with FlowHarness(flow({**QUICK, "second_output": True})) as h:
        await play(h, "t", [m("a")])
        assert (sent(h), sent(h, 1)) == ([("", "1")], [("", "0")])


async def test_resend_repeats_until_reset() -> None:
    # Node-RED: "should be able to set a repeat, and clear loop by reset"
    config = {"then": "resend", "duration": 0.01, "reset_payload": "boo",
              "first": {"kind": "msg", "value": "payload"}}
    async with FlowHarness(flow(config)) as h:
        h.inject("t", m("foo"))
        await h.wait_for("t", 4)
        h.inject("t", m("boo"))
        await play(h, "t", [])
        count = len(h.received("t"))
        await pause(0.05)
        assert len(h.received("t")) == count
        assert {x["payload"] for x in h.received("t")} == {"foo"}


async def test_the_status_shows_how_many_wait() -> None:
    async with FlowHarness(flow({"then": "reset", "per_topic": True})) as h:
        await play(h, "t", [m(1, "a"), m(2, "b"), {"reset": True, "topic": "a"},
                       {"reset": True, "topic": "b"}])
        texts = [e.data for e in h.events if e.kind == "status"]
    assert texts == [{"fill": "blue", "shape": "dot", "text": ""},
                     {"fill": "blue", "shape": "dot", "text": "2"},
                     {"fill": "blue", "shape": "dot", "text": ""}, {}]


async def test_every_message_is_done_at_once() -> None:
    # Node-RED: "should call done() when first message has been processed" and
    # "... when it receives reset message"
    document = flow({"then": "reset"})
    document["nodes"].append({"id": "c", "type": "complete",
                              "config": {"scope": "nodes", "nodes": ["t"]}})
    async with FlowHarness(document) as h:
        await play(h, "t", [m("a"), {"reset": True}])
        got = await h.wait_for("c", 2)
    assert [x.get("reset", x.get("payload")) for x in got] == ["1", True]
