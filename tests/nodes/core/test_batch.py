"""batch: Node-RED's 19-batch_spec.js case by case: count and concat as table rows,
interval on the event loop's clock with inputs paced in time, and the messaging API
(when a complete node hears of a message) in a flow with complete and catch nodes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.nodes.core.sequence_rows import Row, check_row, heard, row, shown

TYPE = "batch"


def batches(*groups: list[Any]) -> list[dict[str, Any]]:
    """The messages sent: each group a sequence (shown ids id-0, id-1, ...)."""
    return [{"payload": value, "parts": {"id": f"id-{number}", "index": index,
                                         "count": len(group)}}
            for number, group in enumerate(groups) for index, value in enumerate(group)]


SIX = [{"payload": i, "parts": {"count": 6, "index": i}} for i in range(6)]
"""Node-RED's count input: payloads 0..5, each with msg.parts index and count but no id."""


def counted(*groups: list[int]) -> list[dict[str, Any]]:
    """Batches of SIX: msg.parts keeps nothing else, as SIX's have only index and count."""
    return batches(*groups)


def concat(*sent: tuple[str, int, int, int]) -> list[dict[str, Any]]:
    """Messages of Node-RED's concat cases: (topic, payload, index, count), id = topic."""
    return [{"topic": t, "payload": p, "parts": {"id": t, "index": i, "count": c}}
            for t, p, i, c in sent]


def concatenated(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What concat sends for these messages, in order: one sequence of them all."""
    return [{**msg, "parts": {"id": "id-0", "index": index, "count": len(sent)}}
            for index, msg in enumerate(sent)]


TA_TB = {"mode": "concat", "topics": ["TA", "TB"]}
IN_SERIES = [("TB", 0, 0, 2), ("TB", 1, 1, 2), ("TA", 2, 0, 2), ("TA", 3, 1, 2)]
SERIES = concat(*IN_SERIES)

# --- Node-RED's 19-batch_spec.js: "mode: count" and "mode: concat" ----------------------
NODE_RED_CASES = [
    row("count", {"count": 2}, SIX, counted([0, 1], [2, 3], [4, 5])),
    row("count-more-sent-than-count", {"count": 4}, SIX, counted([0, 1, 2, 3])),
    row("count-ends-early-with-parts", {"count": 4, "complete_with_parts": True}, SIX,
        counted([0, 1, 2, 3], [4, 5])),
    row("count-with-overlap", {"count": 3, "overlap": 2}, SIX,
        counted([0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5])),
    row("count-too-many-held", {"count": 5, "max_messages": 2},
        [{"payload": i} for i in range(3)], [],
        errors=["more than 2 messages held: all 3 dropped"], node_red=False),
    row("count-reset", {"count": 2},
        [{"payload": 0}, {"payload": 1}, {"payload": 2}, {"payload": 3, "reset": True},
         {"payload": 4}, {"payload": 5}], batches([0, 1], [4, 5])),
    row("concat-two-in-series", TA_TB, SERIES, concatenated(
        [SERIES[2], SERIES[3], SERIES[0], SERIES[1]])),
    row("concat-two-mixed", TA_TB,
        mixed := concat(("TA", 2, 0, 2), ("TB", 0, 0, 2), ("TA", 3, 1, 2), ("TB", 1, 1, 2)),
        concatenated([mixed[0], mixed[2], mixed[1], mixed[3]])),
    row("concat-three", {"mode": "concat", "topics": ["TA", "TB", "TC"]},
        three := concat(("TC", 4, 0, 1), *IN_SERIES),
        concatenated([three[3], three[4], three[1], three[2], three[0]])),
    row("concat-the-same-topic-twice", {"mode": "concat", "topics": ["TA", "TA"]},
        same := concat(("TA", 9, 0, 2), ("TA", 8, 1, 2)),
        concatenated([same[0], same[1], same[0], same[1]])),
    row("concat-too-many-held", {**TA_TB, "max_messages": 2},
        [msg for i in range(3) for msg in (
            {"payload": i, "topic": "TA", "parts": {"index": i, "count": 3, "id": "A"}},
            {"payload": i, "topic": "TB", "parts": {"index": i, "count": 3, "id": "B"}})],
        [], errors=["more than 2 messages held: all 3 dropped",
                    "more than 2 messages held: all 3 dropped"], node_red=False),
    row("concat-reset", TA_TB,
        [*concat(("TB", 0, 0, 2), ("TA", 1, 0, 2)), {"reset": True}, *SERIES],
        concatenated([SERIES[2], SERIES[3], SERIES[0], SERIES[1]])),
]
"""Of the spec's 28 cases: these 12, the 6 "mode: interval" cases below
(test_interval...), 7 of the 9 "messaging API" cases (test_complete_nodes_hear...);
N/A: "should be loaded with defaults" (JavaScript object fields), and the two interval
messaging cases, which only time the others (covered by the interval tests)."""

MORE_CASES = [
    row("count-keeps-other-parts-fields", {"count": 2},
        [{"payload": c, "parts": {"id": "s", "index": i, "count": 2, "type": "string",
                                  "ch": ","}} for i, c in enumerate("ab")],
        [{"payload": c, "parts": {"id": "id-0", "index": i, "count": 2, "type": "string",
                                  "ch": ","}} for i, c in enumerate("ab")]),
    row("concat-other-topics-are-dropped", TA_TB,
        [{"topic": "TC", "payload": 1, "parts": {"id": "x", "index": 0, "count": 1}}], []),
    row("concat-needs-parts", TA_TB, [{"topic": "TA", "payload": 1}], [],
        errors=["a message to concatenate needs msg.parts with id, index and count"]),
    row("concat-a-forged-count-waits-bounded", {**TA_TB, "max_messages": 3},
        concat(("TA", 1, 0, 10 ** 12), ("TA", 2, 1, 10 ** 12), ("TB", 3, 0, 1),
               ("TA", 4, 2, 10 ** 12)), [],
        errors=["more than 3 messages held: all 4 dropped"], node_red=False),
    row("count-one-is-each-message-alone", {"count": 1},
        [{"payload": "a"}, {"payload": "b"}], batches(["a"], ["b"])),
]

CASES = NODE_RED_CASES + MORE_CASES


@pytest.mark.parametrize("case", CASES)
def test_batch(case: Row) -> None:
    check_row(TYPE, case)


async def test_an_overlap_not_below_count_fails_to_start() -> None:
    document = {"version": 1, "nodes": [
        {"id": "b", "type": TYPE, "config": {"count": 3, "overlap": 3}}]}
    async with FlowHarness(document) as h:
        assert "b" not in h.engine.nodes
        assert [e.data["text"] for e in h.events if e.kind == "status"] == [
            "failed to start: ValueError: overlap (3) must be less than count (3)"]


# --- interval: Node-RED's six cases on a shorter clock ----------------------------------------
INTERVAL = 0.4
INTERVAL_CASES = [
    # (name, config, [(seconds from start, msg)], batches expected in order)
    ("interval", {}, [(0.1, {"payload": 0}), (0.2, {"payload": 1}),
                      (0.5, {"payload": 2}), (0.6, {"payload": 3})], [[0, 1], [2, 3]]),
    ("interval-not-empty", {}, [(0.6, {"payload": 0}), (1.4, {"payload": 1})], [[0], [1]]),
    ("interval-send-empty", {"send_empty": True},
     [(0.6, {"payload": 0}), (1.4, {"payload": 1})], [[None], [0], [None], [1]]),
    ("interval-reset", {},
     [(0.1, {"payload": 0}), (0.2, {"payload": 1}), (0.5, {"payload": 2}),
      (0.6, {"payload": 3, "reset": True}), (0.7, {"payload": 4}), (0.9, {"payload": 5})],
     [[0, 1], [4, 5]]),
]
"""Node-RED's interval, interval in float, not-empty, send-empty and reset cases (the
first two are one case here: seconds are a float anyway), each a tick of 0.4 s with
inputs at least 0.1 s from a tick; the too-many case is test_interval_too_many..."""


def interval_config(more: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "interval", "interval": INTERVAL, **more}


async def paced(h: FlowHarness, node_id: str, timed: list[tuple[float, dict[str, Any]]]
                ) -> None:
    """Feed the messages at their times from now (the test's input, not a wait)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for at, msg in timed:
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        h.inject(node_id, dict(msg))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "more", "timed", "expected"), INTERVAL_CASES,
                         ids=[case[0] for case in INTERVAL_CASES])
