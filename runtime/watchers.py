"""Watchers: nodes that receive other nodes' errors, status changes and completions.

Node-RED's ``catch``, ``status`` and ``complete`` nodes are ordinary node types here:
in ``start()`` they call ``self.watch("error", "tab")`` (or "status", "complete"), and
what they watch arrives as messages on their ``on_input``, through the run queue.

Nothing is paid where nobody watches: an error or a status change looks at one dict
(empty unless someone watches), and completion is reported only by nodes a complete
watcher covers, through a wrapper of ``on_input`` (or ``done``) put on those instances.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from .message import Message, clone_message, complete_message

if TYPE_CHECKING:
    from .node import Node

WatchKind = Literal["error", "status", "complete"]
WatchScope = Literal["all", "tab", "nodes"]
MAX_CATCHES = 10
"""A message that made the same node fail this many times is no longer caught (a catch
node wired back into the node it catches), as in Node-RED."""


@dataclass(frozen=True)
class Watch:
    """What one watcher asked for: a kind of event from the nodes in a scope."""

    kind: WatchKind
    scope: WatchScope
    nodes: tuple[str, ...] = ()
    uncaught: bool = False
    """Errors only: just those no other catch in its reach handled (Node-RED's
    "uncaught errors only")."""

    def __post_init__(self) -> None:
        if self.kind not in ("error", "status", "complete"):
            raise ValueError(f"cannot watch {self.kind!r}: say 'error', 'status' or "
                             f"'complete'")
        if self.scope not in ("all", "tab", "nodes"):
            raise ValueError(f"watch scope {self.scope!r}: say 'all', 'tab' or 'nodes'")
        if self.uncaught and self.kind != "error":
            raise ValueError("only an error watcher can take uncaught errors only")


def source_of(node: Node) -> dict[str, Any]:
    """``msg.error.source`` and friends: which node it came from."""
    return {"id": node.id, "type": node.type, "name": node.name}


class Watchers:
    """The engine's table of watchers, and the routing of events to them.

    ``deliver`` queues a message for a node (the run queue's), ``running`` is the
    engine's node table; ``place_of`` says where each node is written: its tab (flow
    file) and subflow instance ("" for none).
    """

    def __init__(self, deliver: Callable[[Node, Message], None],
                 running: Mapping[str, Node]) -> None:
        self._deliver = deliver
        self._running = running
        self.place_of: Mapping[str, tuple[str, str]] = {}
        self._watches: dict[WatchKind, dict[str, tuple[Node, Watch]]] = {
            "error": {}, "status": {}, "complete": {}}
        self._wrapped: dict[str, Node] = {}
        """Nodes wearing a completion wrapper, by id."""
        self._downstream: dict[str, frozenset[str]] = {}
        """Status and complete watchers never see themselves nor what their messages
        reach: every node does something with a message, so watching those would loop
        (Node-RED leaves out the nodes wired to them; this goes all the way)."""

    # --- the table ------------------------------------------------------------------
    def add(self, watcher: Node, watch: Watch) -> None:
        """Subscribe ``watcher`` (again: a second call replaces its first of that kind).

        Inside a subflow, the ids a watcher names are those of the subflow's own nodes,
        so they are read in its instance ("r" in instance "pump" is "pump/r"), as
        Node-RED maps a catch node's scope when it copies a subflow."""
        instance = self.place_of.get(watcher.id, ("", ""))[1]
        if instance and watch.nodes:
            watch = replace(watch, nodes=tuple(f"{instance}/{node_id}"
                                               for node_id in watch.nodes))
        if missing := [node_id for node_id in watch.nodes if node_id not in self.place_of]:
            watcher.warn(f"watches {', '.join(repr(node_id) for node_id in missing)}, but "
                         f"no node of the flow has that id: it is never heard from")
        self._watches[watch.kind][watcher.id] = (watcher, watch)
        self.refresh()

    def forget(self, node: Node) -> None:
        """Drop what a stopping node watched (and its own wrapper, if it wore one)."""
        if self._wrapped.get(node.id) is node:
            del self._wrapped[node.id]  # it is gone: nothing to take off
        watched = False
        for table in self._watches.values():
            if (entry := table.get(node.id)) is not None and entry[0] is node:
                del table[node.id]
                watched = True
        if watched:  # not for every node a deploy stops: refresh looks at them all
            self.refresh()

    def _covering(self, kind: WatchKind, node: Node) -> list[list[tuple[Node, Watch]]]:
        """The watchers of ``kind`` whose scope holds ``node``, nearest first: one list
        for the node's own level (its subflow instance, or its tab), one for each
        instance around it (where the instance stands for it, as in Node-RED), and last
        those watching all nodes."""
        if not node.watchable:
            return []
        tab, instance = self.place_of.get(node.id, ("", ""))
        levels = [(instance, node.id)]
        while instance:  # "pump/inner" sits in "pump", which sits in the tab ("")
            outer = instance.rpartition("/")[0]
            levels.append((outer, instance))
            instance = outer
        covering: list[list[tuple[Node, Watch]]] = [[] for _ in range(len(levels) + 1)]
        for watcher, watch in self._watches[kind].values():
            if kind != "error" and node.id in self._downstream.get(watcher.id, ()):
                continue
            if watch.scope == "all":
                covering[-1].append((watcher, watch))
                continue
            for index, (level, stand_in) in enumerate(levels):
                if stand_in in watch.nodes if watch.scope == "nodes" \
                        else self.place_of.get(watcher.id) == (tab, level):
                    covering[index].append((watcher, watch))
                    break
        for watchers in covering:  # named nodes first, as Node-RED sorts its catch nodes
            watchers.sort(key=lambda entry: entry[1].scope != "nodes")
        return covering

    # --- errors -----------------------------------------------------------------------
    def error(self, node: Node, text: str, msg: Message | None,
              exc: BaseException | None = None) -> bool:
        """Hand an error to the catch nodes in reach; True if one took it. An exception
        adds its traceback as ``msg.error.stack`` (as Node-RED adds the JavaScript one).

        The nearest take it first: those naming the node or in its subflow instance (or
        tab), then those of each instance around it, then those watching all nodes.
        Within each, every catch gets a copy of the message with ``msg.error``; an
        "uncaught only" catch gets one only if no other catch there did.
        """
        if not self._watches["error"]:
            return False
        count = 1
        source = msg.get("error", {}).get("source") if msg is not None and isinstance(
            msg.get("error"), dict) else None
        if msg is not None and isinstance(source, dict) and source.get("id") == node.id \
                and isinstance(source.get("count"), int):
            count = source["count"] + 1
            if count >= MAX_CATCHES:
                node.warn(f"message {msg.get('_msgid', '-')} failed here {count} times "
                          f"after being caught: no longer caught (a catch wired back "
                          f"into the node it catches?)")
                return False
        error: dict[str, Any] = {"message": text,
                                 "source": {**source_of(node), "count": count}}
        levels = self._covering("error", node)
        if exc is not None and any(levels):  # formatted only for a catch node
            error["stack"] = "".join(traceback.format_exception(exc)).rstrip()
        for level in levels:
            caught = self._hand_out(level, error, msg, uncaught=False)
            caught = self._hand_out(level, error, msg, uncaught=True) if not caught else True
            if caught:
                return True
        return False

    def _hand_out(self, level: Iterable[tuple[Node, Watch]], error: dict[str, Any],
                  msg: Message | None, *, uncaught: bool) -> bool:
        caught = False
        for watcher, watch in level:
            if watch.uncaught != uncaught:
                continue
            copy = clone_message(msg) if msg is not None else complete_message({})
            if "error" in copy:  # kept beside, as Node-RED does
                copy["_error"] = copy["error"]
            copy["error"] = clone_message(error)
            self._deliver(watcher, copy)
            caught = True
        return caught

    # --- status -------------------------------------------------------------------------
    def status(self, node: Node, status: dict[str, Any]) -> None:
        """Tell the status watchers in reach that ``node`` shows ``status`` now
        (``{}`` when cleared); each gets ``msg.status`` with the source added."""
        if not self._watches["status"]:
            return
        for level in self._covering("status", node):
            for watcher, _ in level:
                self._deliver(watcher, complete_message(
                    {"status": {**status, "source": source_of(node)}}))

    # --- completion -----------------------------------------------------------------------
    def completed(self, node: Node, msg: Message) -> None:
        """``node`` is done with ``msg``: each complete watcher covering it gets a copy
        with ``msg.complete.source``."""
        for level in self._covering("complete", node):
            for watcher, _ in level:
                copy = clone_message(msg)
                copy["complete"] = {"source": source_of(node)}
                self._deliver(watcher, copy)

    def refresh(self) -> None:
        """After wires or watchers changed (a start, a deploy, a watch, a stop): note
        what each watcher's messages reach, put a completion wrapper on each node a
        complete watcher covers and take it off the others."""
        self._downstream = {watcher.id: _reach(watcher) for watcher, _ in (
            *self._watches["status"].values(), *self._watches["complete"].values())}
        for node_id, node in list(self._wrapped.items()):
            if self._running.get(node_id) is not node or not self._is_covered(node):
                _unwrap(node)
                del self._wrapped[node_id]
        if not self._watches["complete"]:
            return
        for node_id, node in self._running.items():
            if node_id not in self._wrapped and self._is_covered(node):
                _wrap(node, self.completed)
                self._wrapped[node_id] = node

    def _is_covered(self, node: Node) -> bool:
        return any(self._covering("complete", node))


