"""Which broker an outbox database was filled for, and what happens when that changes.

An outbox holds messages for one broker connection: host, port and client id. The
database records it (table ``broker``). When the connection changes, messages queued
for the old one must never go to the new one silently, so before the outbox is opened
a database filled for another broker is set aside under a name that carries that
broker (``outbox-<host>-<port>-<client id>.sqlite3``), and one set aside earlier for
this broker is taken back. A database that records no broker (made before outboxes
were keyed) is adopted by the broker that opens it, as it was before.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("portless.outbox")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BrokerIdentity:
    """The connection an outbox is filled for: messages are only ever sent to it."""

    host: str
    port: int
    client_id: str

    def __post_init__(self) -> None:
        if not self.host or not 0 < self.port < 65536:
            raise ValueError(f"a broker needs a host and a port in 1..65535, not "
                             f"{self.host!r}:{self.port}")

    def __str__(self) -> str:
        return f"{self.host}:{self.port} as {self.client_id}"

    def aside_path(self, path: Path) -> Path:
        """Where ``path``'s database goes when it was filled for this broker (readable,
        unsafe characters replaced, at most about 120 characters)."""
        tag = _UNSAFE.sub("_", f"{self.host}-{self.port}-{self.client_id}")[:100]
        return path.with_name(f"{path.stem}-{tag}{path.suffix}")


def recorded_identity(db: sqlite3.Connection) -> BrokerIdentity | None:
    """The broker a database was filled for; None if it records none."""
    try:
        row = db.execute("SELECT host, port, client_id FROM broker").fetchone()
    except sqlite3.OperationalError:  # no such table: a new or an older database
        return None
    return BrokerIdentity(*row) if row else None


def record_identity(db: sqlite3.Connection, identity: BrokerIdentity) -> None:
    """Write down which broker this database is filled for (one row)."""
    db.execute("CREATE TABLE IF NOT EXISTS broker "
               "(host TEXT NOT NULL, port INTEGER NOT NULL, client_id TEXT NOT NULL)")
    db.execute("DELETE FROM broker")
    db.execute("INSERT INTO broker VALUES (?, ?, ?)",
               (identity.host, identity.port, identity.client_id))


def claim(path: Path, identity: BrokerIdentity, name: str,
          connect: Callable[[], sqlite3.Connection]) -> sqlite3.Connection:
    """Open ``path`` (with ``connect``) as the outbox of ``identity``: set aside what it
    holds for another broker (logged with the count and the new file), take back what
    was set aside for this one. Only a change of broker closes a connection here (a
    close checkpoints, and the file can only move once its WAL is merged)."""
    _take_back(path, identity, name)
    db = connect()
    other = recorded_identity(db)
    if other is None or other == identity:
        return db
    waiting = int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
    db.close()
    if waiting:
        aside = _free_name(other.aside_path(path))
        _move(path, aside)
        log.warning("%s: the broker changed from %s to %s; the %d message(s) queued for "
                    "%s were not sent to the new broker and are kept in %s (see "
                    "docs/mqtt.md, \"Keyed by the broker\", to replay or discard them)",
                    name, other, identity, waiting, other, aside)
    else:
        _remove(path)
    _take_back(path, identity, name)
    return connect()


def _take_back(path: Path, identity: BrokerIdentity, name: str) -> None:
    earlier = identity.aside_path(path)
    if not path.exists() and earlier.exists():
        _move(earlier, path)
        log.warning("%s: took back the outbox set aside for %s earlier (%s); its messages "
                    "are sent to that broker now", name, identity, earlier)


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with -2, -3 ... when an earlier set-aside holds that name."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _move(source: Path, target: Path) -> None:
    """Rename a database with its WAL (should the close not have merged it), so the
    two stay a pair; the shared-memory index is rebuilt and not kept."""
    wal, shm = _companions(source)
    if wal.exists():
        wal.rename(_companions(target)[0])
    shm.unlink(missing_ok=True)
    source.rename(target)


def _remove(path: Path) -> None:
    for companion in _companions(path):
        companion.unlink(missing_ok=True)
    path.unlink()
