"""The outbox's rows: how a stored message is decoded, and where a bad one goes.

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


def decode(rows: list[Row]) -> tuple[list[Record], list[tuple[int, str]]]:
    """The records of ``rows``, and the seq and reason of each row that is unusable."""
    try:
        records = [Record(seq, topic, payload, qos, bool(retain),
                          msgpack.unpackb(properties, raw=False))
                   for seq, topic, payload, qos, retain, properties in rows]
    except Exception:  # msgpack raises several kinds; sorted out row by row below
        return _decode_each(rows)
    if any(_malformed(record) for record in records):
        return _decode_each(rows)
    return records, []


def _decode_each(rows: list[Row]) -> tuple[list[Record], list[tuple[int, str]]]:
    records, bad = [], []
    for seq, topic, payload, qos, retain, properties in rows:
        try:
            record = Record(seq, topic, payload, qos, bool(retain),
                            msgpack.unpackb(properties, raw=False))
            problem = _malformed(record)
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
