"""delay: Node-RED's delay-node cases (test/nodes/core/function/89-delay_spec.js),
re-expressed as table rows, plus portless's own (marked "").

Of Node-RED's 56 cases, 45 are here (its times as tenths or less, order and counts
asserted, times bounded generously). Left out: "should be loaded" and the two rate
unit cases (portless has seconds, no unit fields: 3; the importer converts units), the
delays "in minutes/hours/days" of fixed and random mode (6: the same seconds here), and
the burst mode (2: not provided). Its done() cases are the complete-node rows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.runtime import Message
from portless.testing import FlowHarness
from tests.nodes.core.timing import Step, play

NR = "89-delay_spec: "


def flow(config: dict[str, Any], complete: bool = False) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "d", "type": "delay", "config": config}]
    if complete:
        nodes.append({"id": "c", "type": "complete",
                      "config": {"scope": "nodes", "nodes": ["d"]}})
    return {"version": 1, "nodes": nodes}


async def sent_after(h: FlowHarness, steps: list[Step], *, settle: bool = True
                     ) -> list[tuple[str, Any]]:
    """Play the steps; the (topic, payload) of what the delay node sent, in order."""
    await play(h, "d", steps, settle=settle)
    return [(m.get("topic"), m.get("payload")) for m in h.received("d")]


def m(payload: Any, topic: str = "", **more: Any) -> Message:
    return {"payload": payload, "topic": topic, **more}


RATE = {"mode": "rate", "rate": 1, "interval": 0.05}
ORDER = [  # (Node-RED case, config, steps, (topic, payload) sent in order)
    (NR + "delays the message in seconds", {"delay": 0.02}, [m(1)], [("", 1)]),
    (NR + "delays the message in milliseconds", {"delay": 0.005}, [m(1)], [("", 1)]),
    (NR + "randomly delays the message in seconds",
     {"mode": "random", "random_from": 0.01, "random_to": 0.03}, [m(1)], [("", 1)]),
    (NR + "randomly delays the message in milliseconds",
     {"mode": "random", "random_from": 0.001, "random_to": 0.002}, [m(1)], [("", 1)]),
    (NR + "variable delay set by msg.delay", {"msg_delay": True, "delay": 5},
     [m(1, delay=10)], [("", 1)]),
    (NR + "variable delay is zero if msg.delay is zero", {"msg_delay": True, "delay": 5},
     [m(1, delay=0)], [("", 1)]),
    (NR + "variable delay is zero if msg.delay is negative",
     {"msg_delay": True, "delay": 5}, [m(1, delay=-100)], [("", 1)]),
    (NR + "variable delay is the default if msg.delay not specified",
     {"msg_delay": True, "delay": 0.01}, [m(1)], [("", 1)]),
    ("", {"msg_delay": True, "delay": 0.01}, [m(1, delay="soon")], [("", 1)]),
    (NR + "limits the message rate to 1 per second", RATE,
     [m(1), m(2), m(3)], [("", 1), ("", 2), ("", 3)]),
    (NR + "limits the message rate to 2 per seconds", {**RATE, "rate": 2},
     [m(1), m(2), m(3)], [("", 1), ("", 2), ("", 3)]),
    (NR + "limits the message rate to 1 per second, with drop", {**RATE, "limited": "drop"},
     [m(1), m(2), m(3), 0.08, m(4), m(5)], [("", 1), ("", 4)]),
    (NR + "limits the message rate to 1 per 2 seconds, with drop",
     {**RATE, "limited": "drop", "interval": 0.1}, [m(1), m(2), 0.12, m(3), m(4)],
     [("", 1), ("", 3)]),
    (NR + "limits the message rate to 2 per second, with drop",
     {**RATE, "limited": "drop", "rate": 2, "interval": 0.2}, [m(1), m(2), 0.12, m(3)],
     [("", 1), ("", 3)]),
    (NR + "limits the message rate with drop using msg.rate",
     {**RATE, "limited": "drop", "interval": 5, "msg_rate": True},
     [m(1, rate=30), m(2), 0.06, m(3), m(4)], [("", 1), ("", 3)]),
    (NR + "handles delay queue (per topic, fair)", {**RATE, "mode": "per-topic", "rate": 4,
                                                    "interval": 0.2},
     [m(1), m(1, "A"), m(1, "B"), m(2, "A"), m(3, "A"), m(2), m(4, "A")],
     [("", 2), ("A", 4), ("B", 1)]),
    (NR + "handles timed queue (latest per topic)", {**RATE, "mode": "latest-per-topic"},
     [m(1), m(1, "A"), m(1, "B"), m(2, "A"), m(3, "A"), m(2), m(4, "A")],
     [("", 2), ("A", 4), ("B", 1)]),
    (NR + "can flush delay queue", {"delay": 5},
     [m(1, "foo"), m(1, "bar"), m(1, "bar"), {"flush": True}],
     [("foo", 1), ("bar", 1), ("bar", 1)]),
    (NR + "can part flush delay queue", {"delay": 5},
     [m(1, "foo"), m(1, "bar"), m(1, "boo"), {"flush": 2}, 0.02, {"flush": 1}],
     [("foo", 1), ("bar", 1), ("boo", 1)]),
    (NR + "can reset delay queue", {"delay": 5},
     [m(1, "foo"), m(1, "bar"), {"reset": True}], []),
    (NR + "can flush rate limit queue", {**RATE, "interval": 0.5},
     [m(1, "foo"), m(1, "bar"), m(2, "bar"), {"flush": True}],
     [("foo", 1), ("bar", 1), ("bar", 2)]),
    (NR + "can part flush rate limit queue", {**RATE, "interval": 0.5},
     [m(1, "foo"), m(2, "foo"), m(1, "bar"), m(1, "boo"), {"flush": 2}, {"flush": 1},
      {"flush": 4}],
     [("foo", 1), ("foo", 2), ("bar", 1), ("boo", 1)]),
    (NR + "can part flush and reset rate limit queue", {**RATE, "interval": 5},
     [m(1, "foo"), m(2, "foo"), m(3, "foo"), {"flush": 1}, {"reset": True}],
     [("foo", 1), ("foo", 2)]),
    (NR + "can part push to front of rate limit queue", {**RATE, "interval": 0.03},
     [m(1, "a"), m(2, "b"), m(3, "c", toFront=True), m(4, "d", toFront=True)],
     [("a", 1), ("d", 4), ("c", 3), ("b", 2)]),
    (NR + "can reset rate limit queue", {**RATE, "interval": 5},
     [m(1), m(2), m(3), {"reset": True}], [("", 1)]),
    (NR + "sending a msg with reset to empty queue doesnt send anything", RATE,
     [m(1, reset=True)], []),
    ("", {"delay": 5}, [m(1), m(2, flush=True)], [("", 1), ("", 2)]),
    ("", {"mode": "per-topic", "interval": 0.5}, [m(1, "a"), m(2, "b"), m(3, "a"),
                                                 {"flush": True}], [("a", 3), ("b", 2)]),
    ("", {"delay": 5, "max_queue": 2}, [m(1), m(2), m(3), {"flush": True}],
     [("", 1), ("", 2)]),
]


@pytest.mark.parametrize(("config", "steps", "expected"), [row[1:] for row in ORDER],
                         ids=[row[0] or f"portless-{n}" for n, row in enumerate(ORDER)])
async def test_what_is_sent_and_in_which_order(config: dict[str, Any], steps: list[Step],
                                               expected: list[tuple[str, Any]]) -> None:
    async with FlowHarness(flow(config)) as h:
        assert await sent_after(h, steps) == expected


SPACING = [  # (Node-RED case, config, messages, least seconds between first and last)
    ("", {"delay": 0.05}, 1, 0.05),
    (NR + "limits the message rate to 1 per 2 seconds", {**RATE, "interval": 0.04}, 3, 0.08),
    (NR + "limits the message rate to 2 per seconds, 2 seconds",
     {**RATE, "rate": 2, "interval": 0.08}, 3, 0.08),
    (NR + "limits the message rate using msg.rate", {**RATE, "interval": 5, "msg_rate": True},
     3, 0.06),
    ("", {"mode": "random", "random_from": 0.04,
                                          "random_to": 0.06}, 1, 0.04),
]


@pytest.mark.parametrize(("config", "count", "least"), [row[1:] for row in SPACING],
                         ids=[row[0] or f"portless-{n}" for n, row in enumerate(SPACING)])
async def test_how_long_it_holds(config: dict[str, Any], count: int, least: float) -> None:
    loop = asyncio.get_running_loop()
    async with FlowHarness(flow(config)) as h:
        began = loop.time()
        for n in range(count):
            h.inject("d", m(n, rate=30) if config.get("msg_rate") else m(n))
        await h.wait_for("d", count)
        took = loop.time() - began
    assert least - 0.005 <= took < least + 3


async def test_drop_with_a_second_output_sends_the_dropped_there() -> None:
    # Node-RED: "limits the message rate to 2 per second, 5 seconds, with drop, 2nd output"
    async with FlowHarness(flow({**RATE, "interval": 5, "limited": "second-output"})) as h:
        await sent_after(h, [m(1), m(2), m(3)])
        assert [x["payload"] for x in h.received("d")] == [1]
        assert [x["payload"] for x in h.received("d", 1)] == [2, 3]


async def test_a_replaced_topic_goes_to_the_second_output() -> None:
    async with FlowHarness(flow({"mode": "per-topic", "interval": 0.02,
                                 "limited": "second-output"})) as h:
        await sent_after(h, [m(1, "a"), m(2, "a")])
        assert [x["payload"] for x in h.received("d", 1)] == [1]
        assert [x["payload"] for x in h.received("d")] == [2]


DONE = [  # (Node-RED case, config, steps, payloads complete sees, in order)
    (NR + "calls done when queued message is emitted (delay)", {"delay": 0.01}, [m(1)], [1]),
    (NR + "calls done when queued message is emitted (delayv)",
     {"msg_delay": True}, [m(1, delay=5)], [1]),
    (NR + "calls done when queued message is emitted (random)",
     {"mode": "random", "random_from": 0.001, "random_to": 0.01}, [m(1)], [1]),
    (NR + "calls done when queued message is cleared (delay)", {"delay": 5},
     [m(1), m(2), m(3, reset=True)], [1, 2, 3]),
    (NR + "calls done when queued message is cleared (delayv)", {"msg_delay": True},
     [m(1, delay=5000), m(2, reset=True)], [1, 2]),
    (NR + "calls done when queued message is cleared (random)",
     {"mode": "random", "random_from": 4, "random_to": 5}, [m(1), m(2, reset=True)], [1, 2]),
    (NR + "calls done when queued message is flushed (delay)", {"delay": 5},
     [m(1), {"payload": None, "flush": True}], [1, None]),
    (NR + "calls done when queued message is flushed (delayv)", {"msg_delay": True},
     [m(1, delay=5000), {"flush": True}], [1, None]),
    (NR + "calls done when queued message is flushed (random)",
     {"mode": "random", "random_from": 4, "random_to": 5}, [m(1), {"flush": True}],
     [1, None]),
    (NR + "calls done when rated message is emitted (queue)", RATE, [m(1), m(2)], [1, 2]),
    (NR + "calls done when rated message is emitted (drop)", {**RATE, "limited": "drop"},
     [m(1), m(2)], [1, 2]),
    (NR + "calls done when rated message is flushed", {**RATE, "interval": 0.5},
     [m(1), m(2), {"flush": True}], [1, 2, None]),
    (NR + "calls done when queued messages are sent (queue)",
     {"mode": "per-topic", "interval": 0.01}, [m(1, "a"), m(2, "b")], [1, 2]),
    (NR + "calls done when queued messages are sent (timed)",
     {"mode": "latest-per-topic", "interval": 0.01}, [m(1, "a"), m(2, "b")], [1, 2]),
    (NR + "calls done when queue is reset (queue/timed)",
     {"mode": "per-topic", "interval": 5}, [m(1, "a"), m(2, "b"), {"reset": True}],
     [1, 2, None]),
    (NR + "calls done when queue is flushed (queue/timed)",
     {"mode": "latest-per-topic", "interval": 0.5}, [m(1, "a"), m(2, "b"), {"flush": True}],
     [1, 2, None]),
]


@pytest.mark.parametrize(("config", "steps", "completed"), [row[1:] for row in DONE],
                         ids=[row[0] for row in DONE])
async def test_a_message_is_done_when_it_is_let_go(config: dict[str, Any], steps: list[Step],
                                                    completed: list[Any]) -> None:
    async with FlowHarness(flow(config, complete=True)) as h:
        await sent_after(h, steps)
        got = await h.wait_for("c", len(completed))
        assert [x.get("payload") for x in got] == completed


async def test_the_status_counts_what_is_held_and_dropped() -> None:
    async with FlowHarness(flow({"delay": 5, "max_queue": 2})) as h:
        await sent_after(h, [m(1), m(2), m(3), m(4)], settle=False)
        texts = [e.data.get("text") for e in h.events if e.kind == "status"]
        warnings = [e.data["text"] for e in h.events if e.kind == "warning"]
        assert texts == ["1", "2", "2 (1 dropped)", "2 (2 dropped)"]
        assert len(warnings) == 1
        assert "max_queue" in warnings[0]
        h.inject("d", {"reset": True})
        await h.wait_event(lambda e: e.kind == "status" and e.data.get("shape") == "ring")


async def test_stopping_drops_what_is_held_with_a_count() -> None:
    async with FlowHarness(flow({"delay": 5})) as h:
        await sent_after(h, [m(1), m(2)], settle=False)
        sent = h.received("d")
    assert sent == []
    assert [e.data["text"] for e in h.events if e.kind == "warning"] == [
        "stopped with 2 message(s) held: dropped"]
