"""The persistent context store: sqlite in the state directory, written by a thread.

The event loop never waits for the disk. A ``put`` records the newest text of a key in
a pending batch (a dict: a key set a thousand times between two commits is written
once); at most ``flush_interval`` seconds after the first change the batch goes to the
writer thread, which commits it in one transaction. While the writer is busy the next
batch keeps gathering, so memory holds at most one value per key waiting.

WAL mode with ``synchronous=FULL``: a batch once committed survives SIGKILL and a power
cut (the commit fsyncs the WAL); what can be lost is what was set in the last
``flush_interval`` before the crash. A commit that fails (a full disk) keeps its batch
and is retried with the next one; it is logged, never raised into a node.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLUSH_INTERVAL = 1.0
"""Default seconds between a change and its commit: the most a crash can lose."""
MAX_VALUE_BYTES = 1024 * 1024
"""The largest JSON text one key may hold in the persistent store (1 MiB)."""
MAX_STORE_BYTES = 64 * 1024 * 1024
"""The most all keys together may hold (64 MiB): the store is read whole at start."""
MAX_DEPTH = 32
"""Deepest nesting of lists and dicts a stored value may have."""
CLOSE_TIMEOUT = 5.0
"""How long closing waits for the last commit (a hung disk must not hang a stop)."""
DATABASE = "context.sqlite"

log = logging.getLogger("portless.context")

Rows = dict[str, dict[str, str]]
"""JSON text by key, by scope."""


def encode(value: Any) -> str:
    """The JSON text of a value, or ValueError saying what in it cannot be stored.

    Only what reads back equal is accepted: str, int, finite float, bool, None, lists and
    dicts with string keys (a tuple would come back a list, an int key a string)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        kind = type(item)
        if kind is dict:
            if depth >= MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels{_at(where)}")
            for key, child in item.items():
                if type(key) is not str:
                    raise ValueError(f"has the key {key!r}{_at(where)}: keys of a stored "
                                     f"dict must be strings")
                stack.append((child, f"{where}.{key}" if where else key, depth + 1))
        elif kind is list:
            if depth >= MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels{_at(where)}")
            stack.extend((child, f"{where}[{index}]", depth + 1)
                         for index, child in enumerate(item))
        elif kind is float:
            if not math.isfinite(item):
                raise ValueError(f"holds {item!r}{_at(where)}, which is not a JSON number")
        elif kind not in (str, int, bool) and item is not None:
            raise ValueError(f"holds {_a(kind.__name__)}{_at(where)}, which is not JSON "
                             f"(store str, int, float, bool, None, lists and dicts)")
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("holds a lone UTF-16 surrogate, which is not text") from None
    if size > MAX_VALUE_BYTES:
        raise ValueError(f"is {size:,} bytes as JSON, more than the {MAX_VALUE_BYTES:,} "
                         f"a key may hold")
    return text


def _at(where: str) -> str:
    return f" at {where}" if where else ""


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


class StoreError(Exception):
    """A commit of the persistent store failed (a full disk, say)."""


@dataclass
class _Batch:
    writes: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """The newest text of each changed key; None deletes it."""
    drops: set[str] = field(default_factory=set)
    """Scopes deleted whole, applied before ``writes``."""
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def merge(self, later: _Batch) -> None:
        for scope in later.drops:
            for key in [key for key in self.writes if key[0] == scope]:
                del self.writes[key]
        self.drops |= later.drops
        self.writes.update(later.writes)
        self.waiters += later.waiters


