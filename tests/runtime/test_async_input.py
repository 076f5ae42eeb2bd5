"""Async input: an ``async def on_input`` runs one message at a time, in order, behind a
bounded queue with a stated full-queue policy; sources upstream can see it saturated."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from portless.runtime import FlowInvalid, Message, Node, Registry, check_flow
from portless.testing import FlowHarness, run_node
from tests.nodetypes import TEST_TYPES
from tests.runtime.test_engine import flow, node
from tests.runtime.test_watchers import watcher


class Echo(Node):
    """Async: passes each message on after one turn of the event loop."""

    type = "test-echo"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.active = 0
        self.most_active = 0

    async def on_input(self, msg: Message) -> None:
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        await asyncio.sleep(0)
        self.active -= 1
        self.send(msg)


class Gated(Node):
    """Async: holds each message until the test opens its gate; "boom" raises."""

    type = "test-gated"
    input_queue_size = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.in_hand: Message | None = None
        self.stopped_while_busy: bool | None = None

    async def on_input(self, msg: Message) -> None:
        self.in_hand = msg
        try:
            await self.gate.wait()
        finally:
            self.in_hand = None
        if msg["payload"] == "boom":
            raise ValueError("cannot pass boom")
        self.send(msg)

    async def stop(self) -> None:
        self.stopped_while_busy = self.in_hand is not None


TYPES = [*TEST_TYPES, Echo, Gated]


async def until(harness: FlowHarness, condition: Callable[[], bool]) -> None:
    """Wait (on the flow's events and messages, at most 5 s) until ``condition()``."""
    async with asyncio.timeout(5):
        while not condition():
            await harness.changed()


def gated(queue: dict[str, Any] | None = None, wires: list[list[str]] | None = None
          ) -> dict[str, Any]:
    return node("g", "test-gated", {"input_queue": queue} if queue else {}, wires)


# --- the contract ---------------------------------------------------------------------
def test_an_async_type_is_detected_once_and_its_schema_gets_the_queue_field() -> None:
    assert Gated.async_input
    assert not Node.async_input
    field = Gated.schema["properties"]["input_queue"]
    assert field["default"] == {"size": 3, "when_full": "block"}
    assert field["properties"]["size"]["maximum"] == Node.input_queue_max
    assert field["properties"]["when_full"]["enum"] == ["block", "drop-oldest", "drop-newest"]
    # What the editor's form and `portless nodes --json` get is that same schema.
    assert Registry([Gated]).describe(Gated)["schema"] is Gated.schema

    class Plain(Gated):  # a synchronous subclass has no queue, nor the field
        type = "test-plain"

        def on_input(self, msg: Message) -> None:
            self.send(msg)

    assert not Plain.async_input
    assert "input_queue" not in Plain.schema["properties"]


def test_a_type_that_declares_the_queue_field_itself_or_a_bad_size_is_refused() -> None:
    with pytest.raises(TypeError, match="'input_queue' is the runtime's for async input"):
        class Own(Node):
            type = "test-own"
            schema = {"type": "object", "properties": {"input_queue": {"type": "integer"}}}

            async def on_input(self, msg: Message) -> None: ...
    with pytest.raises(TypeError, match=r"input_queue_size \(0\) must be a whole number"):
        class Empty(Node):
            type = "test-empty"
            input_queue_size = 0

            async def on_input(self, msg: Message) -> None: ...


def test_a_queue_size_over_the_types_maximum_names_the_node_and_field() -> None:
    registry = Registry(TYPES)
    document = flow(gated({"size": Node.input_queue_max + 1}))
    with pytest.raises(FlowInvalid) as caught:
        check_flow(document, registry, "flows/x.json")
    (error,) = caught.value.errors
    assert str(error).startswith("flows/x.json: node g: /config/input_queue/size: ")
    filled = check_flow(flow(gated({"when_full": "drop-oldest"})), registry).nodes[0]
    assert filled.config["input_queue"] == {"size": 3, "when_full": "drop-oldest"}


def test_run_node_waits_for_async_work_and_keeps_the_order() -> None:
    run = run_node(Echo, {}, [{"payload": value} for value in range(50)])
    assert [msg["payload"] for msg in run.outputs[0]] == list(range(50))
    assert run.errors == []
    assert run.warnings == []


async def test_messages_are_handled_one_at_a_time_in_order() -> None:
    async with FlowHarness(flow(node("e", "test-echo")), node_types=TYPES) as h:
        for value in range(200):
            h.inject("e", {"payload": value})
        got = await h.wait_for("e", 200)
        assert h.engine.nodes["e"].most_active == 1  # type: ignore[attr-defined]
    assert [msg["payload"] for msg in got] == list(range(200))


async def test_an_exception_is_reported_like_a_sync_one_and_the_next_message_goes_on() -> None:
    async with FlowHarness(flow(gated()), node_types=TYPES) as h:
        g = h.engine.nodes["g"]
        assert isinstance(g, Gated)
        g.gate.set()
        h.inject("g", {"payload": "boom"})
        h.inject("g", {"payload": 1})
        assert [msg["payload"] for msg in await h.wait_for("g", 1)] == [1]
        error = await h.wait_event(lambda e: e.kind == "error")
        assert error.data["text"] == "ValueError: cannot pass boom"
        assert g.error_count == 1
        assert g.last_status == {"fill": "red", "shape": "ring",
                                 "text": "ValueError: cannot pass boom"}


async def test_a_message_is_complete_when_its_coroutine_returns() -> None:
    document = flow(gated(), watcher("done", kind="complete", scope="nodes", nodes=["g"]))
    async with FlowHarness(document, node_types=TYPES) as h:
        g = h.engine.nodes["g"]
        assert isinstance(g, Gated)
        h.inject("g", {"payload": "boom"})
        h.inject("g", {"payload": 1})
        await until(h, lambda: g.in_hand is not None)
        assert h.received("done") == []  # queued and in hand is not done
        g.gate.set()
        (done,) = await h.wait_for("done")
        assert done["payload"] == 1  # the one that raised is an error, not done
        assert done["complete"]["source"]["id"] == "g"


# --- a full queue ---------------------------------------------------------------------
@pytest.mark.parametrize(("when_full", "handled", "dropped"), [
    ("drop-newest", [0, 1, 2], 7),
    ("drop-oldest", [7, 8, 9], 7),
    ("block", [0, 1, 2, 3, 4, 5], 4),  # kept up to twice the size, then the newest dropped
])
async def test_a_full_queue_follows_its_policy_counts_and_shows_the_drops(
        when_full: str, handled: list[int], dropped: int) -> None:
    async with FlowHarness(flow(gated({"when_full": when_full})), node_types=TYPES) as h:
        g = h.engine.nodes["g"]
        assert isinstance(g, Gated)
        for value in range(10):  # all delivered before the worker takes the first
            h.inject("g", {"payload": value})
        g.gate.set()
        got = await h.wait_for("g", len(handled))
        await until(h, lambda: not g.pending)
        assert g.input_queue is not None
        assert g.input_queue.dropped == dropped
        assert g.last_status == {"fill": "yellow", "shape": "ring",
                                 "text": f"queue full: dropped {dropped}"}
        warnings = [e.data["text"] for e in h.events if e.kind == "warning"]
    assert [msg["payload"] for msg in got] == handled
    assert warnings[-1] == (f"input queue full (3 messages, when full: {when_full}): "
                            f"{dropped} message(s) dropped so far")
    assert len(warnings) <= 2  # the first drop at once, the burst's total when it ends


# --- back-pressure ------------------------------------------------------------------------
async def test_a_source_sees_a_full_blocking_queue_through_sync_nodes_and_can_wait() -> None:
    document = flow(node("src", "test-double", wires=[["mid"]]),
                    node("mid", "test-double", wires=[["g"]]), gated())
    async with FlowHarness(document, node_types=TYPES) as h:
        src, g = h.engine.nodes["src"], h.engine.nodes["g"]
        assert isinstance(g, Gated)
        assert not src.downstream_saturated()
        for value in range(4):  # one in hand, three queued: saturated
            h.inject("src", {"payload": value})
        await until(h, lambda: g.in_hand is not None)
        assert src.downstream_saturated()
        ready = asyncio.ensure_future(src.downstream_ready())
        await until(h, lambda: g.in_hand is not None)
        assert not ready.done()
        g.gate.set()
        await asyncio.wait_for(ready, 5)
        await h.wait_for("g", 4)
        assert not src.downstream_saturated()


async def test_an_async_node_waits_for_a_saturated_async_node_below_it_instead_of_dropping(
        ) -> None:
    document = flow(node("e", "test-echo", wires=[["g"]]), gated())
    async with FlowHarness(document, node_types=TYPES) as h:
        echo, g = h.engine.nodes["e"], h.engine.nodes["g"]
        assert isinstance(g, Gated)
        assert echo.input_queue is not None
        assert g.input_queue is not None
        for value in range(20):
            h.inject("e", {"payload": value})
        await until(h, lambda: g.input_queue is not None and g.input_queue.saturated)
        assert echo.input_queue.busy  # the rest waits upstream, in the echo's queue
        g.gate.set()
        got = await h.wait_for("g", 20)
        assert g.input_queue.dropped == 0
        assert echo.input_queue.dropped == 0
    assert [msg["payload"] for msg in got] == list(range(20))


# --- stop, deploy and a cancelled worker ---------------------------------------------------
async def test_stop_lets_the_queue_drain_first() -> None:
    document = flow(node("e", "test-echo"))
    async with FlowHarness(document, node_types=TYPES) as h:
        for value in range(50):
            h.inject("e", {"payload": value})
        collector = h.collector("e")
    assert len(collector.received) == 50


async def test_stop_drops_what_is_left_after_the_drain_timeout_and_logs_the_count(
        caplog: pytest.LogCaptureFixture) -> None:
    async with FlowHarness(flow(gated()), node_types=TYPES) as h:
        h.engine.drain_timeout = 0.05
        g = h.engine.nodes["g"]
        assert isinstance(g, Gated)
        for value in range(3):
            h.inject("g", {"payload": value})
        await until(h, lambda: g.in_hand is not None)
    assert "node g (test-gated): 3 queued message(s) not handled before it stopped; " \
        "dropped" in caplog.text
    assert g.stopped_while_busy is False  # on_input was cancelled before stop() ran
    assert g.input_queue is not None
    assert g.input_queue.dropped == 3


async def test_a_deploy_keeps_the_queue_of_an_unchanged_async_node() -> None:
    document = flow(gated(), node("other", "test-double"))
    async with FlowHarness(document, node_types=TYPES) as h:
        g = h.engine.nodes["g"]
        assert isinstance(g, Gated)
        for value in range(3):
            h.inject("g", {"payload": value})
        changed = flow(gated(), node("other", "test-double", {"factor": 3}))
        report = await h.engine.deploy(check_flow(h._with_collectors(changed), h.registry))
        assert "g" in report.unchanged
        g.gate.set()
        got = await h.wait_for("g", 3)
    assert [msg["payload"] for msg in got] == [0, 1, 2]


async def test_a_deploy_that_changes_an_async_node_drains_it_then_drops_the_rest(
        caplog: pytest.LogCaptureFixture) -> None:
    async with FlowHarness(flow(gated()), node_types=TYPES) as h:
        h.engine.drain_timeout = 0.05
        old = h.engine.nodes["g"]
        assert isinstance(old, Gated)
        for value in range(3):
            h.inject("g", {"payload": value})
        await until(h, lambda: old.in_hand is not None)
        changed = flow(gated({"size": 5}))
        report = await h.engine.deploy(check_flow(h._with_collectors(changed), h.registry))
        assert report.stopped == ("g",)
        assert "node g (test-gated): 3 queued message(s) not handled" in caplog.text
        assert old.stopped_while_busy is False
        new = h.engine.nodes["g"]
        assert isinstance(new, Gated)
        assert new.input_queue is not None
        assert new.input_queue.size == 5
        new.gate.set()
        h.inject("g", {"payload": 9})
        assert [msg["payload"] for msg in await h.wait_for("g", 1)] == [9]


async def test_a_cancelled_worker_accounts_for_its_messages_and_a_new_one_takes_over(
        caplog: pytest.LogCaptureFixture) -> None:
    async with FlowHarness(flow(gated()), node_types=TYPES) as h:
        g = h.engine.nodes["g"]
        assert isinstance(g, Gated)
        assert g.input_queue is not None
        h.inject("g", {"payload": 0})
        h.inject("g", {"payload": 1})
        await until(h, lambda: g.in_hand is not None)
        (worker,) = g._tasks
        worker.cancel()
        await until(h, lambda: not g.pending)
        assert g.input_queue.dropped == 2
        assert "2 queued message(s) not handled" in caplog.text
        g.gate.set()
        h.inject("g", {"payload": 2})
        assert [msg["payload"] for msg in await h.wait_for("g", 1)] == [2]


async def test_a_plain_node_has_no_queue_and_keeps_its_own_on_input() -> None:
    async with FlowHarness(flow(node("d", "test-double")), node_types=TYPES) as h:
        double = h.engine.nodes["d"]
        assert double.input_queue is None
        assert "on_input" not in vars(double)  # the drain loop calls the class's method
