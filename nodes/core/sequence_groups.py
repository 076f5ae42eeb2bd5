"""Messages of sequences (Node-RED's msg.parts, as split makes them) held by sequence id
until each sequence is complete, with a bound on how many are held: shared by the
switch, sort and join (reduce) nodes, which all need a whole sequence before they act."""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from portless.nodes.js_values import to_number
from portless.runtime import Message


@dataclass
class Group:
    """One sequence's messages so far, in order of arrival."""

    messages: list[Message] = field(default_factory=list)
    count: float | None = None
    """``msg.parts.count`` as the latest message that had one said."""
    arrival: int = 0
    """Order in which the groups began (the oldest is dropped first)."""


def max_messages_schema(when_full: str) -> dict[str, Any]:
    """The schema of a sequence node's ``max_messages``: how many it holds at most, and
    (``when_full``) what happens past that."""
    return {"title": "Most messages held", "type": "integer", "minimum": 1,
            "maximum": 10_000_000, "default": 10_000, "description": when_full}


class PendingGroups:
    """Held sequences by id; ``add`` answers a sequence's messages once all of it is in."""

    def __init__(self, max_held: int) -> None:
        self.max_held = max_held
        self.held = 0
        self._groups: dict[Hashable, Group] = {}
        self._arrivals = itertools.count()

    def add(self, msg: Message, sequence_id: Any, count: Any) -> list[Message] | None:
        """Hold ``msg`` in its sequence; the whole sequence (in order of arrival) when
        this message completes it, else None. ``count``: its msg.parts.count, if any."""
        key = sequence_key(sequence_id)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(arrival=next(self._arrivals))
        group.messages.append(msg)
        self.held += 1
        number = to_number(count)
        if number is not None:
            group.count = number
        if group.count == len(group.messages):
            del self._groups[key]
            self.held -= len(group.messages)
            return group.messages
        return None

    @property
    def over(self) -> bool:
        """More messages held than the bound allows."""
        return self.held > self.max_held

    def drop_all(self) -> list[Message]:
        """Forget every held sequence; their messages, in order of arrival."""
        dropped = [msg for group in self._groups.values() for msg in group.messages]
        self._groups.clear()
        self.held = 0
        return dropped

    def drop_oldest(self) -> list[Message]:
        """Forget the sequence that began first; its messages (none if nothing is held)."""
        if not self._groups:
            return []
        key = min(self._groups, key=lambda k: self._groups[k].arrival)
        group = self._groups.pop(key)
        self.held -= len(group.messages)
        return group.messages


def sequence_key(sequence_id: Any) -> Hashable:
    """A sequence id as a dict key (an id may be any JSON value; 1 and "1" differ)."""
    return (type(sequence_id).__name__, sequence_id if isinstance(sequence_id, Hashable)
            else repr(sequence_id))
