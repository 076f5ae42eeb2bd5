"""The durable outbox of an MQTT connection: QoS 1/2 messages wait here until acked.

Storage is sqlite3 from the standard library, in WAL mode with ``synchronous=NORMAL``.
New messages and acknowledgements are committed in batches: at most ``flush_interval``
(default 50 ms) after the first of them, or at once when FLUSH_MESSAGES or FLUSH_BYTES
wait, so a device writes a few pages a commit, not a few pages a message (flash wear).
A message counts as accepted once its batch committed: from then on it survives a
crash of the process (SIGKILL), since the WAL is in the OS page cache. While a sender
is connected a new message goes out at once, before its commit: the commit costs no
latency, and a message the broker acknowledged before its batch committed is never
written at all (so a connected device writes almost nothing). A checkpoint,
which fsyncs, runs in a worker thread at most CHECKPOINT_DELAY after a write (sooner
after CHECKPOINT_BYTES), so a power cut loses at most about the last second.

It leaves the outbox only when the broker acknowledged it (PUBACK for QoS 1, PUBCOMP
for QoS 2). The outbox is bounded by a number of messages and of bytes; when full, the
policy is ``drop-oldest`` (the oldest waiting messages are deleted and counted) or
``refuse-new``. It also keeps ``disk_reserve`` bytes of the disk free: below that it
refuses new messages (counted, reported), so acknowledgements can always be deleted
and checkpoints can always run, and the backlog drains when the broker returns.
A row that cannot be decoded is moved to the table ``outbox_quarantine`` and reported
with its sequence number, so one bad row never stops delivery.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import msgpack

from portless.nodes.mqtt.outbox_checkpoint import Checkpointer
from portless.nodes.mqtt.outbox_disk import DISK_RESERVE, DiskSpace, fitting
from portless.nodes.mqtt.outbox_full import ThrottledReport, oldest_victims
from portless.nodes.mqtt.outbox_identity import BrokerIdentity, claim, record_identity
from portless.nodes.mqtt.outbox_rows import (
    SCHEMA,
    Record,
    SharedProperties,
    Transaction,
    decode,
    quarantine,
    runs,
)

__all__ = ["FLUSH_INTERVAL", "BrokerIdentity", "FullPolicy", "Outbox", "OutboxError", "Record"]

FullPolicy = Literal["drop-oldest", "refuse-new"]
Pending = tuple[int, str, bytes, int, int, int | bytes]
"""A new message not yet committed: seq, topic, payload, qos, retain, properties."""
FLUSH_INTERVAL = 0.05
"""Default seconds a new message or an acknowledgement waits for others to commit with."""
DELETE_INTERVAL = 1.0
"""Seconds an acknowledged message may wait for others to be deleted with: deleting whole
pages at once rewrites few of them (flash wear). A crash in between sends it again after
the restart (QoS 1 allows a duplicate); a sender never sees it again, as it reads past
it, and connection_lost commits before the next sender reads from the start."""
READ_AHEAD = 20_000
"""New messages also kept in memory, while a sender reads, until it has read them, at
most this many (and READ_AHEAD_BYTES): the sender sends them before they commit, and
reading back what was just written (the SELECT, the records) cost it about as much as
the INSERT did (bench.mqtt --profile)."""
READ_AHEAD_BYTES = 4 * 1024 * 1024
FLUSH_MESSAGES = 1000
"""New messages, or acknowledgements, that are committed at once, without waiting."""
FLUSH_BYTES = 256 * 1024
"""Bytes of new messages that are committed at once, without waiting."""
CHECKPOINT_DELAY = 1.0
"""Seconds from a write to the checkpoint that fsyncs it."""
CHECKPOINT_BYTES = 128 * 1024
"""Bytes written since the last checkpoint that start one at once: bounds the WAL."""
PAGE_SIZE = 512
"""Page size of a new database: a commit of a few small messages rewrites few bytes
(measured with bench.outbox: 512 B pages write a fifth less than 1 KiB ones)."""
WAL_LIMIT = 512 * 1024
"""The WAL file is cut back to this size when it restarts after a checkpoint."""
CACHE_KIB = 512
"""sqlite's page cache per connection (its default is 2 MB)."""
ROW_OVERHEAD = 48
"""Bytes a stored row takes beyond its topic and payload (header, properties id, the
part of a page left empty): 38 measured on a 2 MiB disk full of small messages."""

