"""Atomic file writes: a crash leaves either the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, data: bytes, exclusive: bool = False) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, rename it over ``path``.

    The file keeps the mode of the one it replaces; the directory is fsynced so the
    rename itself survives a power cut. ``exclusive``: raise FileExistsError rather
    than replace a file (the temp file is linked, which fails if the name is taken).
    """
    target = Path(path)
    directory = target.parent
    try:
        mode: int | None = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        if exclusive:
            os.link(temp_name, target)
            os.unlink(temp_name)
        else:
            os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _sync_directory(directory)


def atomic_delete(path: str | Path) -> None:
    """Delete a file so that a power cut cannot bring it back (the directory is synced);
    FileNotFoundError if there is none."""
    target = Path(path)
    target.unlink()
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
