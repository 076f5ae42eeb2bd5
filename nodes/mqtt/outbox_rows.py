"""The outbox's rows: how a stored message is decoded, and where a bad one goes.

The properties of a message (MQTT 5 content type, user properties, expiry) are the same
for every message of an mqtt-out node, so a row holds the id of a set stored once in
``outbox_properties`` (an integer where the properties blob would be): that takes
about 30 bytes off every row, which is most of it for a small reading (flash wear).

A row that cannot be decoded (a corrupt properties blob, a value of the wrong type)
must not stop delivery: it is moved to the table ``outbox_quarantine``, with the
reason and the time, where a user can look at it, and the rows behind it go on.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import msgpack

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    properties BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_properties (
    id INTEGER PRIMARY KEY, properties BLOB NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS outbox_quarantine (
    seq INTEGER PRIMARY KEY, topic, payload, qos, retain, properties,
    reason TEXT NOT NULL, quarantined_at REAL NOT NULL
);
"""
Row = tuple[Any, ...]
"""seq, topic, payload, qos, retain, properties: as SELECTed from the table."""


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


class SharedProperties:
    """The property sets stored once, by id, in ``outbox_properties`` (at most MAX of
    them; further sets stay in their rows)."""

    MAX = 256

    def __init__(self, db: sqlite3.Connection) -> None:
        self.ids: dict[bytes, int] = {}
        self.decoded: dict[int, dict[str, Any]] = {}
        self.unsaved: list[tuple[int, bytes]] = []
        """Sets given an id that no commit has written yet (written with the next one)."""
        for number, blob in db.execute("SELECT id, properties FROM outbox_properties"):
            self._remember(number, blob)

    def _remember(self, number: int, blob: bytes) -> None:
        try:
            decoded = msgpack.unpackb(blob, raw=False)
        except Exception:  # a corrupt set: the rows naming it are quarantined
            return
        if type(decoded) is dict:
            self.ids[blob] = number
            self.decoded[number] = decoded

    def reference(self, blob: bytes) -> int | bytes:
        """The id to store for ``blob`` (given one if new), or the blob itself."""
        number = self.ids.get(blob)
        if number is None:
            if len(self.ids) >= self.MAX:
                return blob
            number = max(self.decoded, default=0) + 1
            self._remember(number, blob)
            self.unsaved.append((number, blob))
        return number

    def save(self, db: sqlite3.Connection) -> None:
        """Write the new sets (inside the transaction of the rows that name them)."""
        if self.unsaved:
            db.executemany("INSERT OR REPLACE INTO outbox_properties VALUES (?, ?)",
                           self.unsaved)

    def saved(self) -> None:
        """The transaction that wrote them committed."""
        self.unsaved.clear()


def decode(rows: list[Row], shared: SharedProperties
           ) -> tuple[list[Record], list[tuple[int, str]]]:
    """The records of ``rows``, and the seq and reason of each row that is unusable."""
    by_id = shared.decoded
    try:
        records = [Record(seq, topic, payload, qos, bool(retain),
                          by_id[properties] if type(properties) is int
                          else msgpack.unpackb(properties, raw=False))
                   for seq, topic, payload, qos, retain, properties in rows]
    except Exception:  # msgpack raises several kinds; sorted out row by row below
        return _decode_each(rows, by_id)
    if any(_malformed(record) for record in records):
        return _decode_each(rows, by_id)
    return records, []


def _decode_each(rows: list[Row], by_id: dict[int, dict[str, Any]]
                 ) -> tuple[list[Record], list[tuple[int, str]]]:
    records, bad = [], []
    for seq, topic, payload, qos, retain, properties in rows:
        try:
            record = Record(seq, topic, payload, qos, bool(retain),
                            by_id[properties] if type(properties) is int
                            else msgpack.unpackb(properties, raw=False))
            problem = _malformed(record)
        except KeyError:
            problem = f"no property set {properties} in outbox_properties"
        except Exception as exc:  # whatever is wrong with the blob, it is quarantined
            problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if problem:
            bad.append((seq, problem))
        else:
            records.append(record)
    return records, bad


def _malformed(record: Record) -> str:
    """Why a decoded row cannot be published ('' if it can)."""
    if type(record.properties) is not dict:
        return f"properties are a {type(record.properties).__name__}, not a map"
    if type(record.topic) is not str or type(record.payload) is not bytes:
        return "topic or payload of the wrong type"
    return ""


def quarantine(db: sqlite3.Connection, bad: list[tuple[int, str]]) -> int:
    """Move the rows ``bad`` names to ``outbox_quarantine``, in one transaction; return
    the topic and payload bytes they held."""
    freed = 0
    with Transaction(db):
        for seq, reason in bad:
            (size,) = db.execute("SELECT COALESCE(LENGTH(payload) + LENGTH(topic), 0) "
                                 "FROM outbox WHERE seq = ?", (seq,)).fetchone()
            db.execute("INSERT OR REPLACE INTO outbox_quarantine SELECT seq, topic, payload, "
                       "qos, retain, properties, ?, ? FROM outbox WHERE seq = ?",
                       (reason, time.time(), seq))
            db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            freed += size
    return freed


def runs(seqs: list[int]) -> list[tuple[int, int]]:
    """``seqs`` as runs of consecutive numbers (first, last): acknowledgements come in
    order, and a range deletes a run of rows for about what one row costs deleted alone
    (1,000 rows of 11 bytes: 0.4-0.7 us a row, 1.7-2.5 us deleted one by one)."""
    ordered = sorted(seqs)
    found: list[tuple[int, int]] = []
    first = last = ordered[0]
    for seq in ordered[1:]:
        if seq != last + 1:
            found.append((first, last))
            first = seq
        last = seq
    found.append((first, last))
    return found


class Transaction:
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
