"""link-call: send a message into the flow behind a link-in and wait for the link-out
in return mode that answers it (Node-RED 3's link call), like a function call."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from portless.nodes.core.link import LINK_SOURCE
from portless.runtime import Message, Node, clone_message


class LinkCall(Node):
    """Calls a link-in; the answer comes back on the output, or a timeout error."""

    type = "link-call"
    category = "common"
    color = "#dddddd"
    icon = "link-call"
    calls_done = True
    schema = {
        "title": "Link call",
        "description": (
            "Sends each message to the link-in it names and waits for the flow behind "
            "it to reach a link-out in `return` mode, which sends the message back here; "
            "this node then sends it on. Calls nest: each pushes an entry on the "
            "message's `_linkSource` list and the answering link-out takes the last "
            "one, as in Node-RED. No answer within `timeout` seconds is an error with "
            "the message as it came in (`timeout`), which a catch node can take; an "
            "answer after that, or a second one for the same call, is sent on as well, "
            "as Node-RED does.\n\n"
            "Difference from Node-RED: the target is named by id in the config only; "
            "Node-RED's dynamic mode (a link-in named by `msg.target`) is not offered."),
        "type": "object",
        "additionalProperties": False,
        "required": ["links"],
        "properties": {
            "links": {"title": "Link-in", "type": "array", "minItems": 1, "maxItems": 1,
                      "items": {"type": "string", "minLength": 1, "x-ref": "link-in"},
                      "description": "The id of the link-in to call (in any flow file), "
                                     "as a list of one, as Node-RED writes it."},
            "timeout": {"title": "Timeout (s)", "type": "number", "exclusiveMinimum": 0,
                        "default": 30,
                        "description": "How long to wait for the answer."},
        },
    }

    _target: list[Node]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: dict[str, tuple[Message, asyncio.TimerHandle]] = {}
        """Calls not yet answered: the message as it came in, and its timeout."""

    async def start(self) -> None:
        self._target = [self.shared_node(self.config["links"][0])]

    def on_input(self, msg: Message) -> None:
        call_id = secrets.token_hex(8)  # unique across restarts too: a late answer is no match
        stack = msg.get(LINK_SOURCE)
        if not isinstance(stack, list):
            stack = msg[LINK_SOURCE] = []
        self._waiting[call_id] = (clone_message(msg), self.call_later(
            self.config["timeout"], self._timed_out, call_id))
        stack.append({"id": call_id, "node": self.id})
        self.send_to(self._target, msg)

    def answer(self, call_id: str, msg: Message) -> None:
        """A link-out in return mode hands back the message of call ``call_id``."""
        if msg.get(LINK_SOURCE) == []:
            del msg[LINK_SOURCE]
        waiting = self._waiting.pop(call_id, None)
        self.send(msg)
        if waiting is not None:
            self.cancel_timer(waiting[1])
            self.done(msg)

    def _timed_out(self, call_id: str) -> None:
        msg, _ = self._waiting.pop(call_id)
        self.error("timeout", msg)
