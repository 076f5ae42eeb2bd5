"""Live events for open editor pages: node status, warnings, errors, debug messages,
and "the flow file changed on disk", over one websocket per page.

A node sending 10,000 messages a second must not freeze a page, so each page gets at
most FRAMES_PER_SECOND frames a second; within them, the latest status of each node,
and at most DEBUG_PER_NODE debug messages per node and DEBUG_PER_PAGE in all, and
NOTICES_PER_PAGE warnings and errors, per second. The rest are counted, never queued:
the next frame says how many of each node's were left out.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from portless.runtime import Event, EventBus

FRAMES_PER_SECOND = 20
DEBUG_PER_NODE = 20
DEBUG_PER_PAGE = 100
NOTICES_PER_PAGE = 50
QUEUED_PER_PAGE = 1000
"""Items a page that does not read (a stalled client) may have waiting; later ones are
counted as left out, so its memory stays bounded."""


class Page:
    """What one open page has yet to be sent."""

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.items: list[dict[str, Any]] = []
        self.left_out: defaultdict[str, int] = defaultdict(int)
        self.ready = asyncio.Event()
        self._window = 0.0
        self._debug_by_node: defaultdict[str, int] = defaultdict(int)
        self._debug = 0
        self._notices = 0

    def add(self, event: Event) -> None:
        if event.kind == "status":
            self.statuses[event.node_id] = event.data
        elif self._admit(event) and len(self.items) < QUEUED_PER_PAGE:
            self.items.append({"kind": event.kind, "node": event.node_id, **event.data})
        else:
            self.left_out[event.node_id] += 1
        self.ready.set()

    def _admit(self, event: Event) -> bool:
        now = time.monotonic()
        if now - self._window >= 1.0:
            self._window = now
            self._debug_by_node.clear()
            self._debug = self._notices = 0
        if event.kind == "debug":
            if self._debug >= DEBUG_PER_PAGE or \
                    self._debug_by_node[event.node_id] >= DEBUG_PER_NODE:
                return False
            self._debug += 1
            self._debug_by_node[event.node_id] += 1
            return True
        self._notices += 1
        return self._notices <= NOTICES_PER_PAGE

    def take(self) -> list[dict[str, Any]]:
        """Everything due, as one frame's list of events."""
        frame = [{"kind": "status", "node": node_id, **status}
                 for node_id, status in self.statuses.items()]
        frame += self.items
        frame += [{"kind": "left-out", "node": node_id, "count": count}
                  for node_id, count in self.left_out.items()]
        self.statuses, self.items = {}, []
        self.left_out.clear()
        self.ready.clear()
        return frame


class Hub:
    """Fans the engine's events out to every open page."""

    def __init__(self, events: EventBus) -> None:
        self.pages: set[Page] = set()
        self.last_status: dict[str, dict[str, Any]] = {}
        self._unsubscribe = events.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind == "status" and event.data:
            self.last_status[event.node_id] = event.data
        elif event.kind == "status":
            self.last_status.pop(event.node_id, None)
        for page in self.pages:
            page.add(event)

    def open(self) -> Page:
        """A new page starts with the current status of every node."""
        page = Page()
        page.statuses.update(self.last_status)
        page.ready.set()
        self.pages.add(page)
        return page

    def close(self, page: Page) -> None:
        self.pages.discard(page)

    def broadcast(self, item: dict[str, Any]) -> None:
        """An event for every page that is not a node's (the flow file changed, say)."""
        for page in self.pages:
            if len(page.items) < QUEUED_PER_PAGE:
                page.items.append(item)
            page.ready.set()

    async def frames(self, page: Page) -> Any:
        """Yield the page's frames, at most FRAMES_PER_SECOND a second."""
        while True:
            await page.ready.wait()
            yield page.take()
            await asyncio.sleep(1 / FRAMES_PER_SECOND)  # pacing, so a busy flow batches

    def shutdown(self) -> None:
        self._unsubscribe()
