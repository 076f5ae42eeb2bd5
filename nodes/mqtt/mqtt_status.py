"""The link state a broker node and its mqtt-in and mqtt-out nodes show, and its log:
each failure once per change, a full send buffer once per episode."""

from __future__ import annotations

import asyncio
import logging

from portless.nodes.link_state import CONNECTED, LinkState, LinkStatus
from portless.runtime import Node

log = logging.getLogger("portless.mqtt")


class BrokerLinkStatus(LinkStatus):
    """One broker node's link state (shown, told, failures logged as LinkStatus does),
    and the QoS 0 messages its send buffer drops."""

    def __init__(self, node: Node, where: str, send_buffer: str) -> None:
        super().__init__(node, where, log)
        self.send_buffer = send_buffer  # its limits, for the log
        self.qos0_dropped = 0
        self._overflow_timer: asyncio.TimerHandle | None = None
        self._dropped_shown = 0

    def connected(self) -> None:
        """The broker accepted the connection: show "connected"."""
        self._dropped_shown = self.qos0_dropped
        self.set(CONNECTED)

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
            self.set(CONNECTED)
            return
        if self.state.fill == "green":
            log.warning("node %s: %s: the broker is not taking messages as fast as they "
                        "come: send buffer full (%s); QoS 0 messages are dropped",
                        node.id, self.where, self.send_buffer)
        self._dropped_shown = dropped
        self.set(LinkState("yellow", f"connected; send buffer full: {dropped} QoS 0 "
                           f"messages dropped", connected=True))
        self._overflow_timer = node.call_later(1.0, self._show_overflow)
