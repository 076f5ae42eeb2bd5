"""What a function node's code sees as ``node``: a few methods of its node, not the node.

The facade keeps the user's code to the part of the node contract Node-RED's function
node offers (send, warn, error, status, done, timers), so an attribute the runtime uses
internally is not one assignment away from being overwritten by a flow file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from portless.runtime import Message, clone_message

if TYPE_CHECKING:
    from .function import Function

log = logging.getLogger("portless.function")


class NodeApi:
    """``node`` in a function node's code: its id, name and outputs, and what it may do."""

    __slots__ = ("_node", "id", "name", "outputs")

    def __init__(self, node: Function) -> None:
        self._node = node
        self.id = node.id
        self.name = node.name
        self.outputs = node.outputs

    def __repr__(self) -> str:
        return f"<function node {self.id!r}>"

    def send(self, msg: Any, clone: bool = True) -> None:
        """Send a message on output 1, or a list with one entry (a message, a list of
        them, or None) per output; the first message is copied first unless ``clone``
        is False, so changing ``msg`` afterwards does not change what was sent."""
        outgoing = outgoing_of(msg, self._node.outputs)
        if clone and outgoing:
            first = next(port for port in outgoing if port)
            first[0] = clone_message(first[0])
        if outgoing:
            self._node.send(outgoing)

    def warn(self, text: Any) -> None:
        """Report a problem the code recovered from (a warning in the editor and log)."""
        self._node.warn(str(text))

    def error(self, text: Any, msg: Message | None = None) -> None:
        """Report an error; with the message it concerns, catch nodes get it."""
        self._node.error(str(text), msg)

    def log(self, text: Any) -> None:
        """Write a line to the runtime's log (level info), naming the node."""
        log.info("node %s: %s", self.id, text)

    def status(self, fill: str | dict[str, Any] | None = None, text: Any = "",
               shape: str = "dot") -> None:
        """Show a status under the node (``status("green", "ok")``, or Node-RED's
        ``status({"fill": "green", "shape": "ring", "text": "ok"})``); none clears it."""
        if isinstance(fill, dict):
            given: dict[str, Any] = fill
            fill, text, shape = (given.get("fill"), given.get("text", ""),
                                 given.get("shape", "dot"))
        self._node.status(fill, str(text), shape)  # type: ignore[arg-type]

    def done(self, msg: Message) -> None:
        """Say the node is done with ``msg`` (complete nodes get it); code that calls
        this is trusted to call it for every message it finishes."""
        self._node.done(msg)

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any
                   ) -> asyncio.TimerHandle:
        """Run ``callback(*args)`` after ``delay`` seconds, unless the node stops first
        (Node-RED's setTimeout); an exception in it is reported as the node's error."""
        return self._node.call_later(delay, callback, *args)

    def cancel_timer(self, handle: asyncio.TimerHandle | None) -> None:
        """Cancel a timer made by ``call_later`` (Node-RED's clearTimeout)."""
        self._node.cancel_timer(handle)


def outgoing_of(result: Any, outputs: int, msgid: Any = None
                ) -> list[list[Message] | None]:
    """What a function's code returned or sent, as one entry per output (None or a list
    of messages); raises ValueError saying what is wrong with it. ``msgid``: given to
    each message as its ``_msgid`` (as Node-RED does with returned messages)."""
    entries: Sequence[Any] = [result] if isinstance(result, dict) else result
    if not isinstance(entries, list | tuple):
        raise ValueError(f"returned {_kind(result)}, not a message (a dict), a list of "
                         f"them or None")
    if len(entries) > outputs:
        raise ValueError(f"returned {len(entries)} entries, but the node has {outputs} "
                         f"output(s)")
    outgoing: list[list[Message] | None] = []
    for port, entry in enumerate(entries, 1):
        items = entry if isinstance(entry, list | tuple) else [entry]
        messages = []
        for item in items:
            if isinstance(item, dict):
                if msgid is not None:
                    item["_msgid"] = msgid
                messages.append(item)
            elif item is not None:
                raise ValueError(f"returned {_kind(item)} for output {port}, not a message "
                                 f"(a dict)")
        outgoing.append(messages or None)
    return outgoing if any(outgoing) else []


def _kind(value: Any) -> str:
    return f"a {type(value).__name__}"
