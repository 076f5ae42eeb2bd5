"""Messages: plain dicts with ``topic``, ``payload``, ``_msgid`` and ``ts``.

Property paths (``payload.values[2]``) are in properties.py.

Ids come from a counter, not uuid4, because a message id is made on the hot path.
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

Message = dict[str, Any]

_PREFIX = f"{os.getpid():x}-{int(time.time()):x}-"
_counter = itertools.count(1)


def new_msgid() -> str:
    """A message id unique within this process and distinct across restarts
    ("1a2b-6745f0c1-0x3e8"; hex() is half the time of a format)."""
    return _PREFIX + hex(next(_counter))


def make_message(payload: Any, topic: str = "") -> Message:
    """A new message as a source node emits it."""
    return {"topic": topic, "payload": payload, "_msgid": new_msgid(), "ts": time.time()}


def complete_message(msg: Message) -> Message:
    """Fill in ``topic``, ``_msgid`` and ``ts`` where an injected message lacks them."""
    msg.setdefault("topic", "")
    msg.setdefault("_msgid", new_msgid())
    msg.setdefault("ts", time.time())
    return msg


def clone_message(value: Any) -> Any:
    """A copy deep enough that one branch of a fan-out cannot change another's message.

    Dicts and lists are copied all the way down; everything else (numbers, strings,
    bytes, tuples) is immutable in practice and shared, which keeps it cheap.
    """
    kind = type(value)
    if kind is dict:
        return {key: clone_message(item) for key, item in value.items()}
    if kind is list:
        return [clone_message(item) for item in value]
    if kind is bytearray:
        return bytearray(value)
    return value


class _Missing:
    """The value of a property a message does not have (distinct from None)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
