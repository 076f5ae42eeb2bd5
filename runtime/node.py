"""The node base class: the whole contract between a node type and the engine.

A node type is a subclass with a ``type`` name and a JSON Schema of its ``config``;
the engine validates the config once, fills in defaults, and then calls ``start()``,
``on_input(msg)`` for every message, and ``stop()``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Protocol

from . import async_input
from .async_input import AsyncInput, WhenFull
from .config import fill_defaults
from .events import Event
from .message import Message, clone_message
from .watchers import Watch, WatchKind, WatchScope

if TYPE_CHECKING:
    from .context import Context, ContextKind

Fill = Literal["red", "green", "yellow", "blue", "grey"]
Shape = Literal["dot", "ring"]
Outgoing = Message | Sequence[Message | Sequence[Message] | None] | None

log = logging.getLogger("portless.node")

MAX_OUTPUTS = 1000
"""The most output ports a node may have: more is a plugin's mistake (or a config
meant to exhaust the editor, which draws every port), not a flow."""


class NodeContext(Protocol):
    """What the engine lends a node: delivery, events, shared connections, state."""

    state_dir: Path

    def state_base(self, node_id: str) -> Path: ...

    def deliver(self, target: Node, msg: Message) -> None: ...

    def publish(self, event: Event) -> None: ...

    def shared(self, node_id: str) -> Node: ...

    def node_failed(self, node: Node, exc: BaseException, msg: Message | None = None) -> None: ...

    def context_of(self, node_id: str, kind: ContextKind) -> Context: ...

    def report_error(self, node: Node, text: str, msg: Message) -> bool: ...

    def watch(self, node: Node, watch: Watch) -> None: ...

    def running_nodes(self, node_type: str) -> Sequence[PlacedNode]: ...

    def place_of(self, node_id: str) -> tuple[str, str]: ...


class PlacedNode(NamedTuple):
    """A running node and where it is written: its flow file (tab) and the subflow
    instance it was expanded from ("" for none)."""

    node: Node
    tab: str
    instance: str


class Node:
    """Base class of every node type, built-in or plugin.

    Subclasses set the class attributes and override ``start``, ``stop`` and
    ``on_input``. ``on_input`` is a plain function called by the engine's drain loop,
    so it must not block; long work belongs in a task made with ``spawn``.
    """

    type: ClassVar[str] = ""
    schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    inputs: ClassVar[int] = 1
    outputs: int = 1
    """The type's output ports; a node *instance's* ``outputs`` is its own count, which
    ``output_count`` may derive from its config."""
    outputs_rule: ClassVar[str] = ""
    """How the config decides the outputs, in words ("one per rule"), for the docs."""
    category: ClassVar[str] = "function"
    color: ClassVar[str] = "#dddddd"
    icon: ClassVar[str] = "node"
    shared: ClassVar[bool] = False
    """True for a shared connection (Node-RED's config node): no wires, started first."""
    watchable: ClassVar[bool] = True
    """False for a node that is no part of the user's flow (the test harness's
    collectors): catch, status and complete nodes never see it."""
    calls_done: ClassVar[bool] = False
    """True if the node says itself when it is done with a message, by ``self.done(msg)``
    (a delay, a batch); otherwise a message is done when ``on_input`` returns."""
    input_queue_size: ClassVar[int] = 100
    """Async input only: how many messages may wait by default (config ``input_queue``)."""
    input_queue_max: ClassVar[int] = 10_000
    """Async input only: the most a flow may set ``input_queue.size`` to."""
    input_queue_when_full: ClassVar[WhenFull] = "block"
    """Async input only: the default policy for a full queue (async_input.py)."""
    runs_code: ClassVar[bool] = False
    """True for a type whose config is code it runs with the runtime's rights (the
    function node): a registry with ``allow_code = False`` refuses flows that use it."""
    async_input: ClassVar[bool] = False
    """True when ``on_input`` is ``async def``; worked out once per class."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.async_input = async_input.declare(cls)

    def __init__(self, node_id: str, config: dict[str, Any], context: NodeContext,
                 name: str = "") -> None:
        self.id = node_id
        self.name = name
        self.config = config
        self.context = context
        self.outputs = outputs_of(type(self), config)
        self.wires: list[list[Node]] = [[] for _ in range(self.outputs)]
        self.error_count = 0
        self.shutting_down = False
        """True while the engine stops for good (not a deploy): a node may keep state it
        would otherwise clean up, such as a subscription in a persistent MQTT session."""
        self.last_status: dict[str, Any] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.input_queue = AsyncInput(self) if self.async_input else None
        """An async node's queue and worker (its ``on_input`` as the engine calls it)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type} id={self.id!r}>"

    @classmethod
    def output_count(cls, config: Mapping[str, Any]) -> int:
        """How many outputs a node of this type has with ``config`` (validated, defaults
        filled in); the class's ``outputs`` unless a type derives them from its config.

        Asked by the flow checker, the engine, the docs and the editor alike; it must
        depend on nothing but ``config`` and answer 0 to MAX_OUTPUTS.
        """
        return cls.outputs

    @classmethod
    def config_errors(cls, config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        """(JSON pointer below the config, sentence) for each problem the schema cannot
        say (a field that must fit with another); asked only of a config the schema
        accepts, by the flow checker and the editor alike. None by default."""
        return ()

    # --- lifecycle, overridden by node types -----------------------------------
    async def start(self) -> None:
        """Open what the node needs (files, connections, timers)."""

    async def stop(self) -> None:
        """Release it again; the engine awaits this with a timeout."""

    def on_input(self, msg: Message) -> Awaitable[None] | None:
        """Handle one message; send results with ``self.send``.

        A plain function by default; an ``async def on_input`` gets its messages one at
        a time, in order, through a bounded queue (async_input.py).
        """
        return None

    # --- what a node may call ----------------------------------------------------
    def send(self, msg: Outgoing) -> None:
        """Emit a message on port 0, or a list with one entry (message, list or None) per port.

        The first wire of a port gets the message itself, every further wire a copy.
        """
        if msg is None:
            return
        if isinstance(msg, dict):
            wires = self.wires
            if wires and len(wires[0]) == 1:  # the common case: one wire, no copy
                self.context.deliver(wires[0][0], msg)
            else:
                self._send_port(0, msg)
            return
        for port, item in enumerate(msg):
            if item is None:
                continue
            if isinstance(item, dict):
                self._send_port(port, item)
            else:
                for each in item:
                    self._send_port(port, each)

    def _send_port(self, port: int, msg: Message) -> None:
        try:
            targets = self.wires[port]
        except IndexError:
            which = " with its config" if follows_config(type(self)) else ""
            raise ValueError(f"node {self.id}: send on port {port}, but {self.type} has "
                             f"{self.outputs} output(s){which}") from None
        self.send_to(targets, msg)

    def send_to(self, targets: Sequence[Node], msg: Message) -> None:
        """Deliver ``msg`` to these nodes as a port's wires would: the first gets the
        message itself, every further one a copy (a link-out's link-ins)."""
        if len(targets) == 1:
            self.context.deliver(targets[0], msg)
        elif targets:
            # Copy before the first delivery: outside the drain loop it runs at once,
            # and a node that edits its message in place must not change the copies.
            copies = [clone_message(msg) for _ in targets[1:]]
            deliver = self.context.deliver
            deliver(targets[0], msg)
            for target, copy in zip(targets[1:], copies, strict=True):
                deliver(target, copy)

    def status(self, fill: Fill | None = None, text: str = "", shape: Shape = "dot") -> None:
        """Show a status under the node (a coloured dot or ring and a short text).

        Calling it with no arguments clears the status. Unchanged statuses are not resent.
        """
        status = {"fill": fill, "shape": shape, "text": text} if fill or text else {}
        if status == self.last_status:
            return
        self.last_status = status
        self.context.publish(Event("status", self.id, status))

    def warn(self, text: str) -> None:
        """Report a problem the node recovered from (the message was dropped, say)."""
        self.context.publish(Event("warning", self.id, {"text": text}))

    def error(self, text: str, msg: Message | None = None) -> None:
        """Report an error; counted. With the message that caused it, the catch nodes in
        reach get a copy with ``msg.error``; one caught is not logged as unhandled."""
        self.error_count += 1
        caught = msg is not None and self.context.report_error(self, text, msg)
        self.context.publish(Event("error", self.id, {"text": text, "caught": True}
                                   if caught else {"text": text}))

    def done(self, msg: Message) -> None:
        """Say the node is done with ``msg``, for a class with ``calls_done = True``
        (complete nodes watching it get a copy; nothing happens when none does)."""

    def watch(self, kind: WatchKind, scope: WatchScope, nodes: Sequence[str] = (), *,
              uncaught: bool = False) -> None:
        """Receive other nodes' errors, status changes or completions as messages on
        ``on_input`` (``msg.error``, ``msg.status``, ``msg.complete``), from all nodes,
        those of this node's tab, or the ``nodes`` named; ends when the node stops.
        ``uncaught``: errors no other catch in reach took (see docs/plugins.md)."""
        self.context.watch(self, Watch(kind, scope, tuple(nodes), uncaught))

    def shared_node(self, node_id: str) -> Node:
        """The started shared connection with that id (validated to exist at load)."""
        return self.context.shared(node_id)

    def running_nodes(self, node_type: str) -> Sequence[PlacedNode]:
        """The running nodes of a type, in every flow file, each with where it is
        written: the same sequence object until a deploy changes what runs, so a node
        that looks them up per message may index them once per sequence (link-call)."""
        return self.context.running_nodes(node_type)

    @property
    def place(self) -> tuple[str, str]:
        """Where this node is written: (flow file, subflow instance or "")."""
        return self.context.place_of(self.id)

    @property
    def state_dir(self) -> Path:
        """A directory this node may keep durable state in (created on first use)."""
        path = self.context.state_base(self.id) / self.id
        path.mkdir(parents=True, exist_ok=True)
        return path

    @functools.cached_property
    def node_context(self) -> Context:
        """This node's own context (Node-RED's ``context``); see docs/plugins.md."""
        return self.context.context_of(self.id, "node")

    @functools.cached_property
    def flow_context(self) -> Context:
        """The context shared by the nodes of this node's tab (Node-RED's ``flow``)."""
        return self.context.context_of(self.id, "flow")

    @functools.cached_property
    def global_context(self) -> Context:
        """The context shared by every node of the process (Node-RED's ``global``)."""
        return self.context.context_of(self.id, "global")

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any
                   ) -> asyncio.TimerHandle:
        """Run ``callback(*args)`` after ``delay`` seconds unless cancelled or the node stops.

        An exception in the callback is reported like one in ``on_input``.
        """
        def fire() -> None:
            self._timers.discard(handle)
            try:
                callback(*args)
            except Exception as exc:
                self.context.node_failed(self, exc)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)
        return handle

    def cancel_timer(self, handle: asyncio.TimerHandle | None) -> None:
        """Cancel a timer made by ``call_later`` (None is allowed and ignored)."""
        if handle is not None:
            handle.cancel()
            self._timers.discard(handle)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run a coroutine as a task owned by the node: cancelled when it stops,
        and an exception in it is reported with the node id."""
        task = asyncio.get_running_loop().create_task(
            coro, name=f"node {self.id}: {name or getattr(coro, '__qualname__', 'task')}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.context.node_failed(self, exc)

    def downstream_saturated(self) -> bool:
        """True when a message sent now would meet a full blocking queue (an async node's,
        through any synchronous nodes between): a source should skip or delay a read.

        It walks the wires, so ask once per read, not per message."""
        return async_input.saturated_below(self) is not None

    async def downstream_ready(self) -> None:
        """Wait until ``downstream_saturated()`` is False (a source that delays reads)."""
        while (full := async_input.saturated_below(self)) is not None:
            await full.room()

    @property
    def pending(self) -> bool:
        """True while the node has timers that may still emit, or async input still
        queued or in hand (the harness waits on it)."""
        return bool(self._timers) or (self.input_queue is not None and self.input_queue.busy)

    async def _release(self) -> None:
        """Cancel what the node left running; called by the engine after ``stop``."""
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def follows_config(cls: type[Node]) -> bool:
    """Does this type derive its outputs from its config (it overrides output_count)?
    Asked for every node a flow check meets, so a plain attribute look-up."""
    return getattr(cls.output_count, "__func__", None) is not _FIXED_COUNT


_FIXED_COUNT = vars(Node)["output_count"].__func__
"""The function behind Node.output_count, which answers the class's ``outputs``."""