def _reach(watcher: Node) -> frozenset[str]:
    """The ids of the watcher and of every node its messages can reach."""
    seen = {watcher.id}
    todo = [watcher]
    while todo:
        for port in todo.pop().wires:
            for target in port:
                if target.id not in seen:
                    seen.add(target.id)
                    todo.append(target)
    return frozenset(seen)


def _wrap(node: Node, completed: Callable[[Node, Message], None]) -> None:
    """Report ``node``'s completions: through ``done`` when its class calls it (or its
    async worker does, as each coroutine returns), else when its ``on_input`` returns
    without raising (an exception is an error instead)."""
    if node.calls_done or node.input_queue is not None:
        node.__dict__["done"] = lambda msg: completed(node, msg)
        return
    handle = node.on_input

    def on_input(msg: Message) -> None:
        handle(msg)
        completed(node, msg)

    on_input.own = node.__dict__.get("on_input")  # type: ignore[attr-defined]
    node.__dict__["on_input"] = on_input


def _unwrap(node: Node) -> None:
    """Take the wrapper off again, leaving what was there before it."""
    node.__dict__.pop("done", None)
    own = getattr(node.__dict__.pop("on_input", None), "own", None)
    if own is not None:  # the instance had an on_input of its own before the wrapper
        node.__dict__["on_input"] = own
