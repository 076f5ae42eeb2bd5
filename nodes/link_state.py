"""The state of a shared connection's link as the nodes using it show it (mqtt-broker's,
modbus-connection's units, opcua-connection's), told to them, and its failures logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from portless.runtime.node import Fill, Node


@dataclass(frozen=True)
class LinkState:
    """What the connection is doing, as nodes show it under themselves."""

    fill: Fill
    text: str
    connected: bool = False


StateListener = Callable[[LinkState], None]

CONNECTING = LinkState("yellow", "connecting")
CONNECTED = LinkState("green", "connected", connected=True)


class StateListeners:
    """A link state and the nodes that listen to it: each change is told to them all."""

    def __init__(self) -> None:
        self.state = CONNECTING
        self._listeners: list[StateListener] = []

    def add_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every change of the link state (and now, once); returns
        what stops that."""
        self._listeners.append(listener)
        listener(self.state)
        return lambda: self._listeners.remove(listener) if listener in self._listeners \
            else None

    def set(self, state: LinkState) -> None:
        """Take ``state``; if it is a change, show it and tell the listeners."""
        if state == self.state:
            return
        self.state = state
        self._show(state)
        for listener in tuple(self._listeners):
            listener(state)

    def _show(self, state: LinkState) -> None:
        """What a change does before the listeners hear of it (here: nothing)."""


class FailureLog:
    """Warns of a link's failure once per change of its words, not at every retry; a
    connection starts it afresh."""

    def __init__(self, log: logging.Logger, node_id: str) -> None:
        self._log = log
        self._node_id = node_id
        self._reported = ""

    def failed(self, where: str, words: str) -> None:
        """The link to ``where`` is down, for the reason ``words``."""
        if words != self._reported:
            self._reported = words
            self._log.warning("node %s: %s: %s", self._node_id, where, words)

    def connected(self) -> None:
        """The link is up: its next failure is news, even in the same words."""
        self._reported = ""


class LinkStatus(StateListeners):
    """A connection node's link state: shown as its status, told to listeners, and each
    failure (a red state) logged once."""

    def __init__(self, node: Node, where: str, log: logging.Logger) -> None:
        super().__init__()
        self.node = node
        self.where = where  # host:port or endpoint, for the log
        self._failures = FailureLog(log, node.id)

    def _show(self, state: LinkState) -> None:
        self.node.status(state.fill, state.text, "dot" if state.connected else "ring")
        if state.connected:
            self._failures.connected()
        elif state.fill == "red":
            self._failures.failed(self.where, state.text)
