"""Tell open pages when the flow file changed on disk (another tab, git pull, an editor).

The runtime's own deploys change the file too: their texts' ETags are in the service's
``written`` set, and those are passed on to the pages (another tab must hear of them)
but never logged as a change on disk, which would send whoever reads the log hunting
for an editor that does not exist.
"""

from __future__ import annotations

import asyncio
import logging

from portless.editor.flows import FlowService, file_stamp
from portless.editor.stream import Hub

log = logging.getLogger("portless.editor")
POLL_SECONDS = 0.5


async def watch_file(service: FlowService, hub: Hub) -> None:
    """Poll the file's stamp (cheap); on a change, broadcast its new ETag."""
    path = service.path
    seen = file_stamp(path)
    last_etag = service.etag()
    while True:
        await asyncio.sleep(POLL_SECONDS)
        stamp = file_stamp(path)
        if stamp == seen:
            continue
        seen = stamp
        etag = await asyncio.to_thread(service.etag)  # a big flow takes a while to parse
        if etag == last_etag:
            continue
        last_etag = etag
        if etag in service.written:
            service.written.discard(etag)
        else:
            log.info("flow file %s changed on disk", path)
        hub.broadcast({"kind": "flow-changed", "etag": f'"{etag}"'})

