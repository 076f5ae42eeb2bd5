"""One channel for what nodes report: status, warnings, errors and debug output.

Headless, a subscriber writes them to the log; the editor subscribes to stream them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

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

    A node busy on every message cannot flood the log: per node and kind, at most
    ``LINES_PER_SECOND`` lines a second are written; the rest are counted and, when the
    second is over, the latest of them is written with "(N more left out)", so the log
    always ends on a node's true status. That line is the first of the next second, so a
    node warning twice a second writes one line a second, not two in one millisecond.
    Events marked ``logged`` were already logged where they arose (with a traceback);
    errors marked ``caught`` went to a catch node, which handles them instead.
    """

    LINES_PER_SECOND: ClassVar[dict[str, int]] = {
        "status": 5, "debug": 5, "warning": 1, "error": 1}

    def __init__(self, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``clock`` tells the time in the event loop's seconds (a test steps it)."""
        self.interval = interval
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def __call__(self, event: Event) -> None:
        level = _LEVELS[event.kind]
        if not log.isEnabledFor(level) or event.data.get("logged") \
                or event.data.get("caught"):
            return
        key = (event.node_id, event.kind)
        now = self._clock()
        window = self._windows.get(key)
        if window is None or now - window.start >= self.interval:
            window = self._next_window(key)  # when no loop timer opened it already
        if window.lines < self.LINES_PER_SECOND[event.kind]:
            window.lines += 1
            _write(event, level)
            return
        window.left_out += 1
        window.latest = event
        if window.timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: written with the next event instead
                return
            window.timer = loop.call_later(window.start + self.interval - now,
                                           self._next_window, key)

    def flush(self) -> None:
        """Write what was left out so far (at shutdown, so the last status is logged)."""
        for window in self._windows.values():
            self._write_left_out(window)

    def _next_window(self, key: tuple[str, str]) -> _Window:
        """End the current second of ``key``: its held-back line opens the next one."""
        window = self._windows.get(key)
        written = self._write_left_out(window) if window is not None else False
        window = self._windows[key] = _Window(self._clock(), lines=int(written))
        return window

    def _write_left_out(self, window: _Window) -> bool:
        """Write the latest line held back, with how many more were; True if there was one."""
        if window.timer is not None:
            window.timer.cancel()
            window.timer = None
        event, window.latest = window.latest, None
        if event is None:
            return False
        more, window.left_out = window.left_out - 1, 0
        _write(event, _LEVELS[event.kind], f" ({more} more left out)" if more else "")
        return True


@dataclass(slots=True)
class _Window:
    """One node's lines of one kind in the current second."""

    start: float
    lines: int = 0
    left_out: int = 0
    latest: Event | None = None
    timer: asyncio.TimerHandle | None = None


_LEVELS = {"status": logging.INFO, "debug": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def _write(event: Event, level: int, suffix: str = "") -> None:
    data = event.data
    if event.kind == "status":
        if data:
            log.log(level, "node %s: status %s %s: %s%s", event.node_id, data.get("fill"),
                    data.get("shape"), data.get("text"), suffix)
        else:
            log.log(level, "node %s: status cleared%s", event.node_id, suffix)
    elif event.kind == "debug":
        log.log(level, "node %s: debug: %s%s", event.node_id, data.get("text"), suffix)
    else:
        log.log(level, "node %s: %s%s", event.node_id, data["text"], suffix)
