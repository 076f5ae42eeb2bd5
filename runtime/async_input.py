"""Async input: a node type whose ``on_input`` is ``async def`` is given its messages one
at a time, in order, from a bounded queue of its own.

It is detected once per class (``Node.__init_subclass__`` calls ``declare``), which also
adds the ``input_queue`` field to the class's schema, so the editor's form, validation
and the docs show it and the plugin writes nothing twice. Each instance of such a class
gets a plain instance-level ``on_input`` (``AsyncInput.put``): the drain loop calls it
like any other, it appends to the node's deque and wakes the node's one worker task if
that was idle. No task or future per message, and a synchronous node pays nothing.

When the queue holds ``size`` messages (``when_full``):

- ``block``: the node is *saturated*. ``Node.downstream_saturated()`` is True for every
  node upstream of it (through synchronous nodes), so a source holds off, and an async
  node upstream waits before it takes its next message. A delivery is a plain call that
  cannot wait, so what still arrives (a source that does not look, a fan-in) is kept up
  to ``HARD_BOUND`` times ``size``; past that the arriving message is dropped and counted.
- ``drop-oldest``: the oldest queued message makes room (the latest values win).
- ``drop-newest``: the arriving message is dropped.

Drops are counted, shown as the node's status ("queue full: dropped 12") and warned
about, both at most once a second.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from .message import Message

if TYPE_CHECKING:
    from .node import Node

WhenFull = Literal["block", "drop-oldest", "drop-newest"]
WHEN_FULL: tuple[WhenFull, ...] = ("block", "drop-oldest", "drop-newest")
HARD_BOUND = 2
"""Under ``block``, a queue keeps at most this many times its size before dropping."""
YIELD_EVERY = 1000
"""Messages a worker handles before it yields, when its handler never suspends."""
REPORT_INTERVAL = 1.0
"""Seconds between two status updates and warnings about drops."""
FIELD = "input_queue"
_MARK = "x-async-input"
"""Marks the schema field as the runtime's own (a subclass inherits it and redeclares)."""

log = logging.getLogger("portless.node")


def declare(cls: type[Node]) -> bool:
    """True if ``cls`` takes async input; gives its schema the ``input_queue`` field
    (and takes it away from a synchronous subclass of an async type)."""
    is_async = inspect.iscoroutinefunction(cls.on_input)
    schema = cls.schema
    properties: dict[str, Any] = schema.get("properties", {})
    ours = isinstance(properties.get(FIELD), dict) and properties[FIELD].get(_MARK)
    if FIELD in properties and not ours:
        if is_async:
            raise TypeError(f"node type '{cls.type}': the config field '{FIELD}' is the "
                            f"runtime's for async input; set input_queue_size, "
                            f"input_queue_max and input_queue_when_full instead")
        return False
    if not is_async:
        if ours:
            cls.schema = {**schema, "properties": {
                key: value for key, value in properties.items() if key != FIELD}}
        return False
    size, maximum, when_full = (cls.input_queue_size, cls.input_queue_max,
                                cls.input_queue_when_full)
    if not (isinstance(size, int) and isinstance(maximum, int) and 1 <= size <= maximum):
        raise TypeError(f"node type '{cls.type}': input_queue_size ({size!r}) must be a "
                        f"whole number from 1 to input_queue_max ({maximum!r})")
    if when_full not in WHEN_FULL:
        raise TypeError(f"node type '{cls.type}': input_queue_when_full must be one of "
                        f"{', '.join(WHEN_FULL)}, not {when_full!r}")
    cls.schema = {**schema, "properties": {
        **properties, FIELD: field_schema(size, maximum, when_full)}}
    return True


def field_schema(size: int, maximum: int, when_full: WhenFull) -> dict[str, Any]:
    """The ``input_queue`` config field of an async node type."""
    return {
        "title": "Input queue",
        "description": "Messages wait here, in order, while the node works on one.",
        "type": "object",
        "additionalProperties": False,
        "default": {"size": size, "when_full": when_full},
        _MARK: True,
        "properties": {
            "size": {"title": "Queue size", "type": "integer", "minimum": 1,
                     "maximum": maximum, "default": size,
                     "description": f"Messages that may wait (at most {maximum:,})."},
            "when_full": {
                "title": "When full", "enum": list(WHEN_FULL), "default": when_full,
                "description": (
                    "`block`: sources upstream hold off (what still arrives is kept up "
                    f"to {HARD_BOUND} times the size, then dropped); `drop-oldest`: the "
                    "oldest waiting message makes room; `drop-newest`: the arriving "
                    "message is dropped. Drops are counted in the node's status.")},
        },
    }


