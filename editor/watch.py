"""Tell open pages when the flow file changed on disk (another tab, git pull, an editor)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from portless.editor.stream import Hub

log = logging.getLogger("portless.editor")
POLL_SECONDS = 0.5


async def watch_file(path: Path, etag_of: Callable[[], str], hub: Hub) -> None:
    """Poll the file's size and mtime (cheap); on a change, broadcast its new ETag."""
    seen = _stamp(path)
    last_etag = etag_of()
    while True:
        await asyncio.sleep(POLL_SECONDS)
        stamp = _stamp(path)
        if stamp == seen:
            continue
        seen = stamp
        etag = etag_of()
        if etag != last_etag:
            last_etag = etag
            log.info("flow file %s changed on disk", path)
            hub.broadcast({"kind": "flow-changed", "etag": f'"{etag}"'})


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
