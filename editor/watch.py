"""Tell open pages when the flow file changed on disk (another tab, git pull, an editor).

The runtime's own deploys change the file too: their texts' ETags are in the service's
``written`` set, and those are passed on to the pages (another tab must hear of them)
but never logged as a change on disk, which would send whoever reads the log hunting
for an editor that does not exist.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from portless.editor.flows import FlowService
from portless.editor.stream import Hub
from portless.runtime.file_watch import watch_files

log = logging.getLogger("portless.editor")


async def watch_file(service: FlowService, hub: Hub) -> None:
    """Watch the file's stamp (runtime/file_watch.py); on a change, broadcast its ETag."""
    last_etag = service.etag()

    async def changed(path: Path) -> None:
        nonlocal last_etag
        etag = await asyncio.to_thread(service.etag)  # a big flow takes a while to parse
        if etag == last_etag:
            return
        last_etag = etag
        if etag in service.written:
            service.written.discard(etag)
        else:
            log.info("flow file %s changed on disk", path)
        hub.broadcast({"kind": "flow-changed", "etag": f'"{etag}"'})

    await watch_files(lambda: (service.path,), changed)