class AsyncInput:
    """One async node's queue and worker task."""

    def __init__(self, node: Node) -> None:
        settings = node.config[FIELD]
        self.node = node
        self.size: int = settings["size"]
        self.when_full: WhenFull = settings["when_full"]
        self.blocks = self.when_full == "block"
        self._bound = self.size * HARD_BOUND if self.blocks else self.size
        self.dropped = 0
        self._queue: deque[Message] = deque()
        self._handle = cast(Callable[[Message], Awaitable[None]],
                            type(node).on_input.__get__(node))
        self._current: Message | None = None
        self._worker: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._room: list[asyncio.Future[None]] = []
        """Upstream workers and sources waiting for this queue to drop below ``size``."""
        self._idle: asyncio.Event | None = None
        self._report: asyncio.TimerHandle | None = None
        self._reported = 0
        node.__dict__["on_input"] = self.put  # shadows the coroutine for the drain loop

    # --- the sync side: what the drain loop calls ---------------------------------------
    def put(self, msg: Message) -> None:
        """Queue a message (the node's ``on_input`` as the engine sees it)."""
        queue = self._queue
        if len(queue) >= self.size and self._full(msg):
            return
        queue.append(msg)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            if not wakeup.done():  # not cancelled with the worker a moment ago
                wakeup.set_result(None)
        elif self._worker is None:
            self._worker = self.node.spawn(self._work(), "async input")

    def _full(self, msg: Message) -> bool:
        """Apply the full-queue policy; True if ``msg`` is dropped."""
        if self.when_full == "drop-oldest":
            self._queue.popleft()
            self._count_drops(1)
            return False
        if self.when_full == "block" and len(self._queue) < self._bound:
            return False
        self._count_drops(1)
        return True

    @property
    def saturated(self) -> bool:
        """True while a blocking queue is full: upstream should hold off."""
        return self.blocks and len(self._queue) >= self.size

    @property
    def waiting(self) -> int:
        """How many messages wait behind the one being handled."""
        return len(self._queue)

    @property
    def busy(self) -> bool:
        """True while a message is queued or being handled."""
        return bool(self._queue) or self._current is not None

    def room(self) -> asyncio.Future[None]:
        """A future done when the queue is below ``size`` again (or the node stopped)."""
        future = asyncio.get_running_loop().create_future()
        if self.saturated:
            self._room.append(future)
        else:
            future.set_result(None)
        return future

    # --- the worker ----------------------------------------------------------------------
    async def _work(self) -> None:
        queue, node, handle = self._queue, self.node, self._handle
        says_done = not node.calls_done  # else the node calls done() itself
        loop = asyncio.get_running_loop()
        handled = 0
        try:
            while True:
                if not queue:
                    self._became_idle()
                    self._wakeup = loop.create_future()
                    await self._wakeup
                    continue
                if node.wires and (full := saturated_below(node)) is not None:
                    await full.room()  # back-pressure reaches through async nodes too
                    continue
                msg = self._current = queue.popleft()
                if self._room and len(queue) < self.size:
                    _wake(self._room)
                try:
                    await handle(msg)
                except Exception as exc:
                    node.context.node_failed(node, exc, msg)
                else:
                    if says_done:  # done when the coroutine returns (watchers.py)
                        node.done(msg)
                self._current = None
                handled += 1
                if handled % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
        finally:
            self._stopped()

    def _became_idle(self) -> None:
        if self._report is not None and self.dropped != self._reported:
            self._report.cancel()  # a burst is over: show its full count now
            self._show_drops()
        if self._idle is not None:
            self._idle.set()

    async def settle(self, timeout: float) -> None:
        """Let what is queued be handled, for at most ``timeout`` seconds."""
        if not self.busy or timeout <= 0:
            return
        self._idle = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            pass
        finally:
            self._idle = None

    async def close(self) -> None:
        """Stop the worker (before the node's ``stop``, so the two never overlap); what
        it had not handled is dropped, counted and logged."""
        self.node.__dict__["on_input"] = self._refuse
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        self._stopped()

    def _refuse(self, msg: Message) -> None:
        """``on_input`` once closed: no new worker for a stopped node; counted."""
        self.dropped += 1

    def _stopped(self) -> None:
        """The worker ended (cancelled, by ``close`` or anyone): account for every message
        it had, so a later one starts a fresh worker and nothing is lost in silence."""
        left = len(self._queue) + (self._current is not None)
        self._queue.clear()
        self._current = None
        self._worker = self._wakeup = None
        _wake(self._room)
        self._became_idle()
        if self._report is not None:  # the latest count, not a second old
            self._report.cancel()
            self._show_drops(again=False)
        if left:
            self.dropped += left
            log.warning("node %s (%s): %d queued message(s) not handled before it "
                        "stopped; dropped", self.node.id, self.node.type, left)

    # --- drops: counted, shown at most once a second --------------------------------------
    def _count_drops(self, count: int) -> None:
        self.dropped += count
        if self._report is None:
            self._show_drops()

    def _show_drops(self, again: bool = True) -> None:
        """Status and warning with the count; ``again``: look once more in a second."""
        self._report = None
        if self.dropped == self._reported:
            return
        self._reported = self.dropped
        self.node.status("yellow", f"queue full: dropped {self.dropped:,}", "ring")
        self.node.warn(f"input queue full ({self.size:,} messages, when full: "
                       f"{self.when_full}): {self.dropped:,} message(s) dropped so far")
        if again:
            self._report = asyncio.get_running_loop().call_later(
                REPORT_INTERVAL, self._show_drops)


def saturated_below(node: Node) -> AsyncInput | None:
    """The first saturated queue a message sent by ``node`` could reach, looking through
    synchronous nodes (an async node's own worker looks further); None if there is none."""
    seen = {id(node)}
    stack = [target for port in node.wires for target in port]
    while stack:
        target = stack.pop()
        if id(target) in seen:
            continue
        seen.add(id(target))
        queue = target.input_queue
        if queue is not None:
            if queue.saturated:
                return queue
            continue
        stack.extend(each for port in target.wires for each in port)
    return None


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    for future in waiters:
        if not future.done():
            future.set_result(None)
    waiters.clear()
