"""The engine: builds nodes from a checked flow, moves messages (through the run
queue, run_queue.py), deploys changes, stops; one of start, deploy and stop at a time.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .context import Context, ContextKind, Contexts, StoreName
from .context_sqlite import FLUSH_INTERVAL
from .dependencies import dependents, start_order, stop_levels
from .events import Event, EventBus
from .flow import Flow, NodeSpec
from .message import Message, complete_message
from .node import Node, PlacedNode
from .registry import Registry
from .run_queue import LOOP_HOPS, RunQueue
from .subflow_status import InstanceStatuses
from .watchers import Watch, Watchers

log = logging.getLogger("portless.engine")


@dataclass(frozen=True)
class DeployReport:
    """What a deploy did, by node id."""

    stopped: tuple[str, ...]
    started: tuple[str, ...]
    unchanged: tuple[str, ...]
    failed: dict[str, str] = field(default_factory=dict)
    """Nodes that failed to start, with the reason; they are not running (and are
    retried at the next deploy)."""


class Engine(RunQueue):
    """Runs one flow at a time; ``deploy`` swaps in a new one, restarting only what changed."""

    def __init__(self, registry: Registry, *, events: EventBus | None = None,
                 state_dir: str | Path | None = None, stop_timeout: float = 5.0,
                 start_timeout: float = 10.0,
                 batch: int = 1000, drain_timeout: float = 1.0,
                 loop_hops: int = LOOP_HOPS, global_context_store: StoreName = "memory",
                 context_flush: float = FLUSH_INTERVAL) -> None:
        super().__init__(batch=batch, loop_hops=loop_hops)
        self.registry = registry
        self.events = events or EventBus()
        self._state_dir = Path(state_dir) if state_dir else None
        self.tab_state_dirs: dict[str, Path] = {}
        """The state directory of each flow file (NodeSpec.tab) of a multi-file run."""
        self.stop_timeout = stop_timeout
        self.start_timeout = start_timeout
        """A node whose start() takes longer has failed to start: a deploy (and a stop
        waiting for it) cannot hang on it."""
        self.drain_timeout = min(drain_timeout, stop_timeout)
        """How long stop and deploy let queued messages go on first; a loop of wires
        never empties the queue, so this bounds them."""
        self.nodes: dict[str, Node] = {}
        self._by_type: dict[str, tuple[PlacedNode, ...]] = {}
        """running_nodes' answers by type, until the nodes are linked again."""
        self.flow: Flow | None = None
        self.failed: dict[str, str] = {}
        """Nodes of the current flow that failed to start, with the reason."""
        self._lock = asyncio.Lock()
        """Held by start, deploy and stop: one at a time, never interleaved."""
        self._error_logged: dict[str, float] = {}
        self.contexts = Contexts(global_context_store, context_flush)
        """Node, flow and global context; the global one in ``global_context_store``, and
        persistent values committed ``context_flush`` seconds after they change."""
        self.watchers = Watchers(self.deliver, self.nodes)
        """Catch, status and complete nodes, and what they watch (watchers.py)."""
        self.instance_statuses = InstanceStatuses(self.events)
        """The status each subflow instance shows (subflow_status.py)."""

    # --- NodeContext --------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        """Where nodes keep durable state; without one given, a private temporary
        directory made when a node first asks (tests, benchmarks)."""
        if self._state_dir is None:
            self._state_dir = Path(tempfile.mkdtemp(prefix="portless-state-"))
        return self._state_dir

    @state_dir.setter
    def state_dir(self, path: Path) -> None:
        self._state_dir = path

    def state_base(self, node_id: str) -> Path:
        """Where a node's state directory goes: that of the flow file the node is
        written in, when several run (``tab_state_dirs``), so an outbox stays with its
        file whichever set it runs in; else ``state_dir``."""
        if self.tab_state_dirs and self.flow is not None:
            tab = next((spec.tab for spec in self.flow.nodes if spec.id == node_id), "")
            if tab in self.tab_state_dirs:
                return self.tab_state_dirs[tab]
        return self.state_dir

    def publish(self, event: Event) -> None:
        self.events.publish(event)
        if event.kind == "status" and (node := self.nodes.get(event.node_id)) is not None:
            self.watchers.status(node, event.data)

    def watch(self, node: Node, watch: Watch) -> None:
        self.watchers.add(node, watch)

    def report_error(self, node: Node, text: str, msg: Message) -> bool:
        return self.watchers.error(node, text, msg)

    def running_nodes(self, node_type: str) -> tuple[PlacedNode, ...]:
        found = self._by_type.get(node_type)
        if found is None:
            place_of = self.watchers.place_of
            found = self._by_type[node_type] = tuple(
                PlacedNode(node, *place_of.get(node.id, ("", "")))
                for node in self.nodes.values() if node.type == node_type)
        return found

    def place_of(self, node_id: str) -> tuple[str, str]:
        return self.watchers.place_of.get(node_id, ("", ""))

    def shared(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise RuntimeError(f"shared connection '{node_id}' is not running "
                               f"(it failed to start; see its error)") from None

    def node_failed(self, node: Node, exc: BaseException, msg: Message | None = None) -> None:
        """A node raised: count it, show it, hand it to the catch nodes in reach (a new
        message if none was being handled), or else log it (at most once a second per
        node)."""
        node.error_count += 1
        text = f"{type(exc).__name__}: {exc}"
        node.status("red", text[:80], "ring")
        caught = self.watchers.error(node, text, msg, exc)
        # Logged here, with its traceback, at most once a second per node.
        node.context.publish(Event("error", node.id, {
            "text": text, "count": node.error_count, "caught" if caught else "logged": True}))
        now = time.monotonic()
        if caught:
            return
        if now - self._error_logged.get(node.id, -1.0) >= 1.0:
            self._error_logged[node.id] = now
            log.error("node %s (%s) raised; message %s dropped (%d errors so far)",
                      node.id, node.type, msg.get("_msgid") if msg else "-", node.error_count,
                      exc_info=exc)

    def context_of(self, node_id: str, kind: ContextKind) -> Context:
        return self.contexts.view(node_id, kind)

    def inject(self, node_id: str, msg: Message | None = None) -> None:
        """Hand a message to a node's ``on_input`` as if it came down a wire."""
        node = self.nodes[node_id]
        self.deliver(node, complete_message(msg if msg is not None else {"payload": time.time()}))

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self, flow: Flow) -> DeployReport:
        """Build and start every node of a checked flow (what a node uses first)."""
        async with self._lock:
            if self.flow is not None:
                raise RuntimeError("engine already started; use deploy() to change the flow")
            self.flow = flow
            self._follow_instances()
            await self._prepare_contexts(flow)
            failed = await self._start_nodes(list(flow.nodes))
            self._open_queue()
        started = tuple(spec.id for spec in flow.nodes if spec.id not in failed)
        return DeployReport((), started, (), failed)

    async def stop(self) -> None:
        """Stop every node (each awaited with a timeout), a node before what it uses.

        Queued messages go on for at most ``drain_timeout`` first; what a loop of wires
        keeps queued after that is dropped, and logged.
        """
        async with self._lock:
            left = await self._settle_all(self.nodes.values())
            if left:
                log.warning("stopping with %d message(s) still queued after %.1f s "
                            "(a loop of wires?); they are dropped", left, self.drain_timeout)
            self._close_queue()
            for node in self.nodes.values():
                node.shutting_down = True
            await self._stop_nodes(list(self.nodes))
            await self.contexts.close()
            self._clear_queue()
            self.flow = None
            self.failed = {}
            self._follow_instances()

    async def deploy(self, flow: Flow, *, rollback: bool = False) -> DeployReport:
        """Switch to a new checked flow, restarting only nodes that were added, removed
        or changed (config, name, type, wires, or a shared connection they use, however
        deep), and those that failed to start last time. One deploy at a time.
        ``rollback``: this puts back the flow that ran before the last deploy, so the
        nodes that deploy removed get their context back."""
        async with self._lock:
            return await self._deploy(flow, rollback)

    async def _deploy(self, flow: Flow, rollback: bool = False) -> DeployReport:
        old = {spec.id: spec for spec in self.flow.nodes} if self.flow else {}
        new = {spec.id: spec for spec in flow.nodes}
        changed = {node_id for node_id, spec in new.items()
                   if old.get(node_id) != spec or node_id in self.failed}
        removed = set(old) - set(new)
        # A node using a restarted shared connection must restart with it, and so must
        # whatever uses that node in turn.
        changed |= dependents({spec.id: spec.refs for spec in flow.nodes}, changed | removed)
        to_stop = [node_id for node_id in old
                   if (node_id in removed or node_id in changed) and node_id in self.nodes]
        # A stopped or failed node's status must not outlive it.
        had_status = [node_id for node_id in to_stop if self.nodes[node_id].last_status]
        had_status += [node_id for node_id in self.failed if node_id in changed | removed]
        await self._settle_all(self.nodes[node_id] for node_id in to_stop)
        # Hold delivery while nodes are swapped: nothing reaches a stopped node or one
        # still starting; what queues up meanwhile goes to the new nodes afterwards.
        self._hold_queue()
        try:
            await self._stop_nodes(to_stop)
            for node_id in had_status:
                self.events.publish(Event("status", node_id, {}))
            self.flow = flow
            self.failed = {}  # each failed node is retried now (it is in changed) or removed
            self._follow_instances()
            await self._prepare_contexts(flow, rollback)
            failed = await self._start_nodes([spec for spec in flow.nodes
                                              if spec.id in changed])
            self._link()
        finally:
            self._release_queue(self.nodes, to_stop)
        unchanged = tuple(node_id for node_id in new if node_id not in changed)
        started = tuple(sorted(changed - set(failed)))
        # The deploy service logs the outcome (with a rollback, if any) at info.
        log.debug("deployed %s: %d stopped, %d started, %d failed, %d unchanged",
                  flow.file, len(to_stop), len(started), len(failed), len(unchanged))
        return DeployReport(tuple(to_stop), started, unchanged, failed)

    async def _prepare_contexts(self, flow: Flow, rollback: bool = False) -> None:
        """Contexts as the flow's tabs chose, before any of its nodes starts."""
        await self.contexts.prepare(
            flow, lambda tab: self.tab_state_dirs.get(tab, self.state_dir) if tab
            else self.state_dir,
            [path for path in (self._state_dir, *self.tab_state_dirs.values()) if path],
            restore=rollback)

    async def _settle_all(self, nodes: Iterable[Node]) -> int:
        """Let queued messages go on for at most ``drain_timeout``: the run queue's, and
        those waiting in these nodes' async input queues (and what they send on).
        Returns how many are still in the run queue."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        left = await self._settle(self.drain_timeout)
        queues = [node.input_queue for node in nodes if node.input_queue is not None]
        if queues:
            await asyncio.gather(*(queue.settle(deadline - loop.time()) for queue in queues))
            left = await self._settle(max(deadline - loop.time(), 0.0))
        return left

    async def _start_nodes(self, specs: Iterable[NodeSpec]) -> dict[str, str]:
        """Build and start nodes, each after what it uses; returns those that failed
        (and adds them to ``self.failed``)."""
        by_id = {spec.id: spec for spec in specs}
        failed: dict[str, str] = {}
        built = []
        for node_id in start_order({spec.id: spec.refs for spec in by_id.values()}):
            spec = by_id[node_id]
            try:
                node = self._cls(spec)(spec.id, spec.config, self, spec.name)
            except Exception as exc:  # a plugin's __init__ that raises
                failed[spec.id] = self._failed_to_start(spec.id, exc)
                continue
            self.nodes[spec.id] = node
            built.append(node)
        self._link()
        for node in built:
            deadline = asyncio.timeout(self.start_timeout)
            try:
                async with deadline:
                    await node.start()
            except Exception as exc:
                reason: Exception = exc
                if deadline.expired():  # not a TimeoutError of the node's own
                    reason = TimeoutError(f"did not start within {self.start_timeout:.1f} s")
                failed[node.id] = self._failed_to_start(node.id, reason)
                del self.nodes[node.id]
                self.watchers.forget(node)
                await node._release()
                self._link()
        self.failed.update(failed)
        return failed

    def _failed_to_start(self, node_id: str, exc: Exception) -> str:
        """One log line, one error event and a red status; the rest of the flow runs
        without it. Returns the reason."""
        reason = f"{type(exc).__name__}: {exc}"
        log.error("node %s failed to start: %s", node_id, reason)
        self.events.publish(Event("error", node_id, {
            "text": f"failed to start: {reason}", "logged": True}))
        self.events.publish(Event("status", node_id, _failed_status(reason)))
        return reason

    def statuses(self) -> dict[str, dict[str, Any]]:
        """The status every node shows now (failed starts included), for a subscriber
        that joins after the flow started (the editor)."""
        shown = {node_id: _failed_status(reason) for node_id, reason in self.failed.items()}
        shown.update({node.id: node.last_status for node in self.nodes.values()
                      if node.last_status})
        shown.update({instance: status for instance, status
                      in self.instance_statuses.shown.items() if status})
        return shown

    def _follow_instances(self) -> None:
        """Subflow instances show one status each, made from their nodes' (only while
        the flow has instances)."""
        flow = self.flow
        self.instance_statuses.follow(flow.instances if flow else (),
                                      (spec.id for spec in flow.nodes) if flow else (),
                                      self.statuses())

    async def _stop_nodes(self, node_ids: list[str]) -> None:
        """Stop the running ones of these nodes, each before what it uses (the running
        flow's refs say who uses what)."""
        specs = {spec.id: spec for spec in self.flow.nodes} if self.flow else {}
        refs = {node_id: specs[node_id].refs if node_id in specs else ()
                for node_id in node_ids if node_id in self.nodes}
        for level in stop_levels(refs):
            await asyncio.gather(*(self._stop_one(self.nodes[node_id]) for node_id in level))

    async def _stop_one(self, node: Node) -> None:
        async def stop() -> None:
            if node.input_queue is not None:  # on_input and stop() never overlap
                await node.input_queue.close()
            await node.stop()

        try:
            await asyncio.wait_for(stop(), self.stop_timeout)
        except TimeoutError:
            log.warning("node %s (%s) did not stop within %.1f s; moving on",
                        node.id, node.type, self.stop_timeout)
        except Exception as exc:
            log.error("node %s (%s) failed to stop cleanly: %s", node.id, node.type, exc)
        finally:
            await node._release()
            if self.nodes.get(node.id) is node:
                del self.nodes[node.id]
                self._by_type.clear()
            self.watchers.forget(node)

    def _cls(self, spec: NodeSpec) -> type[Node]:
        cls = self.registry.get(spec.type)
        if cls is None:  # a checked flow names only registered types
            raise KeyError(f"node {spec.id}: unknown node type '{spec.type}'")
        return cls

    def _link(self) -> None:
        """Point every node's wires at the current node objects (skipping failed ones)."""
        if self.flow is None:
            return
        self.watchers.place_of = {spec.id: (spec.tab, spec.instance) for spec in self.flow.nodes}
        self._by_type.clear()  # running_nodes answers afresh for what runs now
        for spec in self.flow.nodes:
            node = self.nodes.get(spec.id)
            if node is None:
                continue
            node.wires = [[self.nodes[target] for target in spec.wires[port]
                           if target in self.nodes] if port < len(spec.wires) else []
                          for port in range(node.outputs)]
        self.watchers.refresh()


def _failed_status(reason: str) -> dict[str, Any]:
    return {"fill": "red", "shape": "ring", "text": f"failed to start: {reason}"[:80]}
