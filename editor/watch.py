"""Tell open pages when a flow file changed on disk (another tab, git pull, an editor).

The runtime's own deploys change the files too: their texts' ETags are in each
service's ``written`` set, and those are passed on to the pages (another tab must hear
of them) but never logged as a change on disk, which would send whoever reads the log
hunting for an editor that does not exist.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from portless.editor.stream import Hub
from portless.editor.tabs import EditorTabs
from portless.runtime.file_watch import watch_files

log = logging.getLogger("portless.editor")


async def watch_tabs(tabs: EditorTabs, hub: Hub) -> None:
    """Watch every tab's file (runtime/file_watch.py); on a change, broadcast its ETag:
    ``tab-changed`` for any tab, and ``flow-changed`` for the first (the page's)."""
    last: dict[Path, str] = {}

    async def changed(path: Path) -> None:
        service = tabs.service(path)
        etag = await asyncio.to_thread(service.etag)  # a big flow takes a while to parse
        if etag == last.get(path):
            return
        last[path] = etag
        if etag in service.written:
            service.written.discard(etag)
        else:
            log.info("flow file %s changed on disk", path)
        hub.broadcast({"kind": "tab-changed", "tab": path.stem, "etag": f'"{etag}"'})
        if path == tabs.deploys.tabs[0]:
            hub.broadcast({"kind": "flow-changed", "etag": f'"{etag}"'})

    for tab in tabs.deploys.tabs:  # before the first await: the watch starts from here
        last[tab] = tabs.service(tab).etag()
    await watch_files(lambda: tuple(tabs.deploys.tabs), changed)
