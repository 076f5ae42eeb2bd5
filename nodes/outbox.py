"""The durable outbox of an MQTT connection: QoS 1/2 messages wait here until acked.

Storage is sqlite3 from the standard library, in WAL mode with ``synchronous=NORMAL``:
a committed message survives a crash of the process (SIGKILL), since the WAL is in
the OS page cache before the commit returns. A checkpoint (which fsyncs) runs at most a
second after any write, so a power cut loses at most about the last second of messages.
Inserts and deletes are batched: every message
added in one turn of the event loop goes into one transaction, and acknowledgements
are deleted together every ACK_DELAY, so durability does not cost a disk flush per
message. The checkpoint's fsync runs in a worker thread, not in the event loop.

A message counts as accepted once its transaction committed. It leaves the outbox only
when the broker acknowledged it (PUBACK for QoS 1, PUBCOMP for QoS 2). The outbox is
bounded by a number of messages and of bytes; when full, the policy is ``drop-oldest``
(default: the oldest waiting messages are deleted and counted) or ``refuse-new``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgpack

FullPolicy = Literal["drop-oldest", "refuse-new"]
CHECKPOINT_DELAY = 1.0
"""Seconds from a write to the checkpoint that fsyncs it."""
ACK_DELAY = 0.01
"""Seconds an acknowledged message may stay in the database before its delete is
committed. A crash in between sends it again after the restart (QoS 1 allows a
duplicate); a sender never sees it again, as it reads past it, and connection_lost
commits before the next sender reads from the start."""
ACK_BATCH = 1000
"""Acknowledgements committed at once, without waiting for ACK_DELAY."""

log = logging.getLogger("portless.outbox")
_CHECKPOINTER = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="outbox-checkpoint")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    properties BLOB NOT NULL
)
"""


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 0.5 us more per message
class Record:
    """One stored message, in the order it was accepted (``seq``)."""

    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: dict[str, Any]

    @property
    def size(self) -> int:
        return len(self.payload) + len(self.topic)


class OutboxError(Exception):
    """The outbox could not store a message (a full disk, say)."""


