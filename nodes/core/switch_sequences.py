"""The switch node's sequence handling: messages of a sequence (msg.parts, as split
makes them) are held until the whole sequence is there, for ``tail`` rules (which need
its length) and for "recreate message sequences" (which renumbers what each output
sent as a sequence of its own). Installed only on a switch that needs it."""

from __future__ import annotations

from collections.abc import Callable

from portless.nodes.core.sequence_groups import PendingGroups
from portless.nodes.core.switch_rules import sequence_place
from portless.runtime import Message, clone_message, new_msgid

Route = Callable[[Message], list[int]]
"""The ports a message goes to (empty where it matched nothing or failed)."""


class Sequences:
    """Holds each sequence until complete, then routes its messages in order."""

    def __init__(self, route: Route, send: Callable[[list[Message | None]], None],
                 error: Callable[[str, Message], None], outputs: int, recreate: bool,
                 max_held: int) -> None:
        self._route, self._send, self._error = route, send, error
        self._outputs, self._recreate = outputs, recreate
        self._pending = PendingGroups(max_held)

    def hold(self, msg: Message) -> bool:
        """Take a message of a sequence (True), or leave one of none to the caller."""
        place = sequence_place(msg)
        if place is None:
            return False
        group = self._pending.add(msg, msg["parts"]["id"], place[1])
        if self._pending.over:
            self._pending.drop_all()
            self._error(f"more than {self._pending.max_held} messages held for their "
                        "sequences to complete: all dropped", msg)
        elif group is not None:
            self._release(group)
        return True

    def _release(self, group: list[Message]) -> None:
        count = len(group)
        routed = []
        for msg in group:
            msg["parts"]["count"] = count  # as Node-RED: tail rules read it
            routed.append((msg, self._route(msg)))
        if not self._recreate:
            for msg, ports in routed:
                if ports:
                    self._send(_onward(msg, ports, self._outputs))
            return
        # Each output's messages become a sequence of their own: a new id, renumbered.
        totals = [0] * self._outputs
        for _, ports in routed:
            for port in ports:
                totals[port] += 1
        ids = [new_msgid() for _ in range(self._outputs)]
        indexes = [0] * self._outputs
        for msg, ports in routed:
            if not ports:
                continue
            onward = _onward(msg, ports, self._outputs)
            for port in ports:
                out = onward[port]
                assert out is not None
                out["parts"] = {**out["parts"], "id": ids[port], "index": indexes[port],
                                "count": totals[port]}
                indexes[port] += 1
            self._send(onward)


def _onward(msg: Message, ports: list[int], outputs: int) -> list[Message | None]:
    """One entry per output: the message on the first port it goes to, a copy on the rest."""
    onward: list[Message | None] = [None] * outputs
    onward[ports[0]] = msg
    for port in ports[1:]:
        onward[port] = clone_message(msg)
    return onward

