"""The link state a broker node and its mqtt-in and mqtt-out nodes show, and its log:
each failure once per change, a full send buffer once per episode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

# Re-exported: other connections' nodes import them from here too (opcua).
from portless.nodes.link_state import LinkState as LinkState
from portless.nodes.link_state import StateListener as StateListener
from portless.runtime import Node

log = logging.getLogger("portless.mqtt")


class LinkStatus:
    """One broker node's link state: shown as its status, told to listeners, logged."""

    def __init__(self, node: Node, where: str, send_buffer: str) -> None:
        self.node = node
        self.where = where  # host:port, for the log
        self.send_buffer = send_buffer  # its limits, for the log
        self.state = LinkState("yellow", "connecting")
        self.qos0_dropped = 0
        self._listeners: list[StateListener] = []
        self._reported = ""
        self._overflow_timer: asyncio.TimerHandle | None = None
        self._dropped_shown = 0

    def add_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every change of the link state (and now, once)."""
        self._listeners.append(listener)
        listener(self.state)
        return lambda: self._listeners.remove(listener) if listener in self._listeners \
            else None

    def set(self, state: LinkState) -> None:
        if state == self.state:
            return
        self.state = state
        self.node.status(state.fill, state.text, "dot" if state.connected else "ring")
        if not state.connected and state.text != self._reported and state.fill == "red":
            self._reported = state.text
            log.warning("node %s: %s: %s", self.node.id, self.where, state.text)
        elif state.connected:
            self._reported = ""
        for listener in tuple(self._listeners):
            listener(state)

    def connected(self) -> None:
        self._dropped_shown = self.qos0_dropped
        self.set(LinkState("green", "connected", connected=True))

    def drop_qos0(self) -> None:
        """Count a QoS 0 message dropped: while connected, the send buffer was full;
        while disconnected, mqtt-out shows the count."""
        self.qos0_dropped += 1
        if self.state.connected and self._overflow_timer is None:
            self._show_overflow()

    def _show_overflow(self) -> None:
        """While the send buffer refuses QoS 0 messages, say so (refreshed once a second);
        a second without a refusal ends it."""
        self._overflow_timer = None
        if not self.state.connected:
            return
        dropped, node = self.qos0_dropped, self.node
        if dropped == self._dropped_shown:
            log.info("node %s: the send buffer has room again (%d QoS 0 messages dropped "
                     "so far)", node.id, dropped)
            self.set(LinkState("green", "connected", connected=True))
            return
        if self.state.fill == "green":
            log.warning("node %s: %s: the broker is not taking messages as fast as they "
                        "come: send buffer full (%s); QoS 0 messages are dropped",
                        node.id, self.where, self.send_buffer)
        self._dropped_shown = dropped
        self.set(LinkState("yellow", f"connected; send buffer full: {dropped} QoS 0 "
                           f"messages dropped", connected=True))
        self._overflow_timer = node.call_later(1.0, self._show_overflow)
