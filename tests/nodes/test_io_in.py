"""io-in: simulated signals (reproducible with a seed), file channels, and read errors
that warn instead of crashing."""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path
from typing import Any

import pytest

from portless.nodes.io_in import IoIn
from portless.runtime import Message, Node
from portless.testing import FlowHarness
from tests.runtime.test_async_input import until


def io_flow(config: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": [{"id": "in", "type": "io-in", "config": config}]}


async def readings(config: dict[str, Any], count: int) -> list[Any]:
    async with FlowHarness(io_flow({"interval": 0.001, **config})) as h:
        return [m["payload"] for m in await h.wait_for("in", count)]


async def test_counter_counts_from_zero_without_gaps() -> None:
    assert await readings({"signal": "counter"}, 50) == list(range(50))


@pytest.mark.parametrize(("config", "expected"), [
    ({"signal": "sine", "amplitude": 2, "offset": 10, "period": 0.004},
     [10 + 2 * math.sin(2 * math.pi * k / 4) for k in range(8)]),
    ({"signal": "square", "amplitude": 1, "offset": 0, "period": 0.004},
     [1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0]),
    ({"signal": "ramp", "amplitude": 1, "offset": 0, "period": 0.004},
     [-1.0, -0.5, 0.0, 0.5, -1.0, -0.5, 0.0, 0.5]),
    ({"signal": "constant", "offset": 4.5}, [4.5] * 8),
])
async def test_simulated_signals(config: dict[str, Any], expected: list[float]) -> None:
    assert await readings(config, 8) == pytest.approx(expected)


async def test_random_walk_is_reproducible_with_a_seed_and_bounded_by_step() -> None:
    config = {"signal": "random-walk", "seed": 42, "step": 0.5, "offset": 100}
    first, second = await readings(config, 20), await readings(config, 20)
    assert first == second
    steps = [abs(b - a) for a, b in zip([100.0, *first], first, strict=False)]
    assert max(steps) <= 0.5
    assert await readings({**config, "seed": 7}, 20) != first


async def test_topic_is_set_on_every_message() -> None:
    async with FlowHarness(io_flow({"interval": 0.001, "topic": "device/valve-1/flow"})) as h:
        got = await h.wait_for("in", 3)
    assert {m["topic"] for m in got} == {"device/valve-1/flow"}
    assert len({m["_msgid"] for m in got}) == 3


async def test_file_source_reads_a_number_each_interval(tmp_path: Path) -> None:
    channel = tmp_path / "in_voltage0_raw"
    channel.write_text("1234\n")
    config = {"source": "file", "path": str(channel), "interval": 0.001}
    async with FlowHarness(io_flow(config)) as h:
        first = await h.wait_for("in", 1)
        channel.write_text("-3.25\n")
        while h.received("in")[-1]["payload"] != -3.25:
            await h.changed()
    assert first[0]["payload"] == 1234
    assert isinstance(first[0]["payload"], int)


@pytest.mark.parametrize(("content", "problem"), [
    (None, "cannot read"),
    ("on\n", "not a number: 'on'"),
    # float() accepts these, but they are no reading: mqtt-out then warned every second
    # "cannot encode float as json"
    ("nan\n", "not a number: 'nan'"),
    ("inf\n", "not a number: 'inf'"),
    ("-Infinity\n", "not a number: '-Infinity'"),
])
async def test_unreadable_channel_warns_once_shows_status_and_recovers(
        tmp_path: Path, content: str | None, problem: str) -> None:
    channel = tmp_path / "gpio17"
    if content is not None:
        channel.write_text(content)
    config = {"source": "file", "path": str(channel), "interval": 0.001}
    async with FlowHarness(io_flow(config)) as h:
        status = await h.wait_event(lambda e: e.kind == "status" and e.data.get("fill") == "red")
        assert problem in status.data["text"]
        channel.write_text("1\n")
        (msg,) = await h.wait_for("in", 1)
        warnings = [e for e in h.events if e.kind == "warning"]
        assert h.engine.nodes["in"].last_status == {}
    assert msg["payload"] == 1
    assert len(warnings) == 1
    assert problem in warnings[0].data["text"]
    assert str(channel) in warnings[0].data["text"]


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
async def test_a_channel_that_never_ends_or_never_answers_is_not_a_number(
        tmp_path: Path, kind: str) -> None:
    """A FIFO with no writer blocked the event loop in open() (the flow and its stop
    hung); /dev/zero was read until the memory ran out. Both are a red status now."""
    channel = tmp_path / "channel"
    if kind == "fifo":
        os.mkfifo(channel)
    config = {"source": "file", "interval": 0.001,
              "path": "/dev/zero" if kind == "/dev/zero" else str(channel)}
    async with FlowHarness(io_flow(config)) as h:
        status = await h.wait_event(lambda e: e.kind == "status" and e.data.get("fill") == "red")
    assert status.data["text"].startswith("not a number: ")


async def test_inject_reads_once_now() -> None:
    async with FlowHarness(io_flow({"signal": "counter", "interval": 3600})) as h:
        await h.wait_for("in", 1)  # the reading at start
        h.inject("in")
        got = await h.wait_for("in", 2)
    assert [m["payload"] for m in got] == [0, 1]


def test_file_source_needs_a_path() -> None:
    from portless.runtime import FlowInvalid, Registry, check_flow
    with pytest.raises(FlowInvalid, match="/config/path"):
        check_flow(io_flow({"source": "file"}), Registry.discover())


@pytest.mark.parametrize(("decimals", "expected"), [
    (None, [50 + 10 * math.sin(2 * math.pi * k / 8) for k in range(4)]),
    (1, [50.0, 57.1, 60.0, 57.1]),
    (0, [50, 57, 60, 57]),
])
async def test_decimals_round_each_reading(decimals: int | None, expected: list[float]) -> None:
    got = await readings({"signal": "sine", "amplitude": 10, "offset": 50, "period": 0.008,
                          "decimals": decimals}, 4)
    assert got == (pytest.approx(expected) if decimals is None else expected)
    if decimals == 0:
        assert all(type(value) is int for value in got)  # whole numbers, not 57.0


async def test_decimals_round_a_file_channel_and_keep_whole_numbers_of_any_size(
        tmp_path: Path) -> None:
    """A 400-digit whole number is no float: checking it for infinity raised OverflowError."""
    channel = tmp_path / "in_voltage0_raw"
    channel.write_text("21.4567\n")
    assert await readings({"source": "file", "path": str(channel), "decimals": 2}, 1) == [21.46]
    channel.write_text("9" * 400 + "\n")
    assert await readings({"source": "file", "path": str(channel), "decimals": 0}, 1) == [
        int("9" * 400)]


class SlowSink(Node):
    """Async, one queued message at most: takes each message only when the test lets it."""

    type = "test-slow-sink"
    outputs = 0
    input_queue_size = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.got: list[Any] = []

    async def on_input(self, msg: Message) -> None:
        await self.gate.wait()
        self.got.append(msg["payload"])


async def test_a_saturated_async_node_downstream_makes_it_skip_readings_not_queue_them(
        ) -> None:
    document = {"version": 1, "nodes": [
        {"id": "in", "type": "io-in", "config": {"signal": "counter", "interval": 0.001},
         "wires": [["slow"]]},
        {"id": "slow", "type": "test-slow-sink", "config": {}}]}
    async with FlowHarness(document, node_types=[SlowSink]) as h:
        source, slow = h.engine.nodes["in"], h.engine.nodes["slow"]
        assert isinstance(slow, SlowSink)
        assert isinstance(source, IoIn)
        status = await h.wait_event(lambda e: e.node_id == "in" and e.kind == "status")
        assert status.data["text"].startswith("downstream busy: skipped 1 readings")
        await until(h, lambda: source.skipped >= 20)
        assert slow.input_queue is not None
        assert slow.input_queue.dropped == 0  # held off at the source, nothing lost
        slow.gate.set()
        await h.wait_event(lambda e: e.node_id == "in" and e.data == {}, since=len(h.events))
        await until(h, lambda: len(slow.got) >= 10)
    assert slow.got[:10] == list(range(10))  # the readings it took, in order, no gaps
