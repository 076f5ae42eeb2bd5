"""One channel for what nodes report: status, warnings, errors and debug output.

Headless, a subscriber writes them to the log; the editor subscribes to stream them.
"""

from __future__ import annotations

import logging
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


def log_event(event: Event) -> None:
    """The headless subscriber: every event becomes one log line naming its node."""
    data = event.data
    if event.kind == "status" and not data:
        log.info("node %s: status cleared", event.node_id)
    elif event.kind == "status":
        log.info("node %s: status %s %s: %s",
                 event.node_id, data.get("fill"), data.get("shape"), data.get("text"))
    elif event.kind == "warning":
        log.warning("node %s: %s", event.node_id, data["text"])
    elif event.kind == "error":
        log.error("node %s: %s", event.node_id, data["text"])
    else:
        log.info("node %s: debug: %s", event.node_id, data.get("text"))
