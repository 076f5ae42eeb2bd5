"""One channel for what nodes report: status, warnings, errors and debug output.

Headless, a subscriber writes them to the log; the editor subscribes to stream them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["status", "warning", "error", "debug"]
Subscriber = Callable[["Event"], None]

log = logging.getLogger("portless.events")


@dataclass(frozen=True, slots=True)
class Event:
    """Something a node reported; ``data`` holds fill/shape/text, or text, or a message."""

    kind: EventKind
    node_id: str
    data: dict[str, Any] = field(default_factory=dict)


class EventBus:
    """Fan-out of node events to subscribers; a failing subscriber is logged, not fatal."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it again."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed", subscriber)


class LogSubscriber:
    """The headless subscriber: events become log lines naming their node.

    Warnings and errors are logged at most once a second per node, with a count of
    those left out since, so a node failing on every message cannot flood the log.
    Events marked ``logged`` were already logged where they arose (with a traceback).
    """

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}
        self._left_out: dict[tuple[str, str], int] = {}

    def __call__(self, event: Event) -> None:
        data = event.data
        if event.kind == "status":
            if data:
                log.info("node %s: status %s %s: %s", event.node_id, data.get("fill"),
                         data.get("shape"), data.get("text"))
            else:
                log.info("node %s: status cleared", event.node_id)
        elif event.kind == "debug":
            log.info("node %s: debug: %s", event.node_id, data.get("text"))
        elif not data.get("logged") and self._due(event):
            key = (event.node_id, event.kind)
            more = self._left_out.pop(key, 0)
            suffix = f" ({more} more since the last line)" if more else ""
            level = logging.WARNING if event.kind == "warning" else logging.ERROR
            log.log(level, "node %s: %s%s", event.node_id, data["text"], suffix)

    def _due(self, event: Event) -> bool:
        key = (event.node_id, event.kind)
        now = time.monotonic()
        if now - self._last.get(key, -self.interval) >= self.interval:
            self._last[key] = now
            return True
        self._left_out[key] = self._left_out.get(key, 0) + 1
        return False