class Outbox:
    """Bounded, durable FIFO of outgoing messages; ``add`` now, committed this loop turn."""

    def __init__(self, path: Path, *, max_messages: int, max_bytes: int,
                 policy: FullPolicy = "drop-oldest", name: str = "outbox",
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.policy = policy
        self.name = name
        self.dropped = 0
        self.refused = 0
        self.count = 0
        self.bytes = 0
        self.ready = asyncio.Event()
        """Set whenever committed messages may be waiting to be sent."""
        self._on_problem = on_problem or (lambda text: None)
        self.in_flight: set[int] = set()
        """Seqs sent and not yet acknowledged; never dropped to make room."""
        self._dropped_since_read: set[int] = set()
        self._pending: list[tuple[str, bytes, int, int, bytes]] = []
        self._acked: list[tuple[int]] = []
        self._flush_handle: asyncio.Handle | None = None
        self._checkpoint_handle: asyncio.TimerHandle | None = None
        self._checkpointing: concurrent.futures.Future[None] | None = None
        self._ack_timer: asyncio.TimerHandle | None = None
        self._last_full_log = 0.0
        self._full_summary: asyncio.TimerHandle | None = None
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            count, size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(topic)), 0) FROM outbox"
            ).fetchone()
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from None
        self.count, self.bytes = count, size
        if count:
            log.info("%s: %d messages from before the restart are waiting to be sent",
                     self.name, count)
            self.ready.set()
        return db

    def add(self, topic: str, payload: bytes, qos: int, retain: bool,
            properties: dict[str, Any]) -> bool:
        """Queue a message; committed at the end of this loop turn. False if refused."""
        size = len(payload) + len(topic)
        if size > self.max_bytes:
            self.refused += 1
            self._on_problem(f"message of {size} bytes is larger than the whole outbox "
                             f"({self.max_bytes} bytes); dropped")
            return False
        if self.count + 1 > self.max_messages or self.bytes + size > self.max_bytes:
            if self.policy == "refuse-new":
                self.refused += 1
                self._log_full("refused the new message")
                return False
            self._make_room(size)
        self._pending.append((topic, payload, qos, int(retain),
                              msgpack.packb(properties, use_bin_type=True)))
        self.count += 1
        self.bytes += size
        self._schedule_flush()
        return True

    def sending(self, record: Record) -> bool:
        """``record`` is about to be published; keep it until ``acked`` or
        ``connection_lost``. False if it was dropped to make room since it was read."""
        if record.seq in self._dropped_since_read:
            return False
        self.in_flight.add(record.seq)
        return True

    def connection_lost(self) -> None:
        """Nothing in flight will be acknowledged now; it is all sent again later."""
        self.in_flight.clear()
        self.flush()  # the next sender reads from the start: acked rows must be gone

    def acked(self, record: Record) -> None:
        """The broker acknowledged ``record``: delete it (batched with others)."""
        if record.seq not in self.in_flight:
            return
        self.in_flight.discard(record.seq)
        self._acked.append((record.seq,))
        self.count -= 1
        self.bytes -= record.size
        if len(self._acked) >= ACK_BATCH:
            self._schedule_flush()
        elif self._ack_timer is None and self._flush_handle is None:
            self._ack_timer = asyncio.get_running_loop().call_later(ACK_DELAY, self.flush)

    def read(self, after_seq: int, limit: int) -> list[Record]:
        """Committed messages with ``seq`` above ``after_seq``, oldest first."""
        self._dropped_since_read.clear()
        rows = self._db.execute(
            "SELECT seq, topic, payload, qos, retain, properties FROM outbox "
            "WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)).fetchall()
        return [Record(seq, topic, payload, qos, bool(retain),
                       msgpack.unpackb(properties, raw=False))
                for seq, topic, payload, qos, retain, properties in rows]

    def _schedule_flush(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Commit what was added and delete what was acked, in one transaction."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None
        pending, acked = self._pending, self._acked
        if not pending and not acked:
            return
        self._pending, self._acked = [], []
        try:
            with self._transaction():
                if acked:
                    self._db.executemany("DELETE FROM outbox WHERE seq = ?", acked)
                if pending:
                    self._db.executemany(
                        "INSERT INTO outbox (topic, payload, qos, retain, properties) "
                        "VALUES (?, ?, ?, ?, ?)", pending)
        except sqlite3.Error as exc:
            # Nothing of this batch was written; the acks are retried with the next one.
            self._acked = acked + self._acked
            self.count -= len(pending)
            self.bytes -= sum(len(row[1]) + len(row[0]) for row in pending)
            self.refused += len(pending)
            self._on_problem(f"cannot store {len(pending)} message(s) in {self.path}: {exc}; "
                             f"they were dropped")
            return
        if pending:
            self.ready.set()
        if self._checkpoint_handle is None:
            self._checkpoint_handle = asyncio.get_running_loop().call_later(
                CHECKPOINT_DELAY, self._checkpoint)

    def _checkpoint(self) -> None:
        """Sync the WAL to disk (bounds what a power cut can take, see module docstring)
        in a worker thread, on a connection of its own: the fsync takes milliseconds
        (tens on an SD card) that the event loop must not wait for."""
        self._checkpoint_handle = None
        if self._checkpointing is not None and not self._checkpointing.done():
            self._checkpoint_handle = asyncio.get_running_loop().call_later(
                CHECKPOINT_DELAY, self._checkpoint)
            return
        self._checkpointing = _CHECKPOINTER.submit(self._checkpoint_now)

    def _checkpoint_now(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                db.close()
        except sqlite3.Error as exc:
            log.warning("%s: checkpoint of %s failed: %s", self.name, self.path, exc)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _make_room(self, size: int) -> None:
        """Drop the oldest messages until one of ``size`` bytes fits (drop-oldest policy).

        Drops a little more than needed (1% of the bound), so a full outbox under steady
        load deletes in batches rather than once per message.
        """
        self.flush()
        over_count = self.count + 1 - self.max_messages
        over_bytes = self.bytes + size - self.max_bytes
        need_count = over_count + max(1, self.max_messages // 100) if over_count > 0 else 0
        need_bytes = over_bytes + self.max_bytes // 100 if over_bytes > 0 else 0
        dropped = freed = 0
        try:
            with self._transaction():
                rows = self._db.execute(
                    "SELECT seq, LENGTH(payload) + LENGTH(topic) FROM outbox ORDER BY seq "
                    "LIMIT ?", (max(need_count, 1) + 1000,)).fetchall()
                victims = []
                for seq, row_size in rows:
                    if dropped >= need_count and freed >= need_bytes:
                        break
                    if seq in self.in_flight:
                        continue
                    victims.append((seq,))
                    dropped += 1
                    freed += row_size
                self._db.executemany("DELETE FROM outbox WHERE seq = ?", victims)
            self._dropped_since_read.update(seq for (seq,) in victims)
        except sqlite3.Error as exc:
            self._on_problem(f"cannot make room in {self.path}: {exc}")
            return
        self.count -= dropped
        self.bytes -= freed
        self.dropped += dropped
        self._log_full(f"dropped the {dropped} oldest message(s)")

    def _log_full(self, action: str) -> None:
        """Report a full outbox at once, then at most once per 5 s; what happens within
        those 5 s is summed up at their end, so the totals of a burst are reported too."""
        wait = self._last_full_log + 5.0 - time.monotonic()
        if wait <= 0:
            self._report_full(action)
        elif self._full_summary is None:
            self._full_summary = asyncio.get_running_loop().call_later(
                wait, self._report_full, "still full")

    def _report_full(self, action: str) -> None:
        self._full_summary = None
        self._last_full_log = time.monotonic()
        text = (f"outbox full ({self.max_messages} messages / {self.max_bytes} bytes, "
                f"policy {self.policy}): {action}; {self.dropped} dropped and "
                f"{self.refused} refused since start")
        log.warning("%s: %s", self.name, text)
        self._on_problem(text)

    def close(self) -> None:
        """Commit what is pending and close the database."""
        if self._full_summary is not None:
            self._full_summary.cancel()
            self._full_summary = None
        self.flush()
        if self._checkpoint_handle is not None:
            self._checkpoint_handle.cancel()
            self._checkpoint_handle = None
        if self._checkpointing is not None:
            self._checkpointing.result()
        self._checkpoint_now()
        self._db.close()


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on an error (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # SQLITE_FULL, for one, has rolled back already
            self._db.execute("ROLLBACK")
