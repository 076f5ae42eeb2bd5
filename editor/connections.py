"""A bound on the editor's open connections, so a client that opens a thousand slow ones
cannot take the file descriptors the flow needs (outbox, broker link, channel files)
or lock the page out.

Hypercorn accepts on the listening socket through ``socket.accept()``; the socket it
is given here counts what it accepts. At the bound (MAX_CONNECTIONS), a new connection
pushes out the oldest one that has not been answered yet (a slow client, trickling its
headers or its body), or is refused if every open one has been (the guard marks
those). A connection must finish its request headers within HEADER_SECONDS
(Hypercorn's keep-alive timer runs until the first request). When the process is out
of file descriptors anyway, a spare one is given up to accept and drop the connection,
with one log line at most every LOG_EVERY seconds, instead of asyncio's traceback
every second.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import resource
import socket
import time
from collections import OrderedDict
from typing import Any

from hypercorn.config import Config, Sockets

MAX_CONNECTIONS = 128
"""At most this many, and at most a quarter of the process's file descriptor limit."""
HEADER_SECONDS = 5.0
LOG_EVERY = 10.0
log = logging.getLogger("portless.editor")

Peer = tuple[Any, ...]


class ConnectionBound:
    """Open editor connections by peer address, oldest first; shared by the listening
    socket (which adds and drops them) and the guard (which marks those that spoke)."""

    def __init__(self, limit: int | None = None) -> None:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        quarter = MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else soft // 4
        self.limit = limit or max(4, min(MAX_CONNECTIONS, quarter))
        self.open: OrderedDict[Peer, Counted] = OrderedDict()
        self.spoken: set[Peer] = set()
        self.refused = 0
        self._last_log = -LOG_EVERY

    def spoke(self, peer: Any) -> None:
        """This connection got an answer or an accepted websocket: never push it out."""
        if peer is not None:
            self.spoken.add(tuple(peer)[:2])

    def admit(self, conn: Counted) -> bool:
        """Room for ``conn``? Pushes out the oldest silent connection when full."""
        if len(self.open) >= self.limit:
            silent = next((peer for peer in self.open if peer not in self.spoken), None)
            if silent is None:
                self.note_refused("every editor connection is in use")
                return False
            self.open[silent].shutdown_quietly()  # its reader sees EOF; asyncio closes it
            self.forget(silent)
        self.open[conn.peer] = conn
        return True

    def forget(self, peer: Peer) -> None:
        self.open.pop(peer, None)
        self.spoken.discard(peer)

    def note_refused(self, why: str) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY:
            self._last_log = now
            log.warning("editor: %s; refused %d connection(s) since the last line",
                        why, self.refused)
            self.refused = 0


class Counted(socket.socket):
    """An accepted connection that leaves the bound when it is closed."""

    bound: ConnectionBound
    peer: Peer

    def close(self) -> None:
        if getattr(self, "bound", None) is not None:
            self.bound.forget(self.peer)
            del self.bound
        super().close()

    def shutdown_quietly(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.shutdown(socket.SHUT_RDWR)


class BoundedListener(socket.socket):
    """The listening socket: accepts through the bound, and survives running out of
    file descriptors without a busy loop or a traceback."""

    bound: ConnectionBound
    _spare: int

    @classmethod
    def wrap(cls, listening: socket.socket, bound: ConnectionBound) -> BoundedListener:
        wrapped = cls(listening.family, listening.type, listening.proto,
                      fileno=listening.detach())
        wrapped.bound = bound
        wrapped._spare = os.open(os.devnull, os.O_RDONLY)
        return wrapped

    def accept(self) -> tuple[socket.socket, Any]:
        while True:
            try:
                fd, address = self._accept()  # type: ignore[attr-defined]
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE):
                    raise
                self._drop_one()
                raise BlockingIOError(errno.EAGAIN, "out of file descriptors") from None
            conn = Counted(self.family, self.type, self.proto, fileno=fd)
            conn.setblocking(False)
            conn.bound, conn.peer = self.bound, tuple(address)[:2]
            if self.bound.admit(conn):
                return conn, address
            del conn.bound
            conn.close()

    def _drop_one(self) -> None:
        """Give up the spare descriptor to take the waiting connection off the queue."""
        os.close(self._spare)
        try:
            fd, _ = self._accept()  # type: ignore[attr-defined]
            os.close(fd)
        except OSError:
            pass
        finally:
            self._spare = os.open(os.devnull, os.O_RDONLY)
        self.bound.note_refused("the process is out of file descriptors")

    def close(self) -> None:
        if getattr(self, "_spare", -1) >= 0:
            os.close(self._spare)
            self._spare = -1
        super().close()


class BoundedConfig(Config):
    """Hypercorn's config with bounded listening sockets and a header deadline."""

    def __init__(self, bound: ConnectionBound) -> None:
        super().__init__()
        self.bound = bound
        self.keep_alive_timeout = HEADER_SECONDS

    def create_sockets(self) -> Sockets:
        sockets = super().create_sockets()
        return Sockets(sockets.secure_sockets,
                       [BoundedListener.wrap(s, self.bound) for s in sockets.insecure_sockets],
                       sockets.quic_sockets)
