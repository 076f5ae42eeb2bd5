"""The event bus and the log subscriber: a node reporting on every message (status,
debug, warnings) writes a bounded number of log lines, and the log ends on the truth."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest

from portless.runtime import Engine, Event, EventBus, Registry, check_flow
from portless.runtime.events import LogSubscriber


class Lines(logging.Handler):
    """The lines portless.events writes; ``await until(text)`` waits for one, no sleep."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self._arrived.set()

    def of(self, node_id: str) -> list[str]:
        return [line for line in self.lines if line.startswith(f"node {node_id}:")]

    async def until(self, text: str, timeout: float = 3.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(text in line for line in self.lines):
                self._arrived.clear()
                await self._arrived.wait()


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("portless.events")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_a_status_flood_writes_five_lines_then_the_latest_with_a_count(
        lines: Lines) -> None:
    subscriber = LogSubscriber()
    for n in range(10_000):
        subscriber(Event("status", "valve", {"fill": "blue", "shape": "dot", "text": str(n)}))
    await lines.until("more left out")
    assert lines.of("valve") == [
        *(f"node valve: status blue dot: {n}" for n in range(5)),
        "node valve: status blue dot: 9999 (9994 more left out)"]  # where it ended up


@pytest.mark.parametrize(("kind", "per_second"), [("debug", 5), ("warning", 1)])
async def test_debug_and_warning_floods_are_bounded_per_node(
        lines: Lines, kind: str, per_second: int) -> None:
    subscriber = LogSubscriber()
    for n in range(1_000):
        for node_id in ("a", "b"):  # each node has its own allowance
            subscriber(Event(kind, node_id, {"text": f"message {n}"}))  # type: ignore[arg-type]
    await lines.until("node b: " + ("debug: " if kind == "debug" else "") + "message 999")
    for node_id in ("a", "b"):
        written = lines.of(node_id)
        assert len(written) == per_second + 1
        assert written[-1].endswith(f"message 999 ({999 - per_second} more left out)")


async def test_flush_writes_what_was_left_out_at_once(lines: Lines) -> None:
    subscriber = LogSubscriber()
    for n in range(7):
        subscriber(Event("status", "valve", {"fill": "red", "shape": "ring", "text": str(n)}))
    subscriber.flush()
    assert lines.of("valve")[-1] == "node valve: status red ring: 6 (1 more left out)"
    subscriber.flush()  # nothing more to write
    assert len(lines.of("valve")) == 6


async def test_events_already_logged_and_levels_not_enabled_write_nothing(
        lines: Lines) -> None:
    subscriber = LogSubscriber()
    subscriber(Event("error", "a", {"text": "boom", "logged": True}))
    logging.getLogger("portless.events").setLevel(logging.WARNING)
    subscriber(Event("debug", "a", {"text": "hidden"}))
    subscriber(Event("warning", "a", {"text": "shown"}))
    assert lines.lines == ["node a: shown"]


async def test_a_flood_through_a_flow_logs_a_bounded_number_of_lines(lines: Lines) -> None:
    """5,000 commands into an output (a status each) and a debug node: before the limit
    that was 10,000 lines (6,859 lines in 8 s from a 1 kHz output node)."""
    bus = EventBus()
    subscriber = LogSubscriber()
    bus.subscribe(subscriber)
    registry = Registry.discover()
    document = {"version": 1, "nodes": [
        {"id": "valve", "type": "output", "config": {"target": "sim"}},
        {"id": "show", "type": "debug", "config": {}}]}
    engine = Engine(registry, events=bus)
    await engine.start(check_flow(document, registry))
    started = time.monotonic()
    for n in range(5_000):
        engine.inject("valve", {"payload": n})
        engine.inject("show", {"payload": n})
    await engine.wait_idle(timeout=10)
    seconds = time.monotonic() - started
    await engine.stop()
    subscriber.flush()
    windows = int(seconds) + 1  # the one-second windows the flood spanned
    for node_id in ("valve", "show"):
        written = lines.of(node_id)
        assert 5 <= len(written) <= 6 * windows, written
        assert written[-1].split(" (")[0].endswith("4999")  # the last value is logged


class SteppedLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when the test sets ``now``: the subscriber's
    end-of-second timers run at exact times, without sleeping."""

    now = 0.0

    def time(self) -> float:
        return self.now


@pytest.mark.parametrize("order", ["no loop", "timer first", "event first"])
def test_a_node_warning_twice_a_second_writes_one_line_a_second(
        lines: Lines, order: str) -> None:
    """The line held back was written at the end of the second and the next warning,
    arriving in the same millisecond, was written too: two lines at once, no count."""
    loop = SteppedLoop()
    subscriber = LogSubscriber(clock=loop.time)
    written: list[tuple[float, str]] = []

    def note_new_lines() -> None:
        written.extend((loop.now, line) for line in lines.of("probe")[len(written):])

    async def settle() -> None:
        """Let the timers due by ``now`` run (a few turns of the loop, no waiting)."""
        for _ in range(3):
            await asyncio.sleep(0)
        note_new_lines()

    async def warn_twice_a_second() -> None:
        for n in range(20):
            loop.now = n * 0.5
            if order == "timer first":
                await settle()
            subscriber(Event("warning", "probe", {"text": f"reading {n}"}))
            note_new_lines()
            await settle()
        loop.now = 10.0
        await settle()  # the timer writes the last one, nothing else has to

    try:
        if order == "no loop":  # held lines are written with the next event, or by flush()
            for n in range(20):
                loop.now = n * 0.5
                subscriber(Event("warning", "probe", {"text": f"reading {n}"}))
                note_new_lines()
            loop.now = 10.0
            subscriber.flush()
            note_new_lines()
        else:
            loop.run_until_complete(warn_twice_a_second())
    finally:
        loop.close()
    assert written == [
        (0.0, "node probe: reading 0"), (1.0, "node probe: reading 1"),
        *((float(second), f"node probe: reading {2 * second - 1} (1 more left out)")
          for second in range(2, 11))]
