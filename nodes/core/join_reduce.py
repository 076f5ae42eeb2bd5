"""The join node's reduce mode: each sequence (msg.parts) is held until complete, then
folded into one value by a JSONata expression ($A the value so far, $I the index, $N
the count), optionally finished by a fix-up expression, as Node-RED's join does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portless.nodes.core.sequence_groups import PendingGroups
from portless.nodes.js_values import to_number
from portless.runtime import MISSING, ExpressionError, Message, TypedValue

Report = Callable[[str, Message], None]


class Reducer:
    """Folds each complete sequence into the payload of its last message."""

    def __init__(self, reduce: TypedValue, fixup: TypedValue | None, initial: TypedValue,
                 right: bool, max_held: int, send: Callable[[Message], None],
                 error: Report, done: Callable[[Message], None]) -> None:
        self._reduce, self._fixup, self._initial = reduce, fixup, initial
        self._right, self._send, self._error, self._done = right, send, error, done
        self._pending = PendingGroups(max_held)

    def take(self, msg: Message) -> None:
        """Hold a message of a sequence; one of none passes on unchanged."""
        parts = msg.get("parts")
        if not isinstance(parts, dict):
            self._send(msg)
            self._done(msg)
            return
        group = self._pending.add(msg, parts.get("id"), parts.get("count"))
        if group is not None:
            self._fold(group, msg)
        elif self._pending.over:
            dropped = self._pending.drop_oldest()
            self._error(f"more than {self._pending.max_held} messages held for their "
                        f"sequences to complete: the oldest sequence ({len(dropped)} "
                        "messages) dropped", dropped[-1])
            self._done_with(dropped[:-1])

    def _fold(self, group: list[Message], last: Message) -> None:
        count = len(group)
        ordered = sorted(group, key=_index, reverse=self._right)
        try:
            value = self._initial.get({})
            value = None if value is MISSING else value
            for msg in ordered:
                bindings = {"A": value, "I": msg["parts"].get("index"), "N": count}
                value = _evaluate(self._reduce, msg, bindings)
            if self._fixup is not None:
                value = _evaluate(self._fixup, {}, {"A": value, "N": count})
        except ExpressionError as exc:
            self._error(f"the reduce expression failed: {exc}", last)
            self._done_with([msg for msg in group if msg is not last])
            return
        out = ordered[-1]
        out["payload"] = value
        self._send(out)
        self._done_with(group)

    def _done_with(self, messages: list[Message]) -> None:
        for msg in messages:
            self._done(msg)


def _evaluate(expression: TypedValue, msg: Message, bindings: dict[str, Any]) -> Any:
    assert expression.expression is not None  # a jsonata typed value
    return expression.expression.evaluate(msg, bindings)


def _index(msg: Message) -> float:
    """A message's place in its sequence (one without a number goes first)."""
    number = to_number(msg["parts"].get("index"))
    return -1.0 if number is None else number
