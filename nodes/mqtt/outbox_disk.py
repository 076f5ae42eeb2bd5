"""The outbox's share of a small disk: refuse new messages before the disk is full.

When the disk fills up, sqlite can no longer delete acknowledged messages (a delete
writes to the WAL) nor checkpoint (which grows the database file), and nothing drains
when the broker returns. So the outbox keeps a reserve free and refuses new messages
below it. Pages freed by deletes inside the database count as free space: new rows
reuse them before the file grows.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

log = logging.getLogger("portless.outbox")

DISK_RESERVE = 256 * 1024
"""Default bytes of the disk kept free for deletes, the WAL and checkpoints."""


class DiskSpace:
    """The free space on the disk of one outbox database, with its reserve."""

    def __init__(self, path: Path, reserve: int, name: str) -> None:
        self.path = path
        self.reserve = reserve
        self.name = name
        self.short = False
        """New messages are refused until ``recovered`` finds room again."""
        self._checked = 0.0

    def free(self) -> int:
        """Bytes of the disk free for this process (-1 if it cannot be told)."""
        try:
            stat = os.statvfs(self.path.parent)
        except OSError:
            return -1
        return stat.f_bavail * stat.f_frsize

    def room(self, wanted: int, db: sqlite3.Connection) -> int:
        """Bytes that can still be stored leaving the reserve free: ``wanted`` when
        there is plenty (the common case, one statvfs), else what is left."""
        free = self.free()
        if free < 0 or free - wanted >= self.reserve:
            return wanted
        if free < self.reserve // 2:  # the WAL grows on the disk, whatever is free inside
            return 0
        freelist, page_size = (db.execute(f"PRAGMA {name}").fetchone()[0]
                               for name in ("freelist_count", "page_size"))
        return max(0, free + int(freelist) * int(page_size) - self.reserve)

    def recovered(self, db: sqlite3.Connection) -> bool:
        """While ``short``: check again (at most every 0.1 s) whether there is room,
        with some to spare so refusing does not flap; True once there is, logged."""
        now = time.monotonic()
        if now - self._checked < 0.1:
            return False
        self._checked = now
        wanted = self.reserve // 2
        if self.room(wanted, db) < wanted:
            return False
        self.short = False
        log.warning("%s: the disk of %s has room again; accepting new messages",
                    self.name, self.path.parent)
        return True


def fitting(sizes: list[int], room: int) -> int:
    """How many of the first ``sizes`` (stored bytes each) fit in ``room``."""
    used = 0
    for count, size in enumerate(sizes):
        used += size
        if used > room:
            return count
    return len(sizes)
