"""link-in and link-out: wires between tabs, drawn as a pair of nodes (Node-RED's link
nodes); a link-out in return mode answers the link-call that started the message."""

from __future__ import annotations

from typing import Any

from portless.runtime import Message, Node, fields_are

LINK_SOURCE = "_linkSource"
"""The message's stack of link-calls waiting for it (Node-RED's key), innermost last:
each entry ``{"id": call id, "node": link-call node id}``."""


class LinkIn(Node):
    """Passes on what the link-outs (and link-calls) naming it send to it."""

    type = "link-in"
    inputs = 0
    category = "common"
    color = "#dddddd"
    icon = "link-in"
    schema = {
        "title": "Link in",
        "description": (
            "The far end of a link: sends on every message that a link-out (or a "
            "link-call) naming this node's id sends to it, from any flow file of the "
            "process. It has no input port: links are not wires, they connect tabs. Ids "
            "are unique across the flow files, so a link-out names a link-in by id."),
        "type": "object",
        "additionalProperties": False,
        "properties": {},
    }

    def on_input(self, msg: Message) -> None:
        self.send(msg)


class LinkOut(Node):
    """Sends each message to the link-ins it names, or back to the calling link-call."""

    type = "link-out"
    outputs = 0
    category = "common"
    color = "#dddddd"
    icon = "link-out"
    schema = {
        "title": "Link out",
        "description": (
            "Sends each message to the link-in nodes it names, in this or any other "
            "flow file of the process, as a wire would (the first gets the message, "
            "each further one a copy). Each link is checked at load: a name that is no "
            "link-in is an error naming this node and the field. A flow file deployed "
            "on its own cannot remove a link-in that another file's link-out names; "
            "when it changes one, the link-outs naming it are linked to the new one.\n\n"
            "In `return` mode it names no link-in: it sends the message back to the "
            "link-call that sent it into this flow (the last one on the message's "
            "`_linkSource`), and warns when no link-call is waiting for it."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {"title": "Mode", "enum": ["link", "return"], "default": "link",
                     "description": "`link`: send to the link-ins named in `links`; "
                                    "`return`: answer the link-call that sent the "
                                    "message.",
                     "x-error": "must be \"link\" or \"return\""},
            "links": {"x-show-if": fields_are(mode="link"),
                      "title": "Links", "type": "array", "default": [],
                      "items": {"type": "string", "minLength": 1, "x-ref": "link-in"},
                      "description": "Ids of the link-in nodes to send to (mode `link`)."},
        },
        "if": {"properties": {"mode": {"const": "return"}}},
        "then": {"properties": {"links": {"maxItems": 0}}},
    }

    _targets: list[Node]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config["mode"] == "return":  # before the engine wraps on_input, if it does
            self.on_input = self._answer  # type: ignore[method-assign]

    async def start(self) -> None:
        # Linked once, at start: a link-in that restarts restarts its link-outs too,
        # since they depend on it as on a shared connection.
        self._targets = [self.shared_node(link) for link in self.config["links"]]

    def on_input(self, msg: Message) -> None:
        self.send_to(self._targets, msg)

    def _answer(self, msg: Message) -> None:
        stack = msg.get(LINK_SOURCE)
        caller = stack.pop() if isinstance(stack, list) and stack else None
        node = _waiting_call(self, caller)
        if node is None or caller is None:
            self.warn("no link-call is waiting for this message (it did not come "
                      "from a link-call, or that call has stopped)")
            return
        node.answer(caller["id"], msg)


def _waiting_call(link_out: Node, caller: Any) -> Any:
    """The running link-call a ``_linkSource`` entry names, or None."""
    if not isinstance(caller, dict) or not isinstance(caller.get("node"), str):
        return None
    try:
        node = link_out.shared_node(caller["node"])
    except (KeyError, RuntimeError):
        return None
    return node if callable(getattr(node, "answer", None)) else None
