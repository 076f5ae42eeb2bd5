"""complete: the messages other nodes are done with (Node-RED's complete)."""

from __future__ import annotations

from portless.nodes.core.watching import NODES_WHEN_SCOPED, SCOPE_PROPERTIES, WatchingNode


class Complete(WatchingNode):
    type = "complete"
    color = "#c0edc0"
    icon = "check"
    watches = "complete"
    schema = {
        "title": "Complete",
        "description": ("Sends on a copy of each message another node is done with, with "
                        "`msg.complete = {source: {id, type, name}}`: most nodes are done "
                        "when they have handled it, a node that holds messages back (a "
                        "delay) when it lets them go. It never hears from the nodes its "
                        "own messages reach, which would loop."),
        "type": "object",
        "additionalProperties": False,
        "properties": SCOPE_PROPERTIES,
        **NODES_WHEN_SCOPED,
    }
