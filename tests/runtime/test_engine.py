"""The engine: ordered delivery, fan-out copies, error isolation, shared connections,
deploys that restart only what changed, and stops bounded by a timeout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from portless.runtime import (
    Engine,
    Event,
    EventBus,
    Message,
    Node,
    Registry,
    check_flow,
)
from portless.testing import FlowHarness, run_node
from tests.nodetypes import TEST_TYPES, Connection, Rules, Tunnel


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


def node(node_id: str, type_: str, config: dict[str, Any] | None = None,
         wires: list[list[str]] | None = None) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "config": config or {}, "wires": wires or []}


async def test_messages_pass_in_order_through_a_chain() -> None:
    document = flow(node("a", "test-double", wires=[["b"]]), node("b", "test-double"))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        for value in range(100):
            h.inject("a", {"payload": value})
        got = await h.wait_for("b", 100)
    assert [m["payload"] for m in got] == [v * 4 for v in range(100)]


async def test_fan_out_gives_first_wire_the_original_and_later_wires_a_copy() -> None:
    class Keep(Node):
        type = "test-keep"
        outputs = 0
        kept: list[Message] = []

        def on_input(self, msg: Message) -> None:
            Keep.kept.append(msg)
            msg["payload"]["touched_by"] = self.id  # a branch that mutates what it got

    class Source(Node):
        type = "test-source"
        sent: list[Message] = []

        def on_input(self, msg: Message) -> None:
            Source.sent.append(msg)
            self.send(msg)

    document = flow(node("src", "test-source", wires=[["k1", "k2", "k3"]]),
                    node("k1", "test-keep"), node("k2", "test-keep"), node("k3", "test-keep"))
    async with FlowHarness(document, node_types=[Keep, Source]) as h:
        h.inject("src", {"payload": {"value": 1}})
        await h.engine.wait_idle(timeout=5)
    first, second, third = Keep.kept
    assert first is Source.sent[0]
    assert second is not first
    assert third is not first
    assert second["payload"] is not first["payload"]
    assert [m["payload"]["touched_by"] for m in Keep.kept] == ["k1", "k2", "k3"]
    assert second["_msgid"] == first["_msgid"]


async def test_multiple_outputs_route_by_port() -> None:
    document = flow(node("s", "test-split", wires=[["even"], ["odd"]]),
                    node("even", "test-double"), node("odd", "test-double"))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        for value in range(6):
            h.inject("s", {"payload": value})
        evens = await h.wait_for("even", 3)
        odds = await h.wait_for("odd", 3)
    assert [m["payload"] for m in evens] == [0, 4, 8]
    assert [m["payload"] for m in odds] == [2, 6, 10]


async def test_node_exception_is_isolated_counted_and_shown() -> None:
    document = flow(node("a", "test-double", wires=[["b"]]), node("b", "test-double"))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        h.inject("a", {"payload": 1})
        h.inject("a", {"payload": "boom"})
        h.inject("a", {"payload": 2})
        got = await h.wait_for("b", 2)
        node_a = h.engine.nodes["a"]
        assert node_a.error_count == 1
        assert node_a.last_status == {"fill": "red", "shape": "ring",
                                      "text": "ValueError: cannot double boom"}
        errors = [e for e in h.events if e.kind == "error"]
    assert [m["payload"] for m in got] == [4, 8]
    assert errors[0].node_id == "a"
    assert "cannot double boom" in errors[0].data["text"]


async def test_error_is_logged_with_node_id(caplog: pytest.LogCaptureFixture) -> None:
    async with FlowHarness(flow(node("a", "test-double")), node_types=TEST_TYPES) as h:
        h.inject("a", {"payload": "boom"})
        await h.engine.wait_idle(timeout=5)
    assert any("node a (test-double) raised" in r.getMessage() for r in caplog.records)


async def test_shared_connection_starts_once_before_its_users() -> None:
    Connection.starts = 0
    document = flow(
        {"id": "conn", "type": "test-connection", "config": {}},
        node("c1", "test-client", {"connection": "conn"}, [["c2"]]),
        node("c2", "test-client", {"connection": "conn"}))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        h.inject("c1", {"payload": 1})
        (msg,) = await h.wait_for("c2", 1)
    assert msg["via"] == "conn"
    assert Connection.starts == 1


async def test_deploy_restarts_only_changed_nodes_and_keeps_state() -> None:
    registry = Registry(TEST_TYPES)
    engine = Engine(registry, events=EventBus())
    base = [node("a", "test-double", wires=[["b"]]), node("b", "test-double", wires=[["c"]]),
            node("c", "test-double"), node("d", "test-double")]
    await engine.start(check_flow(flow(*base), registry))
    before = dict(engine.nodes)
    before["a"].memory = "kept"  # type: ignore[attr-defined]

    changed = [dict(n) for n in base]
    changed[1] = node("b", "test-double", {"factor": 5}, [["c"]])   # config changed
    changed[2] = node("c", "test-double", wires=[["a"]])            # wires changed
    changed[3] = {**base[3], "x": 400, "y": 80}                      # moved only
    changed.append(node("e", "test-double"))                         # added
    report = await engine.deploy(check_flow(flow(*changed), registry))

    assert sorted(report.started) == ["b", "c", "e"]
    assert sorted(report.stopped) == ["b", "c"]
    assert sorted(report.unchanged) == ["a", "d"]
    assert engine.nodes["a"] is before["a"]
    assert engine.nodes["a"].memory == "kept"
    assert engine.nodes["d"] is before["d"]
    assert engine.nodes["b"] is not before["b"]
    assert engine.nodes["a"].wires == [[engine.nodes["b"]]]  # relinked to the new b

    changed[1] = node("b", "test-double", {"factor": 5})
    removed = await engine.deploy(check_flow(flow(*changed[:2]), registry))
    assert sorted(removed.stopped) == ["b", "c", "d", "e"]
    assert sorted(engine.nodes) == ["a", "b"]
    await engine.stop()


async def test_deploy_of_a_changed_shared_connection_restarts_its_users() -> None:
    registry = Registry(TEST_TYPES)
    engine = Engine(registry)
    nodes = [{"id": "conn", "type": "test-connection", "config": {"url": "a"}},
             node("user", "test-client", {"connection": "conn"}),
             node("other", "test-double")]
    await engine.start(check_flow(flow(*nodes), registry))
    nodes[0] = {"id": "conn", "type": "test-connection", "config": {"url": "b"}}
    report = await engine.deploy(check_flow(flow(*nodes), registry))
    assert sorted(report.started) == ["conn", "user"]
    assert report.unchanged == ("other",)
    await engine.stop()


async def test_stop_waits_for_each_node_with_a_timeout(caplog: pytest.LogCaptureFixture) -> None:
    class Stuck(Node):
        type = "test-stuck"
        stopped_cleanly = False

        async def stop(self) -> None:
            await asyncio.Event().wait()

    class Clean(Node):
        type = "test-clean"
        stopped = False

        async def stop(self) -> None:
            Clean.stopped = True

    registry = Registry([Stuck, Clean])
    engine = Engine(registry, stop_timeout=0.2)
    await engine.start(check_flow(flow(node("s", "test-stuck"), node("c", "test-clean")),
                                  registry))
    await asyncio.wait_for(engine.stop(), 5)
    assert Clean.stopped
    assert engine.nodes == {}
    assert any("did not stop within 0.2 s" in r.getMessage() for r in caplog.records)


async def test_a_node_that_fails_to_start_does_not_stop_the_rest() -> None:
    class Broken(Node):
        type = "test-broken"

        async def start(self) -> None:
            raise OSError("device /dev/adc0 missing")

    document = flow(node("bad", "test-broken"), node("good", "test-double"))
    async with FlowHarness(document, node_types=[*TEST_TYPES, Broken]) as h:
        assert "bad" not in h.engine.nodes
        h.inject("good", {"payload": 1})
        (msg,) = await h.wait_for("good", 1)
        error = await h.wait_event(lambda e: e.kind == "error" and e.node_id == "bad")
    assert msg["payload"] == 2
    assert "device /dev/adc0 missing" in error.data["text"]


async def test_exceptions_in_node_timers_and_tasks_are_reported() -> None:
    class Ticker(Node):
        type = "test-ticker"

        async def start(self) -> None:
            self.call_later(0.01, self.explode)
            self.spawn(self.crash())

        def explode(self) -> None:
            raise RuntimeError("timer went wrong")

        async def crash(self) -> None:
            raise RuntimeError("task went wrong")

    async with FlowHarness(flow(node("t", "test-ticker")), node_types=[Ticker]) as h:
        await h.wait_event(lambda e: e.kind == "error" and "timer went wrong" in e.data["text"])
        await h.wait_event(lambda e: e.kind == "error" and "task went wrong" in e.data["text"])
        assert h.engine.nodes["t"].error_count == 2


async def test_sending_on_a_missing_port_is_a_clear_error() -> None:
    class Wrong(Node):
        type = "test-wrong"

        def on_input(self, msg: Message) -> None:
            self.send([None, msg])

    async with FlowHarness(flow(node("w", "test-wrong")), node_types=[Wrong]) as h:
        h.inject("w", {"payload": 1})
        event = await h.wait_event(lambda e: e.kind == "error")
    assert "send on port 1, but test-wrong has 1 output(s)" in event.data["text"]


# --- outputs that follow the config ------------------------------------------------
async def test_a_node_has_the_outputs_its_config_gives_and_routes_on_them() -> None:
    document = flow(node("r", "test-rules", {"rules": [1, 2, 3]},
                         [["one"], ["two"], ["three"]]),
                    node("one", "test-double"), node("two", "test-double"),
                    node("three", "test-double"))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        rules = h.engine.nodes["r"]
        assert rules.outputs == 3
        assert len(rules.wires) == 3
        for value in (3, 1, 2):
            h.inject("r", {"payload": value})
        assert [m["payload"] for m in await h.wait_for("three")] == [6]
        assert [m["payload"] for m in await h.wait_for("one")] == [2]
        assert [m["payload"] for m in await h.wait_for("two")] == [4]
    assert type(rules).outputs == 1  # the class keeps its own; the instance has its count


async def test_a_deploy_that_changes_the_config_changes_the_ports() -> None:
    registry = Registry(TEST_TYPES)
    engine = Engine(registry)
    await engine.start(check_flow(flow(
        node("r", "test-rules", {"rules": [1, 2, 3]}, [["a"], ["b"], ["c"]]),
        node("a", "test-double"), node("b", "test-double"), node("c", "test-double")),
        registry))
    report = await engine.deploy(check_flow(flow(
        node("r", "test-rules", {"rules": [1]}, [["a"]]),
        node("a", "test-double"), node("b", "test-double"), node("c", "test-double")),
        registry))
    assert report.started == ("r",)
    assert engine.nodes["r"].outputs == 1
    assert engine.nodes["r"].wires == [[engine.nodes["a"]]]
    await engine.stop()


async def test_sending_past_the_ports_of_its_config_is_a_clear_error() -> None:
    class Overflowing(Node):
        type = "test-overflowing"
        schema = {"type": "object", "properties": {"ports": {"type": "integer", "default": 2}}}

        @classmethod
        def output_count(cls, config: Mapping[str, Any]) -> int:
            return int(config["ports"])

        def on_input(self, msg: Message) -> None:
            self.send([None, None, msg])

    async with FlowHarness(flow(node("o", "test-overflowing")),
                           node_types=[Overflowing]) as h:
        h.inject("o", {"payload": 1})
        event = await h.wait_event(lambda e: e.kind == "error")
    assert "send on port 2, but test-overflowing has 2 output(s) with its config" \
        in event.data["text"]


def test_run_node_collects_every_port_the_config_gives() -> None:
    run = run_node(Rules, {"rules": [5, 6, 5]}, [{"payload": 5}, {"payload": 6}])
    assert [[m["payload"] for m in port] for port in run.outputs] == [[5], [6], [5]]


async def test_fan_out_from_a_timer_copies_before_the_first_branch_runs() -> None:
    """A send from outside the drain loop runs the first branch at once; the copies for
    the other wires must be taken before it can edit the message in place."""
    document = flow(node("tick", "io-in", {"signal": "counter", "interval": 0.001},
                         [["double", "watch"]]),
                    node("double", "test-double"), node("watch", "test-split"))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        doubled = await h.wait_for("double", 5)
        watched = await h.wait_for("watch", 3) + await h.wait_for("watch", 2, port=1)
    assert [m["payload"] for m in doubled] == [0, 2, 4, 6, 8]
    assert sorted(m["payload"] for m in watched) == [0, 1, 2, 3, 4]


async def test_deploy_clears_the_status_of_the_nodes_it_stops() -> None:
    registry = Registry(TEST_TYPES)
    events: list[Any] = []
    bus = EventBus()
    bus.subscribe(events.append)
    engine = Engine(registry, events=bus)
    await engine.start(check_flow(flow(node("a", "test-double"), node("b", "test-double")),
                                  registry))
    engine.nodes["a"].status("red", "broken")
    engine.nodes["b"].status("green", "fine")
    await engine.deploy(check_flow(flow(node("a", "test-double", {"factor": 3}),
                                        node("b", "test-double")), registry))
    cleared = [e.node_id for e in events if e.kind == "status" and e.data == {}]
    assert cleared == ["a"]
    await engine.stop()


async def test_a_node_failing_on_every_message_logs_about_once_a_second(
        caplog: pytest.LogCaptureFixture) -> None:
    from portless.runtime.events import LogSubscriber

    bus = EventBus()
    bus.subscribe(LogSubscriber())
    registry = Registry(TEST_TYPES)
    engine = Engine(registry, events=bus)
    await engine.start(check_flow(flow(node("a", "test-double")), registry))
    for _ in range(10_000):
        engine.inject("a", {"payload": "boom"})
    await engine.wait_idle(timeout=10)
    await engine.stop()
    lines = [r for r in caplog.records if "node a" in r.getMessage()
             and r.levelno >= logging.WARNING]
    assert engine.nodes == {}
    assert 1 <= len(lines) <= 3  # not 10,000


async def test_a_deploy_while_messages_flow_loses_none_and_reaches_no_stopped_node() -> None:
    class Slow(Node):
        """Takes a while to start and to stop, as a node opening a connection does."""

        type = "test-slow"
        schema = {"type": "object", "properties": {"label": {"type": "string"}}}

        async def start(self) -> None:
            await asyncio.sleep(0.05)  # the node's own slow start, not a test wait
            self.running = True

        async def stop(self) -> None:
            self.running = False
            await asyncio.sleep(0.05)

        def on_input(self, msg: Message) -> None:
            if not getattr(self, "running", False):
                raise RuntimeError("message reached a node that is not running")
            self.send(msg)

    document = flow(node("count", "io-in", {"signal": "counter", "interval": 0.001},
                         [["slow"]]),
                    node("slow", "test-slow", {"label": "a"}))
    async with FlowHarness(document, node_types=[Slow]) as h:
        await h.wait_for("slow", 20)
        changed = flow(node("count", "io-in", {"signal": "counter", "interval": 0.001},
                            [["slow"]]),
                       node("slow", "test-slow", {"label": "b"}))
        changed["nodes"][1]["wires"] = [["slow.collect-0"]]
        changed["nodes"].append({"id": "slow.collect-0", "type": "portless-testing-collector"})
        changed["nodes"].append({"id": "count.collect-0", "type": "portless-testing-collector"})
        changed["nodes"][0]["wires"] = [["slow", "count.collect-0"]]
        await h.engine.deploy(check_flow(changed, h.registry))
        sent = len(h.received("count"))
        got = await h.wait_for("slow", sent + 20)
    assert [e for e in h.events if e.kind == "error"] == []
    values = [m["payload"] for m in got]
    assert values == list(range(len(values)))  # none lost, none out of order


# --- a loop of wires -----------------------------------------------------------------
def ping_pong() -> dict[str, Any]:
    """Two narrowband filters wired to each other: one value passes back and forth for
    ever (a change of 0 is always inside the band)."""
    return flow(node("ping", "exception-filter", {"mode": "narrowband", "band": 1e9}, [["pong"]]),
                node("pong", "exception-filter", {"mode": "narrowband", "band": 1e9}, [["ping"]]))


class Recorder:
    """Events of an engine, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.arrived = asyncio.Event()
        self.bus = EventBus()
        self.bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        self.arrived.set()

    async def wait(self, kind: str, node_id: str, timeout: float = 10.0) -> Event:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if event.kind == kind and event.node_id == node_id:
                        return event
                self.arrived.clear()
                await self.arrived.wait()


