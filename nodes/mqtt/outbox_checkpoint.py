"""The outbox's disk thread: checkpoints and the final close, never in the event loop.

A checkpoint copies the WAL into the database file and fsyncs both: milliseconds, tens
of them on an SD card, that the event loop must not wait for. Each outbox has one
worker thread, so its checkpoints and its close run one after another, in order, on a
connection of that thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("portless.outbox")


class Checkpointer:
    """Runs the checkpoints of one outbox database in its worker thread."""

    def __init__(self, path: Path, name: str, cache_kib: int,
                 on_done: Callable[[], None]) -> None:
        self.path = path
        self.name = name
        self.running = False
        self.closed = False
        self._cache_kib = cache_kib
        self._on_done = on_done
        self._timer: asyncio.TimerHandle | None = None
        self.worker = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix=f"outbox {name}")
        self._db: sqlite3.Connection | None = None

    def later(self, delay: float, start: Callable[[], None]) -> None:
        """Call ``start`` after ``delay`` seconds, unless a call is planned already."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay, start)

    def start(self) -> None:
        """Checkpoint now, in the worker thread; ``on_done`` is called in the loop after."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.running = True
        future = asyncio.get_running_loop().run_in_executor(self.worker, self._checkpoint)
        future.add_done_callback(self._done)

    def _done(self, _: asyncio.Future[None]) -> None:
        self.running = False
        if not self.closed:
            self._on_done()

    def _checkpoint(self) -> None:
        """Sync the WAL to disk (PASSIVE: never blocks the loop's commits)."""
        try:
            if self._db is None:
                self._db = sqlite3.connect(self.path, isolation_level=None,
                                           check_same_thread=False)
                self._db.execute(f"PRAGMA cache_size=-{self._cache_kib}")
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("%s: checkpoint of %s failed: %s", self.name, self.path, exc)

    async def close(self, db: sqlite3.Connection) -> None:
        """Checkpoint and close ``db`` (the loop's connection) and this thread's, after
        any checkpoint still running; the last close merges the WAL and removes it."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.closed = True

        def close_now() -> None:
            self._checkpoint()
            db.close()
            if self._db is not None:
                self._db.close()

        try:
            await asyncio.get_running_loop().run_in_executor(self.worker, close_now)
        finally:
            self.worker.shutdown(wait=False)
