"""Messages: plain dicts with ``topic``, ``payload``, ``_msgid`` and ``ts``.

Ids come from a counter, not uuid4, because a message id is made on the hot path.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable
from typing import Any

from .schema_dialect import ecma_regex

Message = dict[str, Any]

_PREFIX = f"{os.getpid():x}-{int(time.time()):x}-"
_counter = itertools.count(1)


def new_msgid() -> str:
    """A message id unique within this process and distinct across restarts."""
    return f"{_PREFIX}{next(_counter):x}"


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
PROPERTY_PATH_PATTERN = r"^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*|\[\d+\])*$"
"""What a property path looks like (``payload``, ``payload.values[2]``); use it as a
schema ``pattern`` so a bad path is a config error at load, not at the first message."""
PROPERTY_PATH_ERROR = ("must be a message property path such as payload, payload.flow or "
                       "payload.values[2]")
"""The ``x-error`` sentence to put beside ``PROPERTY_PATH_PATTERN`` in a schema."""
_PATH_PART = re.compile(r"[^.\[\]]+|\[(\d+)\]")


def property_getter(path: str) -> Callable[[Message], Any]:
    """A fast reader of a property path like ``payload`` or ``payload.values[2]``.

    Returns MISSING where any step of the path is absent. Compile once, call per message.
    """
    if not ecma_regex(PROPERTY_PATH_PATTERN).match(path):  # "payload\n" is no path
        raise ValueError(f"not a property path: {path!r}")
    steps: list[str | int] = [int(m.group(1)) if m.group(1) is not None else m.group(0)
                              for m in _PATH_PART.finditer(path)]
    if len(steps) == 1:  # the common case, one dict lookup
        key = steps[0]
        if isinstance(key, str):
            return lambda msg: msg.get(key, MISSING)

    def get(msg: Message) -> Any:
        value: Any = msg
        for step in steps:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                return MISSING
        return value

    return get
