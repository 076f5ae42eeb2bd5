"""One mqtt-in node's interest in a topic filter, and MQTT's topic matching."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

MessageHandler = Callable[[str, bytes, int, dict[str, Any]], None]


class Subscription:
    """One mqtt-in node's interest in a topic filter."""

    def __init__(self, topic_filter: str, qos: int, handler: MessageHandler,
                 on_refused: Callable[[str], None]) -> None:
        self.topic_filter = topic_filter
        self.qos = qos
        self.handler = handler
        self.on_refused = on_refused
        # MQTT 5 subscription identifier (1 .. 268435455): the same for the same filter,
        # also across restarts, since a persistent session stamps queued messages with it.
        self.identifier = zlib.crc32(topic_filter.encode()) % 268_435_455 + 1
        pattern = topic_filter
        if pattern.startswith("$share/"):  # $share/group/filter: messages carry the filter's topics
            pattern = pattern.split("/", 2)[2]
        self._levels = pattern.split("/")

    def matches(self, topic: str) -> bool:
        """MQTT topic matching: ``+`` is one level, a final ``#`` any number (even none)."""
        levels = topic.split("/")
        pattern = self._levels
        if topic.startswith("$") and pattern[0] in ("+", "#"):
            return False  # wildcards do not match $SYS-style topics
        for index, part in enumerate(pattern):
            if part == "#":
                return True
            if index >= len(levels) or (part != "+" and part != levels[index]):
                return False
        return len(levels) == len(pattern)


