"""sort: sort a list in a message property, or the messages of a sequence, by their
value, a property or a JSONata key, as Node-RED's sort node does."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from portless.nodes.core.sequence_groups import PendingGroups, max_messages_schema
from portless.nodes.js_values import js_number, js_order
from portless.runtime import (
    MISSING,
    ExpressionError,
    Message,
    Node,
    PropertyPath,
    TypedValue,
    fields_are,
)


class Sort(Node):
    type = "sort"
    category = "sequence"
    color = "#E2D96E"
    icon = "sort"
    calls_done = True
    schema = {
        "title": "Sort",
        "description": (
            "`target: property`: sorts the list in `property` (a message whose property "
            "is no list is dropped, as in Node-RED), by each item's value or by "
            "`key_expression` (JSONata, the item as its input).\n"
            "`target: sequence`: holds each sequence of messages (`msg.parts` with `id` "
            "and `index`; a message without is dropped) until its `count` messages are "
            "in, then sends them sorted by `key_property` or by `key_expression` (the "
            "message as its input), each with its new `msg.parts.index`.\n\n"
            "`order` is ascending or descending; with `as_number`, keys compare as "
            "JavaScript's `Number()` reads them (\"10\" after \"9\"), else as they are "
            "(texts by their characters: \"10\" before \"9\"). Equal keys keep their "
            "order. A key expression that fails is an error (on the sequence's last "
            "message) and nothing is sent.\n\n"
            "At most `max_messages` messages wait for their sequences: past that the "
            "oldest sequence is dropped, with an error on its last message (Node-RED "
            "does the same, but only with `nodeMessageBufferMaxLength` set). A complete "
            "node sees a message when it is sent or dropped (the one with the error "
            "goes to catch nodes instead).\n\n"
            "Differences from Node-RED, on purpose: the bound is on by default; texts "
            "compare by Unicode code point (JavaScript: by UTF-16 unit, which differs "
            "only between characters beyond U+FFFF and those from U+E000)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "target": {"title": "Sort", "enum": ["property", "sequence"],
                       "default": "property",
                       "description": "The list in a message property, or a sequence of "
                                      "messages."},
            "property": {"x-show-if": fields_are(target="property"),
                         "title": "Property", "type": "string", "default": "payload",
                         "x-property-path": True,
                         "description": "`property`: the message property holding the "
                                        "list."},
            "key_by": {"title": "Key", "enum": ["value", "jsonata"], "default": "value",
                       "description": "`value`: each item itself (`property`) or "
                                      "`key_property` of each message (`sequence`); "
                                      "`jsonata`: `key_expression`."},
            "key_property": {"x-show-if": fields_are(target="sequence", key_by="value"),
                             "title": "Key property", "type": "string",
                             "default": "payload", "x-property-path": True,
                             "description": "`sequence`: the message property to sort "
                                            "by."},
            "key_expression": {"x-show-if": fields_are(key_by="jsonata"),
                               "title": "Key expression", "type": "string",
                               "x-jsonata": True, "default": "$",
                               "description": "A JSONata expression giving each item's "
                                              "or message's key."},
            "order": {"title": "Order", "enum": ["ascending", "descending"],
                      "default": "ascending"},
            "as_number": {"title": "As number", "type": "boolean", "default": False,
                          "description": "Compare keys as numbers."},
            "max_messages": {**max_messages_schema(
                "`sequence`: past this the oldest sequence is dropped with an error."),
                "x-show-if": fields_are(target="sequence")},
        },
    }

    async def start(self) -> None:
        config = self.config
        self._path = PropertyPath(config["property"])
        self._expression = TypedValue({"kind": "jsonata", "value": config["key_expression"]},
                                      self).get if config["key_by"] == "jsonata" else None
        key_path = PropertyPath(config["key_property"])
        self._message_key: Callable[[Any], Any] = self._expression or key_path.get
        self._item_key: Callable[[Any], Any] = self._expression or _itself
        direction = 1 if config["order"] == "ascending" else -1
        as_number = config["as_number"]
        def by_key(a: tuple[Any, Any], b: tuple[Any, Any]) -> int:
            return _compare(a[0], b[0], direction, as_number)
        self._order = functools.cmp_to_key(by_key)
        self._pending = PendingGroups(config["max_messages"])

    def on_input(self, msg: Message) -> None:
        if self.config["target"] == "property":
            self._sort_property(msg)
            return
        parts = msg.get("parts")
        if not (isinstance(parts, dict) and "id" in parts and "index" in parts):
            self.done(msg)
            return
        group = self._pending.add(msg, parts["id"], parts.get("count"))
        if group is not None:
            self._sort_sequence(group)
        elif self._pending.over:
            dropped = self._pending.drop_oldest()
            self.error(f"more than {self.config['max_messages']} messages held for their "
                       f"sequences to complete: the oldest sequence ({len(dropped)} "
                       "messages) dropped", dropped[-1])
            for held in dropped[:-1]:  # the last failed: a catch node hears of it
                self.done(held)

    def _sort_property(self, msg: Message) -> None:
        items = self._path.get(msg)
        if isinstance(items, list):
            ordered = self._sorted(items, self._item_key, msg)
            if ordered is not None:
                items[:] = ordered
                self.send(msg)
        self.done(msg)

    def _sort_sequence(self, group: list[Message]) -> None:
        ordered = self._sorted(group, self._message_key, group[-1])
        if ordered is not None:
            for index, msg in enumerate(ordered):
                msg["parts"]["index"] = index
                self.send(msg)
        for msg in group:
            self.done(msg)

    def _sorted(self, items: list[Any], key: Callable[[Any], Any], msg: Message
                ) -> list[Any] | None:
        """The items in order by their keys (stable), or None where a key failed."""
        try:
            keyed = [(key(item), item) for item in items]
        except ExpressionError as exc:
            self.error(f"the key expression failed: {exc}", msg)
            return None
        return [item for _, item in sorted(keyed, key=self._order)]


def _itself(item: Any) -> Any:
    return item


def _compare(a: Any, b: Any, direction: int, as_number: bool) -> int:
    """Node-RED's comparison: 0 when the keys are strictly equal, ``direction`` when the
    first is greater, else ``-direction`` (keys with no order, NaN say, count as less)."""
    if as_number:
        a, b = js_number(a), js_number(b)
    if _strictly_equal(a, b):
        return 0
    if a is MISSING or b is MISSING:
        return -direction
    return direction if js_order(a, b) == 1 else -direction


def _strictly_equal(a: Any, b: Any) -> bool:
    """JavaScript's ``===`` on keys: same kind and value (NaN never, objects only itself)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b and not (isinstance(a, float) and math.isnan(a))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b
