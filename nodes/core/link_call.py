"""link-call: send a message into the flow behind a link-in and wait for the link-out
in return mode that answers it (Node-RED 3's link call), like a function call; the
link-in is fixed in the config or named by each message (``msg.target``)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any

from portless.nodes.core.link import LINK_SOURCE
from portless.runtime import Message, Node, PlacedNode, clone_message


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
            "`static` calls the link-in of `links`; `dynamic` (Node-RED's dynamic link "
            "call) the one `msg.target` names, looked up as Node-RED does for each "
            "message: the link-in with that id (in any flow file, or subflow instance), "
            "else the one link-in of that name in the call's own flow file (or subflow "
            "instance), else the one of that name in any flow file (outside subflow "
            "instances). No such link-in, or several of that name, is an error with the "
            "message, for a catch node."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "link_type": {"title": "Call", "enum": ["static", "dynamic"],
                          "default": "static",
                          "description": "`static`: the link-in in `links`; `dynamic`: "
                                         "the link-in `msg.target` names, by name or id."},
            "links": {"title": "Link-in", "type": "array", "maxItems": 1,
                      "items": {"type": "string", "minLength": 1, "x-ref": "link-in"},
                      "description": "The id of the link-in to call (in any flow file), "
                                     "as a list of one, as Node-RED writes it; empty for "
                                     "a `dynamic` call."},
            "timeout": {"title": "Timeout (s)", "type": "number", "exclusiveMinimum": 0,
                        "default": 30,
                        "description": "How long to wait for the answer."},
        },
        "if": {"properties": {"link_type": {"const": "dynamic"}}},
        "then": {"properties": {"links": {"maxItems": 0}}},
        "else": {"required": ["links"], "properties": {"links": {"minItems": 1}}},
    }

    _target: list[Node]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: dict[str, tuple[Message, asyncio.TimerHandle]] = {}
        """Calls not yet answered: the message as it came in, and its timeout."""

    async def start(self) -> None:
        links = self.config.get("links", [])
        self._target = [self.shared_node(links[0])] if links else []
        self._link_ins: LinkIns | None = None
        if self.config["link_type"] == "dynamic":
            self.on_input = self._dynamic_input  # type: ignore[method-assign]

    def _dynamic_input(self, msg: Message) -> None:
        """on_input of a dynamic call: the link-in msg.target names, then the call."""
        placed = self.running_nodes("link-in")
        if self._link_ins is None or self._link_ins.placed is not placed:
            self._link_ins = LinkIns(placed)  # once per deploy, not per message
        target = msg.get("target")
        if not isinstance(target, str) or not target:
            self.error("msg.target must be the name or id of a link-in, as text", msg)
            return
        try:
            link_in = self._link_ins.find(target, self.place)
        except LookupError as exc:
            self.error(str(exc), msg)
            return
        self._call([link_in], msg)

    def on_input(self, msg: Message) -> None:
        self._call(self._target, msg)

    def _call(self, target: list[Node], msg: Message) -> None:
        call_id = secrets.token_hex(8)  # unique across restarts too: a late answer is no match
        stack = msg.get(LINK_SOURCE)
        if not isinstance(stack, list):
            stack = msg[LINK_SOURCE] = []
        self._waiting[call_id] = (clone_message(msg), self.call_later(
            self.config["timeout"], self._timed_out, call_id))
        stack.append({"id": call_id, "node": self.id})
        self.send_to(target, msg)

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


class LinkIns:
    """The running link-ins by id and by name, looked up as Node-RED's dynamic link
    call looks them up (its runtime's linkcallTargets)."""

    def __init__(self, placed: Sequence[PlacedNode]) -> None:
        self.placed = placed
        self._by_id = {each.node.id: each.node for each in placed}
        self._by_name: dict[str, list[PlacedNode]] = {}
        for each in placed:
            if each.node.name:
                self._by_name.setdefault(each.node.name, []).append(each)

    def find(self, target: str, place: tuple[str, str]) -> Node:
        """The link-in with id ``target``, else the one so named in ``place`` (a flow
        file and subflow instance), else the one so named outside subflow instances;
        LookupError with a sentence when there is none, or more than one."""
        node = self._by_id.get(target)
        if node is not None:
            return node
        named = self._by_name.get(target, [])
        here = [each.node for each in named if (each.tab, each.instance) == place]
        if len(here) == 1:
            return here[0]
        anywhere = [each.node for each in named if not each.instance]
        if len(anywhere) == 1:
            return anywhere[0]
        if anywhere:
            ids = ", ".join(sorted(node.id for node in anywhere))
            raise LookupError(f"msg.target {target!r}: {len(anywhere)} link-ins have that "
                              f"name ({ids}); name one by its id")
        raise LookupError(f"msg.target {target!r}: no link-in has that id or name")
