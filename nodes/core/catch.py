"""catch: the errors of other nodes, as messages with ``msg.error`` (Node-RED's catch)."""

from __future__ import annotations

from portless.nodes.core.watching import NODES_WHEN_SCOPED, SCOPE_PROPERTIES, WatchingNode


class Catch(WatchingNode):
    type = "catch"
    color = "#e49191"
    icon = "alert"
    watches = "error"
    schema = {
        "title": "Catch",
        "description": ("Sends on the errors of other nodes: a copy of the message that "
                        "failed with `msg.error = {message, source: {id, type, name, "
                        "count}}` (and `stack`, the traceback, for an exception), or a "
                        "new message for an error no message caused. A "
                        "caught error is not logged. The nearest catch takes an error "
                        "first: one inside the node's subflow, then one of its flow file, "
                        "then one watching all."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **SCOPE_PROPERTIES,
            "uncaught": {"title": "Uncaught only", "type": "boolean", "default": False,
                         "description": "Only errors no other catch node took."},
        },
        **NODES_WHEN_SCOPED,
    }

    def uncaught_only(self) -> bool:
        return bool(self.config["uncaught"])