log = logging.getLogger("portless.outbox")

class OutboxError(Exception):
    """The outbox could not be opened (a corrupt file, a directory that cannot be made)."""


class Outbox:
    """Bounded, durable FIFO of outgoing messages; ``add`` now, committed in batches."""

    def __init__(self, path: Path, *, max_messages: int, max_bytes: int,
                 policy: FullPolicy = "drop-oldest", name: str = "outbox",
                 on_problem: Callable[[str], None] | None = None,
                 broker: BrokerIdentity | None = None,
                 flush_interval: float = FLUSH_INTERVAL,
                 disk_reserve: int = DISK_RESERVE) -> None:
        self.path = path
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.policy = policy
        self.name = name
        self.flush_interval = flush_interval
        self.disk = DiskSpace(path, disk_reserve, name)
        self.dropped = 0
        self.refused = 0
        """New messages refused: by the refuse-new policy or for lack of disk space."""
        self.refused_for_disk = 0
        self.quarantined = 0
        self.count = 0
        self.bytes = 0
        self.ready = asyncio.Event()
        """Set whenever messages may be waiting to be sent."""
        self._on_problem = on_problem or (lambda text: None)
        self.in_flight: set[int] = set()
        """Seqs sent and not yet acknowledged; never dropped to make room."""
        self._dropped_since_read: set[int] = set()
        self._unread: deque[Record] = deque()
        """Committed, never read: what ``read`` returns without a SELECT (READ_AHEAD)."""
        self._unread_bytes = 0
        self._sender_reading = False
        """A sender reads now (set by ``read``, cleared by ``connection_lost``)."""
        self._packed: tuple[dict[str, Any] | None, int | bytes, dict[str, Any]] = (None, 0, {})
        """The last properties added (a copy), what a row stores for them (their id in
        outbox_properties, or their bytes) and what a record carries: mqtt-out's are
        always the same, so they are packed and looked up once."""
        self._pending: list[Pending] = []
        self._pending_bytes = 0
        self._next_seq = 0
        """The seq of the last message added (seqs are given here, in order)."""
        self._committed_seq = 0
        """The seq of the last message committed: any above it are pending."""
        self._acked_early: set[int] = set()
        """Pending messages the broker acknowledged already: their rows are never written."""
        self._acked: list[int] = []
        """Seqs of committed messages the broker acknowledged, to be deleted."""
        self._acked_bytes = 0
        self._flush_handle: asyncio.Handle | None = None
        self._flush_at = 0.0
        """When the flush timer fires (loop time); 0 for at once."""
        self._new_covered = False
        """The flush timer fires within flush_interval, so it commits the new messages."""
        self._acks_due = 0.0
        self._flush_deferred = False
        self._unsynced = 0
        """Bytes committed since the last checkpoint began (an estimate of the WAL)."""
        self._growing = [0, 0]
        """Bytes of new rows in the WAL, not yet in the database file: committed since
        the running checkpoint began, and being copied by it. The file grows by them."""
        self._log_full = ThrottledReport(self._report_full)
        self._checkpointer = Checkpointer(path, name, CACHE_KIB, self._checkpoint_done)
        self._db = self._open(broker)

    def _open(self, broker: BrokerIdentity | None) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = claim(self.path, broker, self.name, self._connect) if broker is not None \
                else self._connect()
            db.executescript(SCHEMA)
            if broker is not None:
                record_identity(db, broker)
            self._shared = SharedProperties(db)
            count, size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(topic)), 0) FROM outbox"
            ).fetchone()
            # Seqs continue after every one ever given (AUTOINCREMENT keeps the highest).
            self._next_seq = self._committed_seq = db.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),"
                " COALESCE((SELECT MAX(seq) FROM outbox), 0))").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from None
        self.count, self.bytes = count, size
        if count:
            log.info("%s: %d messages from before the restart are waiting to be sent",
                     self.name, count)
            self.ready.set()
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # only a new database takes it
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # the worker thread checkpoints
        db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        return db

    def add(self, topic: str, payload: bytes, qos: int, retain: bool,
            properties: dict[str, Any]) -> bool:
        """Queue a message, committed within ``flush_interval``. False if refused."""
        size = len(payload) + len(topic)
        if size > self.max_bytes:
            self.refused += 1
            self._on_problem(f"message of {size} bytes is larger than the whole outbox "
                             f"({self.max_bytes} bytes); dropped")
            return False
        if self.disk.short and not self.disk.recovered(self._db):
            self._refuse_for_disk(1)
            return False
        if self.count + 1 > self.max_messages or self.bytes + size > self.max_bytes:
            if self.policy == "refuse-new":
                self.refused += 1
                self._log_full("refused the new message")
                return False
            self._make_room(size)
        if properties != self._packed[0]:
            self._pack(properties)
        _, reference, record_properties = self._packed
        pending = self._pending
        seq = self._next_seq = self._next_seq + 1
        # An int binds without sqlite3's adapter lookup, which a bool takes (0.3 us a row).
        pending.append((seq, topic, payload, qos, int(retain), reference))
        self._pending_bytes += size
        if self._sender_reading and len(self._unread) < READ_AHEAD \
                and self._unread_bytes <= READ_AHEAD_BYTES:  # the sender may send it now
            self._unread.append(Record(seq, topic, payload, qos, retain, record_properties))
            self._unread_bytes += size
            self.ready.set()
        self.count += 1
        self.bytes += size
        if len(pending) >= FLUSH_MESSAGES or self._pending_bytes >= FLUSH_BYTES:
            self._wake_at(0.0)
        elif not self._new_covered:
            self._wake_at(asyncio.get_running_loop().time() + self.flush_interval
                          if self.flush_interval else 0.0)
            self._new_covered = True
        return True

    def _pack(self, properties: dict[str, Any]) -> None:
        copy = dict(properties)
        reference = self._shared.reference(msgpack.packb(properties, use_bin_type=True))
        self._packed = (copy, reference, self._shared.decoded[reference]
                        if type(reference) is int else copy)

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
        # No sender until the next connection: a backlog waits on disk, not in memory.
        self._sender_reading = False
        self._forget_unread()

    def acked(self, record: Record) -> None:
        """The broker acknowledged ``record``: delete it (batched with others)."""
        seq, in_flight = record.seq, self.in_flight
        if seq not in in_flight:
            return
        in_flight.discard(seq)
        size = len(record.payload) + len(record.topic)
        self.count -= 1
        self.bytes -= size
        if seq > self._committed_seq:  # acknowledged before its commit: never written
            self._acked_early.add(seq)
            self._pending_bytes -= size
            return
        self._acked.append(seq)
        self._acked_bytes += size
        if len(self._acked) >= FLUSH_MESSAGES:
            self._wake_at(0.0)
        elif len(self._acked) == 1:
            self._acks_due = asyncio.get_running_loop().time() + DELETE_INTERVAL
            self._wake_at(self._acks_due)

    def read(self, after_seq: int, limit: int) -> list[Record]:
        """Committed messages with ``seq`` above ``after_seq``, oldest first; a row that
        cannot be decoded is quarantined and left out."""
        self._dropped_since_read.clear()
        self._sender_reading = True
        unread = self._unread
        while unread and unread[0].seq <= after_seq:
            self._unread_bytes -= unread.popleft().size
        if unread and unread[0].seq == after_seq + 1:
            records: list[Record] = []
            while unread and len(records) < limit and unread[0].seq == after_seq + 1:
                record = unread.popleft()
                self._unread_bytes -= record.size
                records.append(record)
                after_seq += 1
            return records
        rows = self._db.execute(
            "SELECT seq, topic, payload, qos, retain, properties FROM outbox "
            "WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)).fetchall()
        records, bad = decode(rows, self._shared)
        if bad:
            self._quarantine(bad)
        if rows:  # what the sender has now seen is no longer unread
            while unread and unread[0].seq <= rows[-1][0]:
                self._unread_bytes -= unread.popleft().size
        return records

    def _forget_unread(self) -> None:
        self._unread.clear()
        self._unread_bytes = 0

    def _quarantine(self, bad: list[tuple[int, str]]) -> None:
        try:
            freed = quarantine(self._db, bad)
        except sqlite3.Error as exc:  # left in place; the next read tries again
            self._on_problem(f"cannot quarantine undecodable outbox rows in {self.path}: {exc}")
            return
        self.count -= len(bad)
        self.bytes -= freed
        self.quarantined += len(bad)
        for seq, reason in bad:
            text = (f"outbox row {seq} cannot be decoded ({reason}); moved to the table "
                    f"outbox_quarantine of {self.path}, {self.quarantined} quarantined "
                    f"since start")
            log.warning("%s: %s", self.name, text)
            self._on_problem(text)

    # --- committing ---------------------------------------------------------------------
    def _wake_at(self, when: float) -> None:
        """Have the flush timer fire at loop time ``when`` (0: at the end of this turn),
        unless it fires sooner already."""
        handle = self._flush_handle
        if handle is not None:
            if self._flush_at <= when:
                return
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._flush_at = when
        self._flush_handle = loop.call_at(when, self._flush_due) if when \
            else loop.call_soon(self._flush_due)

    def _flush_due(self) -> None:
        """Commit what is due: the new messages, and the acknowledgements once
        DELETE_INTERVAL passed or FLUSH_MESSAGES wait. A running checkpoint goes first,
        unless a full batch waits: one that no commit overtakes catches up with the
        whole WAL, so the WAL restarts and stays small."""
        self._flush_handle = None
        self._new_covered = False
        if self._checkpointer.running and self._flush_at:  # a full batch does not wait (memory)
            self._flush_deferred = True
            return
        self._commit(everything=False)

    def flush(self) -> None:
        """Commit the acknowledgements, then the new messages, each in a transaction of
        its own: deletes always make room, even when the inserts do not fit."""
        self._commit(everything=True)

    def _commit(self, everything: bool) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
            self._new_covered = False
        self._flush_deferred = False
        acked = self._acked
        if acked and (everything or len(acked) >= FLUSH_MESSAGES
                      or asyncio.get_running_loop().time() >= self._acks_due):
            self._commit_acks()
        if self._pending:
            self._commit_pending()
        self._schedule_checkpoint()
        if self._acked:  # not due yet, or to be retried
            self._wake_at(self._acks_due)

    def _commit_acks(self) -> None:
        acked, size = self._acked, self._acked_bytes
        self._acked, self._acked_bytes = [], 0
        try:
            with self._transaction():
                self._db.executemany("DELETE FROM outbox WHERE seq BETWEEN ? AND ?",
                                     runs(acked))
        except sqlite3.Error as exc:
            # Kept and retried; until then a lost connection may send them again (QoS 1
            # allows a duplicate, never a loss).
            self._acked, self._acked_bytes = acked + self._acked, size + self._acked_bytes
            self._on_problem(f"cannot delete {len(acked)} acknowledged message(s) from "
                             f"{self.path}: {exc}; retrying")
            self._acks_due = asyncio.get_running_loop().time() + self.flush_interval
            return
        self._unsynced += size + ROW_OVERHEAD * len(acked)
        if self.disk.short:
            self.disk.recovered(self._db)

    def _commit_pending(self) -> None:
        pending, size = self._pending, self._pending_bytes
        self._pending, self._pending_bytes = [], 0
        if self._acked_early:
            pending = [row for row in pending if row[0] not in self._acked_early]
            self._acked_early = set()
            if not pending:
                return
        stored = size + ROW_OVERHEAD * len(pending)
        growing = sum(self._growing)
        room = self.disk.room(stored + growing, self._db) - growing
        if room < stored:
            pending, size, stored = self._refuse_beyond(pending, room)
            if not pending:
                return
        try:
            with self._transaction():
                self._shared.save(self._db)
                self._db.executemany(
                    "INSERT INTO outbox (seq, topic, payload, qos, retain, properties) "
                    "VALUES (?, ?, ?, ?, ?, ?)", pending)
            self._shared.saved()
        except sqlite3.Error as exc:
            # Nothing of this batch was written: none of it was accepted.
            self._undo_pending(pending, size)
            self.refused += len(pending)
            self._on_problem(f"cannot store {len(pending)} message(s) in {self.path}: {exc}; "
                             f"they were dropped")
            return
        self._unsynced += stored
        self._growing[0] += stored
        self._committed_seq = pending[-1][0]
        self.ready.set()

    def _refuse_beyond(self, pending: list[Pending], room: int
                       ) -> tuple[list[Pending], int, int]:
        """Keep the first messages of a batch that fit in ``room``; refuse the rest
        (until the disk has room again). Returns what is kept, its size and stored size."""
        sizes = [len(topic) + len(payload) for _, topic, payload, *_ in pending]
        keep = fitting([size + ROW_OVERHEAD for size in sizes], room)
        self._undo_pending(pending[keep:], sum(sizes[keep:]))
        self.disk.short = True
        self._refuse_for_disk(len(pending) - keep)
        kept = sum(sizes[:keep])
        return pending[:keep], kept, kept + ROW_OVERHEAD * keep

    def _undo_pending(self, pending: list[Pending], size: int) -> None:
        """These were not accepted after all. Any the sender has not sent yet it never
        will; any already sent and later acknowledged are not counted twice."""
        self.count -= len(pending)
        self.bytes -= size
        seqs = {row[0] for row in pending}
        self.in_flight -= seqs
        if self._unread:
            kept = deque(record for record in self._unread if record.seq not in seqs)
            self._unread_bytes = sum(record.size for record in kept)
            self._unread = kept

    def _transaction(self) -> Transaction:
        return Transaction(self._db)

    def _refuse_for_disk(self, count: int) -> None:
        self.refused += count
        self.refused_for_disk += count
        self._log_full(f"refused {count} new message(s)", disk=True)

    # --- checkpoints, in the outbox's worker thread ----------------------------------
    def _schedule_checkpoint(self) -> None:
        checkpointer = self._checkpointer
        if checkpointer.running or checkpointer.closed or not self._unsynced:
            return
        if self._unsynced >= CHECKPOINT_BYTES:
            self._start_checkpoint()
        else:
            checkpointer.later(CHECKPOINT_DELAY, self._start_checkpoint)

    def _start_checkpoint(self) -> None:
        self._unsynced = 0
        self._growing = [0, self._growing[0]]
        self._checkpointer.start()

    def _checkpoint_done(self) -> None:
        self._growing[1] = 0
        if self._flush_deferred:
            self._commit(everything=False)
        else:
            self._schedule_checkpoint()

    # --- full -------------------------------------------------------------------------
    def _make_room(self, size: int) -> None:
        """Drop the oldest messages until one of ``size`` bytes fits (drop-oldest policy).

        Drops a little more than needed (1% of the bound), so a full outbox under steady
        load deletes in batches rather than once per message.
        """
        self.flush()
        self._forget_unread()  # some of it goes now; read the rest back from the table
        over_count = self.count + 1 - self.max_messages
        over_bytes = self.bytes + size - self.max_bytes
        need_count = over_count + max(1, self.max_messages // 100) if over_count > 0 else 0
        need_bytes = over_bytes + self.max_bytes // 100 if over_bytes > 0 else 0
        try:
            with self._transaction():
                rows = self._db.execute(
                    "SELECT seq, LENGTH(payload) + LENGTH(topic) FROM outbox ORDER BY seq "
                    "LIMIT ?", (max(need_count, 1) + 1000,)).fetchall()
                victims, freed = oldest_victims(rows, self.in_flight, need_count, need_bytes)
                self._db.executemany("DELETE FROM outbox WHERE seq = ?", victims)
            self._dropped_since_read.update(seq for (seq,) in victims)
        except sqlite3.Error as exc:
            self._on_problem(f"cannot make room in {self.path}: {exc}")
            return
        self.count -= len(victims)
        self.bytes -= freed
        self.dropped += len(victims)
        self._log_full(f"dropped the {len(victims)} oldest message(s)")

    def _report_full(self, action: str, disk: bool) -> None:
        what = (f"the disk of {self.path.parent} is nearly full (keeping "
                f"{self.disk.reserve // 1024} KiB free so acknowledged messages can "
                f"always be deleted)" if disk else
                f"outbox full ({self.max_messages} messages / {self.max_bytes} bytes, "
                f"policy {self.policy})")
        text = (f"{what}: {action}; {self.dropped} dropped and {self.refused} refused "
                f"since start")
        log.warning("%s: %s", self.name, text)
        self._on_problem(text)

    async def close(self) -> None:
        """Commit what is pending; checkpoint and close the database in the worker
        thread, after any checkpoint still running there."""
        self._log_full.cancel()
        self.flush()
        await self._checkpointer.close(self._db)