async def timer_lateness(seconds: float) -> float:
    """How late a timer due in ``seconds`` fires (the loop's own clock)."""
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    due = loop.time() + seconds
    loop.call_at(due, lambda: fired.set_result(loop.time()))
    return float(await fired) - due


@pytest.mark.timeout(30)
async def test_stop_returns_within_its_timeout_while_a_loop_of_wires_spins(
        caplog: pytest.LogCaptureFixture) -> None:
    registry = Registry.discover()
    engine = Engine(registry, stop_timeout=2.0)
    await engine.start(check_flow(ping_pong(), registry))
    engine.inject("ping", {"payload": 5})
    loop = asyncio.get_running_loop()
    began = loop.time()
    stopping = asyncio.ensure_future(engine.stop())
    assert await timer_lateness(0.02) < 0.25  # the loop answers while stop waits
    await asyncio.wait_for(stopping, 5)
    assert loop.time() - began < engine.stop_timeout
    assert engine.nodes == {}
    assert any("still queued after 1.0 s (a loop of wires?); they are dropped"
               in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(30)
async def test_a_deploy_that_cuts_a_loop_of_wires_returns_and_the_flow_settles() -> None:
    registry = Registry.discover()
    engine = Engine(registry, stop_timeout=2.0)
    await engine.start(check_flow(ping_pong(), registry))
    engine.inject("ping", {"payload": 5})
    cut = ping_pong()
    cut["nodes"][1]["wires"] = []
    report = await asyncio.wait_for(engine.deploy(check_flow(cut, registry)), 5)
    assert report.started == ("pong",)
    await engine.wait_idle(timeout=5)  # the message circling was let out at pong
    await engine.stop()


# --- failed starts -------------------------------------------------------------------
class Flaky(Node):
    """Fails to start while ``broken`` is set (a device missing, then plugged in)."""

    type = "test-flaky"
    broken = True

    async def start(self) -> None:
        if Flaky.broken:
            raise OSError("device /dev/adc0 missing")


async def test_a_deploy_reports_a_node_that_failed_to_start_and_retries_it_next_time() -> None:
    recorder = Recorder()
    registry = Registry([*TEST_TYPES, Flaky])
    engine = Engine(registry, events=recorder.bus)
    await engine.start(check_flow(flow(node("good", "test-double")), registry))
    Flaky.broken = True
    document = flow(node("good", "test-double"), node("bad", "test-flaky"))
    report = await engine.deploy(check_flow(document, registry))
    assert report.failed == {"bad": "OSError: device /dev/adc0 missing"}
    assert report.started == ()
    assert report.unchanged == ("good",)
    assert "bad" not in engine.nodes
    status = await recorder.wait("status", "bad")
    assert status.data == {"fill": "red", "shape": "ring",
                           "text": "failed to start: OSError: device /dev/adc0 missing"}
    assert engine.statuses()["bad"] == status.data  # for an editor that opens later

    Flaky.broken = False  # the same flow again: the failed node gets another try
    since = len(recorder.events)
    again = await engine.deploy(check_flow(document, registry))
    assert again.started == ("bad",)
    assert again.failed == {}
    assert "bad" in engine.nodes
    assert [e.data for e in recorder.events[since:] if e.node_id == "bad"] == [{}]
    await engine.stop()


# --- shared connections that use other shared connections ----------------------------
def tunnels(label: str = "") -> dict[str, Any]:
    """user -> t3 -> t2 -> t1, written in the file in the wrong order on purpose."""
    return flow(node("user", "test-tunnel-user", {"tunnel": "t3"}),
                {"id": "t3", "type": "test-tunnel", "config": {"via": "t2"}},
                {"id": "t2", "type": "test-tunnel", "config": {"via": "t1"}},
                {"id": "t1", "type": "test-tunnel", "config": {"label": label}},
                node("other", "test-double"))


async def test_nodes_start_after_the_whole_chain_of_connections_they_use_and_stop_before_it(
        ) -> None:
    registry = Registry(TEST_TYPES)
    engine = Engine(registry)
    Tunnel.log = []
    report = await engine.start(check_flow(tunnels(), registry))
    assert report.failed == {}
    assert Tunnel.log == ["start t1", "start t2", "start t3", "start user"]
    Tunnel.log = []
    await engine.stop()
    assert Tunnel.log == ["stop user", "stop t3", "stop t2", "stop t1"]


async def test_a_changed_connection_restarts_everything_that_depends_on_it_however_deep(
        ) -> None:
    registry = Registry(TEST_TYPES)
    engine = Engine(registry)
    await engine.start(check_flow(tunnels("a"), registry))
    Tunnel.log = []
    report = await engine.deploy(check_flow(tunnels("b"), registry))
    assert report.started == ("t1", "t2", "t3", "user")
    assert report.unchanged == ("other",)
    assert report.failed == {}
    assert Tunnel.log == ["stop user", "stop t3", "stop t2", "stop t1",
                          "start t1", "start t2", "start t3", "start user"]
    await engine.stop()


# --- one deploy at a time ------------------------------------------------------------
async def test_concurrent_deploys_run_one_after_the_other() -> None:
    class Gate(Node):
        """Starts only when the test opens the gate; records starts and stops."""

        type = "test-gate"
        schema = {"type": "object", "properties": {"label": {"type": "string"}}}
        opened = asyncio.Event()
        starting = asyncio.Event()
        log: list[str] = []

        async def start(self) -> None:
            Gate.log.append(f"start {self.config['label']}")
            Gate.starting.set()
            await Gate.opened.wait()
            Gate.log.append(f"started {self.config['label']}")

        async def stop(self) -> None:
            Gate.log.append(f"stop {self.config['label']}")

    registry = Registry([Gate])
    engine = Engine(registry)
    Gate.opened.set()
    await engine.start(check_flow(flow(node("g", "test-gate", {"label": "a"})), registry))
    Gate.opened.clear()
    Gate.starting.clear()
    first = asyncio.ensure_future(engine.deploy(
        check_flow(flow(node("g", "test-gate", {"label": "b"})), registry)))
    second = asyncio.ensure_future(engine.deploy(
        check_flow(flow(node("g", "test-gate", {"label": "c"})), registry)))
    await asyncio.wait_for(Gate.starting.wait(), 5)
    for _ in range(10):  # give the second deploy every chance to barge in
        await asyncio.sleep(0)
    assert Gate.log == ["start a", "started a", "stop a", "start b"]
    Gate.opened.set()
    reports = await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert Gate.log == ["start a", "started a", "stop a", "start b", "started b",
                        "stop b", "start c", "started c"]
    assert [r.started for r in reports] == [("g",), ("g",)]
    await engine.stop()


async def test_a_node_whose_start_hangs_fails_after_the_start_timeout_and_the_rest_runs(
        ) -> None:
    class Hung(Node):
        type = "test-hung"

        async def start(self) -> None:
            await asyncio.Event().wait()  # a device that never answers

    registry = Registry([*TEST_TYPES, Hung])
    engine = Engine(registry, start_timeout=0.2)
    report = await asyncio.wait_for(engine.start(check_flow(
        flow(node("hung", "test-hung"), node("good", "test-double")), registry)), 5)
    assert report.failed == {"hung": "TimeoutError: did not start within 0.2 s"}
    assert report.started == ("good",)
    assert sorted(engine.nodes) == ["good"]
    await asyncio.wait_for(engine.stop(), 5)


async def test_a_disabled_node_is_not_started_and_what_is_wired_to_it_goes_nowhere() -> None:
    document = flow(node("a", "test-double", wires=[["off", "on"]]),
                    {**node("off", "test-double", wires=[["after"]]), "disabled": True},
                    node("on", "test-double"), node("after", "test-double"))
    async with FlowHarness(document, node_types=TEST_TYPES) as h:
        assert "off" not in h.engine.nodes
        h.inject("a", {"payload": 1})
        assert [m["payload"] for m in await h.wait_for("on")] == [4]
        assert h.received("off") == []
        assert h.received("after") == []
        # enabling it is an ordinary deploy: it starts, and the wire into it carries again
        report = await h.deploy(flow(node("a", "test-double", wires=[["off", "on"]]),
                                     node("off", "test-double", wires=[["after"]]),
                                     node("on", "test-double"), node("after", "test-double")))
        assert "off" in report.started
        h.inject("a", {"payload": 1})
        assert [m["payload"] for m in await h.wait_for("after")] == [8]
