"""A full outbox: which messages drop-oldest deletes, and how it is reported.

Reports of a full outbox (or disk) come at once, then at most once per period: under
steady load a full outbox refuses or drops on every message, and the log must say so
without drowning the device; what happens within a period is summed up at its end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class ThrottledReport:
    """Call ``say(action, disk)`` at once, then at most once per ``period`` seconds; a
    period with something to say ends with ``say("still full", disk)``."""

    def __init__(self, say: Callable[[str, bool], None], period: float = 5.0) -> None:
        self._say = say
        self._period = period
        self._last = 0.0
        self._summary: asyncio.TimerHandle | None = None

    def __call__(self, action: str, disk: bool = False) -> None:
        wait = self._last + self._period - time.monotonic()
        if wait <= 0:
            self._report(action, disk)
        elif self._summary is None:
            self._summary = asyncio.get_running_loop().call_later(
                wait, self._report, "still full", disk)

    def _report(self, action: str, disk: bool) -> None:
        self._summary = None
        self._last = time.monotonic()
        self._say(action, disk)

    def cancel(self) -> None:
        """No summary after this (the outbox closes)."""
        if self._summary is not None:
            self._summary.cancel()
            self._summary = None


def oldest_victims(rows: list[tuple[int, int]], in_flight: set[int], need_count: int,
                   need_bytes: int) -> tuple[list[tuple[int]], int]:
    """From ``rows`` (seq, size), oldest first, the seqs to delete so that at least
    ``need_count`` messages and ``need_bytes`` bytes go, never one in flight; and the
    bytes they free."""
    victims: list[tuple[int]] = []
    freed = 0
    for seq, size in rows:
        if len(victims) >= need_count and freed >= need_bytes:
            break
        if seq not in in_flight:
            victims.append((seq,))
            freed += size
    return victims, freed