class OutputCountError(ValueError):
    """A node type's ``output_count`` raised, or did not answer a whole number from 0
    to MAX_OUTPUTS; the text says which, in words."""


def outputs_of(cls: type[Node], config: Mapping[str, Any]) -> int:
    """``cls.output_count(config)`` for a validated config with defaults filled in,
    checked: raises OutputCountError with a sentence naming the type."""
    try:
        count = cls.output_count(config)
    except Exception as exc:  # a plugin's bug must not take the checker or editor down
        raise OutputCountError(f"{cls.type}'s output_count raised "
                               f"{type(exc).__name__}: {exc}") from None
    if isinstance(count, bool) or not isinstance(count, int):
        raise OutputCountError(f"{cls.type}'s output_count returned {_shown(count)}, "
                               f"not a whole number of outputs")
    if not 0 <= count <= MAX_OUTPUTS:
        raise OutputCountError(f"{cls.type}'s output_count returned {_shown(count)}: a "
                               f"node has 0 to {MAX_OUTPUTS:,} outputs")
    return count


def default_outputs(cls: type[Node]) -> int:
    """The outputs of a node of this type with the schema's defaults; the class's
    ``outputs`` when the defaults alone give no count (a required field, say)."""
    config: dict[str, Any] = {}
    fill_defaults(cls.schema, config)
    try:
        return outputs_of(cls, config)
    except OutputCountError:
        return cls.outputs


def _shown(value: Any) -> str:
    """A plugin's answer, quoted briefly (it may be huge, or an object whose repr fails)."""
    if isinstance(value, int) and value.bit_length() >= 64:
        return f"a {value.bit_length()}-bit number"
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else f"{text[:37]}..."
