"""Notice when files change on disk (a `git pull`, an editor, another process), by
polling their stamps: a stat call per file every half second costs nothing, needs no
dependency and works on every file system, where inotify misses network mounts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

POLL_SECONDS = 0.5
Stamp = tuple[int, int, int]


def file_stamp(path: str | Path) -> Stamp | None:
    """(inode, size, mtime in ns) of a file, or None if it cannot be read: a file
    replaced (renamed over) or written differs in at least one of them."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


async def watch_files(paths: Callable[[], Iterable[Path]],
                      changed: Callable[[Path], Awaitable[None]],
                      interval: float = POLL_SECONDS,
                      since: Mapping[Path, Stamp | None] | None = None) -> None:
    """Call ``changed(path)`` (awaited, one at a time) for each file whose stamp differs
    from the last poll's, until cancelled. ``paths`` is asked at every poll, so a file
    that joins the set is watched from then on (its first stamp is not a change).
    ``since``: the stamps the caller last saw, so a change just before the watch
    began is not missed."""
    seen: dict[Path, Stamp | None] = {path: file_stamp(path) for path in paths()}
    seen.update(since or {})
    while True:
        await asyncio.sleep(interval)
        for path in list(paths()):
            stamp = file_stamp(path)
            if path not in seen:
                seen[path] = stamp
                continue
            if stamp != seen[path]:
                seen[path] = stamp
                await changed(path)
