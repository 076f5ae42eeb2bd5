"""The run queue: how every message moves from one node to the next.

One deque of (target, message) pairs, drained by a plain loop: no task, lock or future
per message. A send from outside the loop (a timer, a socket callback) drains at once;
a send from inside ``on_input`` only appends, so the stack stays flat and every wire
delivers in order. After ``batch`` messages the loop yields to the event loop so
timers, I/O and the editor keep up.

A loop of wires never lets the queue empty. So when it has not emptied for
``COUNT_AFTER_BATCHES`` batches in a row, a second drain loop takes over that also
counts hops: how many nodes each message's chain has passed through. Past ``loop_hops``
the chain is taken to be circling, and every node it reaches warns once. The usual loop
counts nothing, so the hot path pays nothing for this; counting stops when the queue
empties.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable, Mapping
from itertools import repeat

from .message import Message
from .node import Node

LOOP_HOPS = 100_000
"""Hops after which a message is taken to be circling a loop of wires. A long chain of
nodes is a few thousand hops; a loop goes past this in a fraction of a second."""
COUNT_AFTER_BATCHES = 10
"""Batches in a row that end with messages still queued before hops are counted."""


class RunQueue:
    """The queue and its drain loop: the half of the Engine that moves messages.

    A base class rather than a member, so that a node's ``send`` reaches ``deliver``
    with one plain method call (a delegating attribute cost 2% of the hot path).
    """

    def __init__(self, *, batch: int = 1000, loop_hops: int = LOOP_HOPS) -> None:
        self.batch = batch
        self.loop_hops = loop_hops
        self._queue: deque[tuple[Node, Message]] = deque()
        self._running = False
        self._held = False
        """True while a deploy swaps nodes: messages queue up and go on afterwards."""
        self._direct = False
        """A send from outside the loop drains at once: running, not held, not counting."""
        self._draining = False
        self._resume: asyncio.Handle | None = None
        self._busy_batches = 0
        """Batches in a row that ended with messages still queued."""
        self._counting = False
        self._hop_counts: deque[int] = deque()
        """While counting: the hops of each queued message, in queue order."""
        self._looping: dict[str, Node] = {}
        """Nodes a circling message has reached: warned once, their status kept."""
        self._emptied = asyncio.Event()
        self._empty_watchers = 0
        """wait_idle callers, plus one during a busy streak: told when the queue empties."""

    def node_failed(self, node: Node, exc: BaseException, msg: Message | None = None) -> None:
        """A node's on_input raised (the Engine reports it)."""
        raise NotImplementedError

    # --- what the engine calls ----------------------------------------------------------
    def deliver(self, target: Node, msg: Message) -> None:
        """Queue a message for ``target`` (part of what the engine lends every node)."""
        self._queue.append((target, msg))
        if not self._draining and self._direct:
            self._drain()

    def _open_queue(self) -> None:
        """Start delivering (what nodes sent while starting goes first)."""
        self._running = True
        self._update_direct()
        self._drain_soon()

    def _close_queue(self) -> None:
        """Stop delivering: what is sent from now on stays queued until ``_clear_queue``."""
        self._running = False
        self._update_direct()

    def _clear_queue(self) -> None:
        """Drop what is queued (after a stop)."""
        self._queue.clear()
        self._end_busy_streak()
        self._looping.clear()

    def _hold_queue(self) -> None:
        """Keep what is sent queued (nodes are being swapped) until ``_release_queue``."""
        self._held = True
        self._end_busy_streak()  # the queue is rebuilt before release

    def _release_queue(self, nodes: Mapping[str, Node], restarted: Iterable[str]) -> None:
        """Deliver again: queued messages go to the nodes now running under their ids
        (those for nodes that are gone are dropped)."""
        self._queue = deque((nodes[node.id], msg) for node, msg in self._queue
                           if node.id in nodes)
        for node_id in restarted:
            self._looping.pop(node_id, None)
        self._held = False
        self._update_direct()
        self._drain_soon()

    def _drain_soon(self) -> None:
        if self._queue and self._resume is None:
            self._resume = asyncio.get_running_loop().call_soon(self._resume_drain)

    async def _settle(self, timeout: float) -> int:
        """Let queued messages go on (yielding between batches, as always) for at most
        ``timeout`` seconds; returns how many are still queued."""
        if self._running and not self._held:
            with contextlib.suppress(TimeoutError):
                await self.wait_idle(timeout)
        return len(self._queue)

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until no message is queued (timers in nodes may still fire later)."""
        self._empty_watchers += 1
        try:
            async with asyncio.timeout(timeout):
                while self._queue or self._resume is not None:
                    self._emptied.clear()
                    await self._emptied.wait()
        finally:
            self._empty_watchers -= 1

    # --- the drain loops ------------------------------------------------------------------
    def _drain(self) -> None:
        """Up to ``batch`` messages, then the rest after the event loop had its turn."""
        self._draining = True
        queue = self._queue
        pop = queue.popleft
        try:
            for _ in range(self.batch):
                if not queue:
                    break
                node, msg = pop()
                try:
                    node.on_input(msg)
                except Exception as exc:
                    self.node_failed(node, exc, msg)
            if not queue:  # _after_batch, inlined: this runs once per message sent from outside
                if self._empty_watchers:
                    self._queue_emptied()
            elif self._resume is None:
                self._resume = asyncio.get_running_loop().call_soon(self._resume_drain)
        finally:
            self._draining = False

    def _drain_counting(self) -> None:
        """``_drain`` that also counts hops: what a node's ``on_input`` queued is one hop
        further than the message it handled."""
        self._draining = True
        queue, counts = self._queue, self._hop_counts
        counts.extend(repeat(1, len(queue) - len(counts)))  # sent from outside: new chains
        loop_hops = self.loop_hops
        try:
            for _ in range(self.batch):
                if not queue:
                    break
                node, msg = queue.popleft()
                hops = counts.popleft()
                if hops > loop_hops:
                    self._in_a_loop(node, msg)
                before = len(queue)
                try:
                    node.on_input(msg)
                except Exception as exc:
                    self.node_failed(node, exc, msg)
                counts.extend(repeat(hops + 1, len(queue) - before))
            for node in self._looping.values():  # over a status the node set meanwhile
                self._show_loop(node)
            self._after_batch()
        finally:
            self._draining = False

    def _after_batch(self) -> None:
        if not self._queue:
            if self._empty_watchers:
                self._queue_emptied()
        elif self._resume is None:
            self._resume = asyncio.get_running_loop().call_soon(self._resume_drain)

    def _resume_drain(self) -> None:
        """The next batch; counts the busy streak and starts counting hops when long."""
        self._resume = None
        if not self._running or self._draining or self._held:
            return
        if not self._busy_batches:
            self._empty_watchers += 1
        self._busy_batches += 1
        if self._busy_batches >= COUNT_AFTER_BATCHES and not self._counting:
            self._counting = True  # the hops of what is queued now count from here
            self._hop_counts = deque(repeat(0, len(self._queue)))
            self._update_direct()  # a send from outside now waits for the counting loop
        if self._counting:
            self._drain_counting()
        else:
            self._drain()

    def _queue_emptied(self) -> None:
        if self._busy_batches:
            self._end_busy_streak()
        self._emptied.set()

    def _end_busy_streak(self) -> None:
        """The queue emptied (or is being rebuilt): stop counting, start afresh."""
        if self._busy_batches:
            self._busy_batches = 0
            self._empty_watchers -= 1
        self._counting = False
        self._hop_counts.clear()
        self._update_direct()

    def _update_direct(self) -> None:
        self._direct = self._running and not self._held and not self._counting

    def _in_a_loop(self, node: Node, msg: Message) -> None:
        """Warn once per node (until it restarts) that a message circles through it."""
        if node.id in self._looping:
            return
        self._looping[node.id] = node
        node.warn(f"message {msg.get('_msgid', '-')} has passed through more than "
                  f"{self.loop_hops:,} nodes: a loop of wires? The flow keeps running")
        self._show_loop(node)

    def _show_loop(self, node: Node) -> None:
        node.status("yellow", f"in a loop: over {self.loop_hops:,} hops", "ring")