class PersistentStore:
    """One sqlite file of context values and the thread that writes it.

    ``open`` (blocking: call it in a thread) reads every row; ``put``, ``drop`` and
    ``flush`` are called in the event loop."""

    def __init__(self, path: Path, flush_interval: float = FLUSH_INTERVAL) -> None:
        self.path = path
        self.flush_interval = flush_interval
        self._sizes: dict[str, dict[str, int]] = {}
        self.total_bytes = 0
        self._pending = _Batch()
        self._timer: asyncio.TimerHandle | None = None
        self._writing = False
        self._due = False
        """The interval ended while the writer was busy: hand over when it is done."""
        self._queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._db: sqlite3.Connection | None = None
        self._failed_at = -math.inf

    # --- opening and closing ---------------------------------------------------------
    def open(self) -> Rows:
        """Create or open the database and return its rows (blocking); an OSError
        naming the file if it cannot be used (not a database, no permission)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("CREATE TABLE IF NOT EXISTS context (scope TEXT NOT NULL, key "
                           "TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, key)) "
                           "WITHOUT ROWID")
                found = db.execute("SELECT scope, key, value FROM context").fetchall()
            except BaseException:
                db.close()
                raise
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise OSError(f"cannot open the persistent context store {self.path}: "
                          f"{reason}") from None
        rows: Rows = {}
        for scope, key, text in found:
            rows.setdefault(scope, {})[key] = text
            self._sizes.setdefault(scope, {})[key] = len(text)
            self.total_bytes += len(text)
        self._db = db
        return rows

    def start(self) -> None:
        """Start the writer thread; from now on ``put`` may be called (in this loop)."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._write_batches, daemon=True,
                                        name=f"context store {self.path}")
        self._thread.start()

    async def close(self) -> None:
        """Commit what is pending, stop the writer thread, close the database."""
        if self._thread is None:
            return
        try:
            await asyncio.wait_for(self.flush(), CLOSE_TIMEOUT)
        except StoreError as exc:
            log.error("%s; %d value(s) set since the last commit are lost",
                      exc, len(self._pending.writes))
        except TimeoutError:  # the writer is stuck in the disk: the join below says so
            pass
        self._queue.put(None)
        thread, self._thread = self._thread, None
        await asyncio.to_thread(thread.join, CLOSE_TIMEOUT)
        if thread.is_alive():
            log.error("context store %s: the last commit did not finish within %.0f s; "
                      "values set since the last commit may be lost", self.path,
                      CLOSE_TIMEOUT)
        elif self._db is not None:
            self._db.close()
        self._db = None
        if self._timer is not None:  # a retry after a failed commit: nothing writes now
            self._timer.cancel()
            self._timer = None
        self._loop = None

    # --- in the event loop -------------------------------------------------------------
    def put(self, scope: str, key: str, text: str | None) -> None:
        """Record a key's new JSON text (None: deleted); ValueError if the store would
        grow past MAX_STORE_BYTES."""
        sizes = self._sizes.setdefault(scope, {})
        old = sizes.get(key, 0)
        new = 0 if text is None else len(text)
        if self.total_bytes - old + new > MAX_STORE_BYTES:
            raise ValueError(f"would grow the persistent context store past "
                             f"{MAX_STORE_BYTES:,} bytes")
        self.total_bytes += new - old
        if text is None:
            sizes.pop(key, None)
        else:
            sizes[key] = new
        self._pending.writes[(scope, key)] = text
        self._schedule()

    def drop(self, scope: str) -> None:
        """Delete a whole scope (a node removed by a deploy)."""
        self.total_bytes -= sum(self._sizes.pop(scope, {}).values())
        self._pending.merge(_Batch(drops={scope}))
        self._schedule()

    async def flush(self) -> None:
        """Hand what is pending to the writer now and wait until it is committed;
        StoreError if the commit failed (what it held is kept and retried)."""
        waiter = asyncio.get_running_loop().create_future()
        self._pending.waiters.append(waiter)
        self._hand_over()
        await waiter

    def _schedule(self) -> None:
        if self._timer is None and self._loop is not None:
            self._timer = self._loop.call_later(self.flush_interval, self._hand_over)

    def _hand_over(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing:  # the writer's completion hands the batch over
            self._due = True
            return
        batch, self._pending = self._pending, _Batch()
        self._writing = True
        self._queue.put(batch)

    def _written(self, batch: _Batch, error: str | None) -> None:
        """The writer finished a batch (called in the loop)."""
        self._writing = False
        if error is not None:  # keep it, under what came since, and retry later
            now = time.monotonic()
            if now - self._failed_at >= 60:
                self._failed_at = now
                log.error("context store %s: cannot write (%s); %d value(s) wait and "
                          "are retried", self.path, error, len(batch.writes))
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_exception(StoreError(f"context store {self.path}: cannot "
                                                    f"write: {error}"))
            batch.waiters = []
            batch.merge(self._pending)
            self._pending = batch
            self._due = False
            self._schedule()
            return
        for waiter in batch.waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self._due:
            self._due = False
            self._hand_over()

    # --- in the writer thread ------------------------------------------------------------
    def _write_batches(self) -> None:
        while (batch := self._queue.get()) is not None:
            error = None
            try:
                self._commit(batch)
            except Exception as exc:  # the writer never dies: the batch is retried
                error = str(exc) if isinstance(exc, sqlite3.Error) else \
                    f"{type(exc).__name__}: {exc}"
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(self._written, batch, error)
            except RuntimeError:  # the loop closed without close(): nothing waits
                return

    def _commit(self, batch: _Batch) -> None:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM context WHERE scope = ?",
                           [(scope,) for scope in batch.drops])
            db.executemany("DELETE FROM context WHERE scope = ? AND key = ?",
                           [key for key, text in batch.writes.items() if text is None])
            db.executemany("INSERT OR REPLACE INTO context VALUES (?, ?, ?)",
                           [(*key, text) for key, text in batch.writes.items()
                            if text is not None])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLITE_FULL has rolled it back already
                db.execute("ROLLBACK")
            raise
