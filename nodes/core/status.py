"""status: the status changes of other nodes, as messages with ``msg.status``."""

from __future__ import annotations

from portless.nodes.core.watching import NODES_WHEN_SCOPED, SCOPE_PROPERTIES, WatchingNode


class Status(WatchingNode):
    type = "status"
    color = "#94c1d0"
    icon = "status"
    watches = "status"
    schema = {
        "title": "Status",
        "description": ("Sends on each status change of other nodes: `msg.status = {fill, "
                        "shape, text, source: {id, type, name}}` (a cleared status has "
                        "only `source`). It never hears from itself nor from the nodes "
                        "its messages reach, which would loop."),
        "type": "object",
        "additionalProperties": False,
        "properties": SCOPE_PROPERTIES,
        **NODES_WHEN_SCOPED,
    }
