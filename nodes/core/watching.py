"""What catch, status and complete share: the scope fields and "send on what comes"."""

from __future__ import annotations

from typing import Any, ClassVar

from portless.runtime import Message, Node, WatchKind

SCOPE_PROPERTIES: dict[str, Any] = {
    "scope": {"title": "Scope", "enum": ["tab", "all", "nodes"], "default": "tab",
              "description": "`tab`: every node of this flow file (or of this subflow, "
                             "inside one); `all`: every node of every flow file; "
                             "`nodes`: only the nodes listed below.",
              "x-error": "must be \"tab\", \"all\" or \"nodes\""},
    "nodes": {"title": "Nodes", "type": "array", "default": [],
              "items": {"type": "string", "minLength": 1},
              "description": "Ids of the nodes to watch, with scope `nodes` (one that "
                             "names no node is warned about at start)."},
}
NODES_WHEN_SCOPED: dict[str, Any] = {
    "if": {"properties": {"scope": {"const": "nodes"}}},
    "then": {"properties": {"nodes": {"minItems": 1}}},
}
"""With scope "nodes" at least one id: an empty list would watch nothing, in silence."""


class WatchingNode(Node):
    """A node with no input that sends on each error, status or completion it watches."""

    inputs = 0
    category = "common"
    watches: ClassVar[WatchKind]

    async def start(self) -> None:
        self.watch(self.watches, self.config["scope"], self.config["nodes"],
                   uncaught=self.uncaught_only())

    def uncaught_only(self) -> bool:
        """Only a catch node can ask for errors no other catch took."""
        return False

    def on_input(self, msg: Message) -> None:
        self.send(msg)
