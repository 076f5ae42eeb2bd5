"""Test harness for node types, used by portless's own tests and by plugin authors.

``run_node`` runs one node with a config and a list of input messages and returns
what it sent, warned and raised. ``FlowHarness`` runs a whole flow, lets a test
inject messages and await what a node emits (with a timeout, never a sleep).
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from portless.runtime import (
    DeployReport,
    Engine,
    Event,
    EventBus,
    FlowInvalid,
    Message,
    Node,
    Registry,
    SubflowInstance,
    check_flow,
    clone_message,
    config_outputs,
    load_subflows,
    read_flow,
    subflow_dirs,
)

UNDER_TEST = "node-under-test"


class Collector(Node):
    """Keeps every message it receives; the harness wires one to each output port."""

    type = "portless-testing-collector"
    outputs = 0
    watchable = False  # the flow behaves as it would without it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[Message] = []
        self.arrived = asyncio.Event()

    def on_input(self, msg: Message) -> None:
        self.received.append(msg)
        self.arrived.set()


@dataclass
class NodeRun:
    """What one node did in ``run_node``."""

    outputs: list[list[Message]]
    """One list per output port, of the messages sent there, in order."""
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)


def run_node(node_type: str | type[Node], config: Mapping[str, Any] | None = None,
             messages: Iterable[Message] = (), *, timeout: float = 5.0) -> NodeRun:
    """Run one node on ``messages`` until it is idle; see ``arun_node``."""
    return asyncio.run(arun_node(node_type, config, messages, timeout=timeout))


async def arun_node(node_type: str | type[Node], config: Mapping[str, Any] | None = None,
                    messages: Iterable[Message] = (), *, timeout: float = 5.0) -> NodeRun:
    """Start one node (config validated, defaults filled in, as in a flow), feed it the
    messages in order, wait until it is idle (nothing queued, no timer pending), stop it.

    ``node_type`` is a registered type name or a Node subclass. Raises FlowInvalid for a
    bad config and TimeoutError if the node is not idle within ``timeout`` seconds.
    """
    extra = [node_type] if isinstance(node_type, type) else []
    name = node_type.type if isinstance(node_type, type) else node_type
    document = {"version": 1, "nodes": [
        {"id": UNDER_TEST, "type": name, "config": dict(config or {})}]}
    async with FlowHarness(document, node_types=extra) as harness:
        node = harness.engine.nodes[UNDER_TEST]
        for msg in messages:
            harness.inject(UNDER_TEST, clone_message(dict(msg)))
        async with asyncio.timeout(timeout):
            await harness.engine.wait_idle()
            while node.pending:
                await harness.changed()
            await harness.engine.wait_idle()
        events = [e for e in harness.events if e.node_id == UNDER_TEST]
        return NodeRun(
            outputs=[harness.collector(UNDER_TEST, port).received
                     for port in range(node.outputs)],
            warnings=[e.data["text"] for e in events if e.kind == "warning"],
            errors=[e.data["text"] for e in events if e.kind == "error"],
            statuses=[e.data for e in events if e.kind == "status"])


class FlowHarness:
    """Run a flow in a test: ``async with FlowHarness(flow) as h: h.inject(...)``.

    Every output port of every node also feeds a collector (as an extra, last wire, so
    it gets a copy and the flow behaves as it would without it).
    """

    def __init__(self, flow: Mapping[str, Any] | str | Path, *,
                 node_types: Iterable[type[Node]] = (), node_dirs: Iterable[str | Path] = (),
                 subflows: Iterable[str | Path] = (),
                 env: Mapping[str, str] | None = None, state_dir: str | Path | None = None
                 ) -> None:
        if isinstance(flow, str | Path):
            self.file = str(flow)
            document = read_flow(flow)
        else:
            self.file = "<flow>"
            document = clone_message(dict(flow))
        self.registry = _discovered(tuple(node_dirs))
        for cls in [*node_types, Collector]:
            self.registry.add(cls, "test")
        # As `portless run` finds them: the given directories, then the flow file's own.
        files = [self.file] if isinstance(flow, str | Path) else []
        for directory in subflow_dirs(files, subflows):
            load_subflows(self.registry, directory)
        self._instances: dict[str, SubflowInstance] = {}
        self.document = self._with_collectors(document)
        self._env = env
        self._state_dir = state_dir
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._bus = EventBus()
        self._bus.subscribe(self._on_event)
        self.engine = Engine(self.registry, events=self._bus, state_dir=state_dir)

    def _with_collectors(self, document: dict[str, Any]) -> dict[str, Any]:
        collectors = []
        for entry in document.get("nodes", []):
            cls = self.registry.get(entry.get("type", ""))
            if cls is None:
                continue
            try:  # the node's own count, which may follow its config
                count = config_outputs(self.registry, cls.type, entry.get("config", {}))
            except FlowInvalid:  # the check at the start says what is wrong
                count = cls.outputs
            if count == 0:
                continue
            wires = entry.setdefault("wires", [])
            wires.extend([] for _ in range(count - len(wires)))
            for port in range(count):
                collector_id = _collector_id(entry["id"], port)
                wires[port].append(collector_id)
                collectors.append({"id": collector_id, "type": Collector.type})
        document.setdefault("nodes", []).extend(collectors)
        return document

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def __aenter__(self) -> FlowHarness:
        flow = check_flow(self.document, self.registry, self.file, self._env)
        if self._state_dir is None:
            self._temp = tempfile.TemporaryDirectory(prefix="portless-test-")
            self.engine.state_dir = Path(self._temp.name)
        try:
            self._instances = {instance.id: instance for instance in flow.instances}
            await self.engine.start(flow)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            await self.engine.stop()
        finally:
            if self._temp is not None:
                self._temp.cleanup()
                self._temp = None

    async def deploy(self, flow: Mapping[str, Any]) -> DeployReport:
        """Deploy a changed version of the flow (collectors wired in again), as the
        editor's Deploy would: only added, removed and changed nodes restart."""
        self.document = self._with_collectors(clone_message(dict(flow)))
        return await self.engine.deploy(
            check_flow(self.document, self.registry, self.file, self._env))

    def inject(self, node_id: str, msg: Message | None = None) -> None:
        """Deliver a message to a node's input (missing topic/_msgid/ts filled in); to a
        subflow instance's, as a wire to it would (the inner nodes its input feeds)."""
        instance = self._instances.get(node_id)
        if instance is None:
            self.engine.inject(node_id, msg)
            return
        # Copied before the first delivery, which may change the message at once.
        copies = [None if msg is None else clone_message(msg) for _ in instance.reaches[1:]]
        for target, each in zip(instance.reaches, [msg, *copies], strict=True):
            self.engine.inject(target, each)

    def collector(self, node_id: str, port: int = 0) -> Collector:
        node = self.engine.nodes[_collector_id(node_id, port)]
        assert isinstance(node, Collector)
        return node

    def received(self, node_id: str, port: int = 0) -> list[Message]:
        """Everything ``node_id`` has sent on ``port`` so far."""
        return self.collector(node_id, port).received

    async def wait_for(self, node_id: str, count: int = 1, *, port: int = 0,
                       timeout: float = 5.0) -> list[Message]:
        """Wait until ``node_id`` has sent ``count`` messages on ``port``; return them."""
        collector = self.collector(node_id, port)
        async with asyncio.timeout(timeout):
            while len(collector.received) < count:
                collector.arrived.clear()
                await collector.arrived.wait()
        return collector.received[:count]

    async def wait_event(self, predicate: Callable[[Event], bool], *, since: int = 0,
                         timeout: float = 5.0) -> Event:
        """Wait for the first event from ``events[since:]`` on (past or future) that
        matches ``predicate``; ``since=len(h.events)`` looks only at what comes next."""
        async with asyncio.timeout(timeout):
            seen = since
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                await self.changed()

    async def changed(self) -> None:
        """Wait for the next event or message anywhere in the flow (or a short tick)."""
        self._changed.clear()
        tick = asyncio.get_running_loop().call_later(0.005, self._changed.set)
        try:
            await self._changed.wait()
        finally:
            tick.cancel()


@functools.cache
def _installed() -> Registry:
    """The installed node types, discovered once per process: entry points do not change
    while tests run, and a discovery per harness made the suite slow."""
    return Registry.discover()


def _discovered(node_dirs: tuple[str | Path, ...]) -> Registry:
    """A registry of its own for one harness: the installed types (a copy, so what a
    harness adds stays in it) or, with ``node_dirs``, a fresh discovery."""
    return Registry.discover(node_dirs) if node_dirs else _installed().copy()


def _collector_id(node_id: str, port: int) -> str:
    return f"{node_id}.collect-{port}"