async def test_interval(name: str, more: dict[str, Any],
                        timed: list[tuple[float, dict[str, Any]]],
                        expected: list[list[Any]]) -> None:
    document = {"version": 1, "nodes": [
        {"id": "b", "type": TYPE, "config": interval_config(more)}]}
    async with FlowHarness(document) as h:
        await paced(h, "b", timed)
        sent = await h.wait_for("b", sum(map(len, expected)), timeout=5)
    inputs = [msg for _, msg in timed]
    assert shown(sent, inputs) == batches(*expected)


async def test_interval_too_many_held_drops_all() -> None:
    document = {"version": 1, "nodes": [
        {"id": "b", "type": TYPE, "config": interval_config({"max_messages": 2})}]}
    async with FlowHarness(document) as h:
        for i in range(3):
            h.inject("b", {"payload": i})
        event = await h.wait_event(lambda e: e.kind == "error" and e.node_id == "b")
        assert event.data["text"] == "more than 2 messages held: all 3 dropped"
        assert h.received("b") == []


# --- the messaging API: when a complete node hears that batch is done with a message ---------
MESSAGING = [
    ("count-sent", {"count": 2}, [{"payload": 0}, {"payload": 1}], [0, 1], []),
    ("count-reset", {"count": 2}, [{"payload": 0}, {"payload": 1, "reset": True}],
     [0, 1], []),
    ("count-overflow", {"count": 10, "max_messages": 2},
     [{"payload": 0}, {"payload": 1}, {"payload": 2}], [0, 1], [2]),
    ("concat-sent", {"mode": "concat", "topics": ["TA"]},
     concat(("TA", 0, 0, 2), ("TA", 1, 1, 2)), [0, 1], []),
    ("concat-reset", {"mode": "concat", "topics": ["TA"]},
     [*concat(("TA", 0, 0, 2)), {"payload": 1, "reset": True}], [0, 1], []),
    ("concat-overflow", {"mode": "concat", "topics": ["TA"], "max_messages": 2},
     concat(("TA", 0, 0, 3), ("TA", 1, 1, 3), ("TA", 2, 2, 3)), [0, 1], [2]),
    ("interval-reset", {"mode": "interval", "interval": 60},
     [{"payload": 0}, {"payload": 1, "reset": True}], [0, 1], []),
]


@pytest.mark.parametrize(("name", "config", "inputs", "completed", "caught"), MESSAGING,
                         ids=[case[0] for case in MESSAGING])
async def test_complete_nodes_hear_when_batch_is_done(
        name: str, config: dict[str, Any], inputs: list[dict[str, Any]],
        completed: list[int], caught: list[int]) -> None:
    done, errors = await heard(TYPE, config, inputs, len(completed), len(caught))
    assert sorted(msg["payload"] for msg in done) == completed
    assert [msg["payload"] for msg in errors] == caught
