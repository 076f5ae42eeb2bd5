"""A flow's own state directory, held by one process at a time.

Two flows never share state: each flow file gets a directory of its own under the state
base, named after the file's resolved path (a copy of a flow file is a new flow, so it
cannot drain another flow's outbox). The process that runs the flow holds an exclusive
lock on that directory for its lifetime, so a second ``portless run`` of the same flow
is refused before it touches anything, with the PID of the one that holds it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from pathlib import Path

LOCK_FILE = "lock"


class StateLocked(Exception):
    """Another process holds the state directory of this flow."""


def flow_state_dir(base: str | Path, flow_file: str | Path) -> Path:
    """``base/<file stem>-<12 hex digits of the resolved path's SHA-256>``."""
    resolved = Path(flow_file).resolve()
    digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", resolved.stem).strip("-.")[:40] or "flow"
    return Path(base) / f"{stem}-{digest}"


class StateDirLock:
    """An exclusive ``flock`` on a state directory, with the holder's PID in the lock file.

    The kernel drops the lock when the process dies, however it dies, so a crash never
    leaves a stale lock behind.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise StateLocked naming the PID that holds it."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StateLocked(
                f"the state directory {self.directory} is in use by another portless "
                f"process (PID {holder}); stop it first, or run this flow with another "
                f"--state-dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (also done by the kernel when the process exits)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateDirLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class StateDirs:
    """The locked state directories of one process: its own (``main``: what is not a
    node's, such as the persistent context) and each flow file's (its nodes' state, so
    an outbox stays with the file that holds its broker, whichever set it runs in)."""

    def __init__(self, base: str | Path, main: str | Path) -> None:
        """``main``: the flow file or directory named first on the command line."""
        self.base = Path(base)
        self.main = flow_state_dir(base, main)
        self._locks: dict[Path, StateDirLock] = {}

    def acquire(self, flow_file: str | Path | None = None) -> Path:
        """Lock the state directory of a flow file (None: the main one) and return it;
        raises StateLocked (or OSError) as StateDirLock does."""
        directory = self.main if flow_file is None else flow_state_dir(self.base, flow_file)
        if directory not in self._locks:
            lock = StateDirLock(directory)
            lock.acquire()
            self._locks[directory] = lock
        return directory

    def release(self, flow_file: str | Path) -> None:
        """Give up a flow file's directory (its tab was deleted); the files stay."""
        directory = flow_state_dir(self.base, flow_file)
        if directory != self.main and directory in self._locks:
            self._locks.pop(directory).release()

    def release_all(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()
