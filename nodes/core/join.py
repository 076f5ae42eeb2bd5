"""join: combine a sequence of messages into one, by msg.parts (after a split), by a
count, a timeout or msg.complete, or by a JSONata reduce (Node-RED's join node)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from portless.nodes.core.join_build import build_value
from portless.nodes.core.join_reduce import Reducer
from portless.nodes.core.sequence_groups import max_messages_schema, sequence_key
from portless.nodes.js_values import js_string, to_number
from portless.runtime import (
    MISSING,
    Message,
    Node,
    PropertyPath,
    TypedValue,
    clone_message,
    fields_are,
    get_property,
    typed_value_schema,
)

BUILDS = ("string", "buffer", "array", "object", "merged")
_JOINED = ("string", "buffer")
"""The builds that put a joiner between their values."""
_EMPTY = (None, MISSING)
_ENVELOPE = ("_msgid", "ts")
"""Message keys a merge leaves out: the id, and the time portless stamps on messages."""


def _mode_is(mode: str, **more: Any) -> dict[str, Any]:
    """A config in ``mode`` (and with the ``more`` choices): where a field of that mode
    applies, so the editor shows it only there (``x-show-if``)."""
    return fields_are(mode=mode, **more)


MANUAL = "_"
"""The one group of manual mode (unless `use_parts` groups by msg.parts.id)."""


@dataclass
class _Group:
    """One message being built: its values so far and the message that will carry them."""

    build: str
    """What it becomes: string, buffer, array or object (merged builds an object too)."""
    msg: Message
    prop: str
    joiner: Any = None
    array_len: Any = None
    target: Any = None
    """The count that completes it (0 or None: none)."""
    items: dict[Any, Any] = field(default_factory=dict)
    """Values by index (string, buffer, array) or by key (object)."""
    length: int = 0
    """string, buffer, array: one past the highest index filled."""
    filled: int = 0
    timer: asyncio.TimerHandle | None = None
    arrival: int = 0
    messages: list[Message] = field(default_factory=list)
    """The messages taken in since the last send: done when it goes or is dropped."""

    @property
    def weight(self) -> int:
        """What the group counts against max_messages: itself and its values or its
        messages, whichever are more."""
        return 1 + max(len(self.items), len(self.messages))


class Join(Node):
    type = "join"
    category = "sequence"
    color = "#E2D96E"
    icon = "join"
    calls_done = True
    schema = {
        "title": "Join",
        "description": (
            "Combines a sequence of messages into one.\n\n"
            "`auto`: reverses a split, by each message's `msg.parts` (`id`, `index`, "
            "`count`, `type`, `ch`, `len`, `key`, `property`): a text joined with `ch`, "
            "bytes, a list or an object, sent when `count` messages of the `id` are in, "
            "or at a message with `msg.complete`.\n\n"
            "`manual`: builds `build` from `property` of each message (or the whole "
            "message, with `whole_message`): a `string` joined with `joiner` (or "
            "`joiner_bytes`, with `join_with: bytes`), a `buffer`, an `array`, an "
            "`object` whose keys are each message's `key_property`, or a `merged` "
            "object of each message's own keys. It is sent after `count` messages "
            "(0: no count), `timeout` seconds after the first (0: none; "
            "`msg.restartTimeout` starts the wait again), or at a message with "
            "`msg.complete` (a message with `complete` and nothing to add just ends it). "
            "With `accumulate`, the values are kept after a send, and every later "
            "message sends again. With `use_parts`, messages that carry `msg.parts` "
            "are grouped by its `id` and complete at its `count` when `count` is 0. "
            "The joined message is the last message of the group with the joined value "
            "in its property, its `msg.parts` taken off (an outer one restored).\n\n"
            "`reduce`: holds each sequence (by `msg.parts`) until complete, then "
            "evaluates `reduce_expression` on each message in index order "
            "(`reduce_right`: last to first) with `$A` the value so far (first "
            "`reduce_initial`), `$I` the index and `$N` the count, then "
            "`reduce_fixup` (if set) with `$A` and `$N`; the last message is sent "
            "with the result as its payload. A message without `msg.parts` passes "
            "unchanged.\n\n"
            "`msg.reset` drops what is held without sending (in `auto` mode, a reset "
            "without `msg.parts` drops every sequence). A complete node hears of a "
            "message when the joined message it went into is sent or dropped (of one "
            "not joined, at once).\n\n"
            "Bounds: at most `max_messages` values (or messages, where more) are held "
            "in all, each group counting one more for itself; past that the oldest "
            "group is dropped, with an error on its last message. A `msg.parts.index` "
            "that is not a whole number below `max_messages` is an error and the "
            "message is dropped, so a forged "
            "count or index allocates nothing.\n\n"
            "Differences from Node-RED, on purpose: the bounds above (Node-RED holds "
            "everything unless `nodeMessageBufferMaxLength` is set, and then only in "
            "reduce mode, where it drops every group); a `ch` given as a list of byte "
            "values joins a text with those bytes as UTF-8 (Node-RED writes the numbers, "
            "`44` for a comma); a string sequence without `ch` joins with nothing "
            "(Node-RED fails); a `count` of 0 with `use_parts` groups by `msg.parts.id` "
            "as Node-RED's empty count does."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {"title": "Mode", "enum": ["auto", "manual", "reduce"],
                     "default": "auto",
                     "description": "`auto`: by `msg.parts`; `manual`: by this config; "
                                    "`reduce`: a JSONata reduce of each sequence."},
            "build": {"x-show-if": _mode_is("manual"),
                      "title": "Create", "enum": list(BUILDS), "default": "array",
                      "description": "`manual`: a `string`, a `buffer` (bytes), an "
                                     "`array`, an `object` (by `key_property`) or a "
                                     "`merged` object."},
            "property": {"x-show-if": _mode_is("manual", whole_message=False),
                         "title": "Combine each", "type": "string", "default": "payload",
                         "x-property-path": True,
                         "description": "`manual`: the property taken from each message "
                                        "and set in the joined one."},
            "whole_message": {"x-show-if": _mode_is("manual"),
                              "title": "Combine whole messages", "type": "boolean",
                              "default": False,
                              "description": "`manual`: take each whole message instead "
                                             "of `property` (the result goes in "
                                             "`payload`)."},
            "key_property": {"x-show-if": _mode_is("manual", build="object"),
                             "title": "Key from", "type": "string", "default": "topic",
                             "x-property-path": True,
                             "description": "`manual` `object`: the property whose value "
                                            "is each value's key."},
            "join_with": {"x-show-if": _mode_is("manual", build=_JOINED),
                          "title": "Join with", "enum": ["string", "bytes"],
                          "default": "string",
                          "description": "`manual` `string` or `buffer`: `joiner` or "
                                         "`joiner_bytes` between the values."},
            "joiner": {"x-show-if": _mode_is("manual", build=_JOINED, join_with="string"),
                       "title": "Joiner", "type": "string", "default": "\n",
                       "description": "The text between joined values."},
            "joiner_bytes": {"x-show-if": _mode_is("manual", build=_JOINED, join_with="bytes"),
                             "title": "Joiner bytes", "type": "array", "default": [],
                             "maxItems": 1024,
                             "items": {"type": "integer", "minimum": 0, "maximum": 255},
                             "description": "The bytes between joined values."},
            "count": {"x-show-if": _mode_is("manual"),
                      "title": "After a number of messages", "type": "integer",
                      "minimum": 0, "default": 0,
                      "description": "`manual`: send after this many (0: no count)."},
            "use_parts": {"x-show-if": _mode_is("manual"),
                          "title": "Use existing msg.parts", "type": "boolean",
                          "default": False,
                          "description": "`manual`: keep `msg.parts` (off: it is ignored, "
                                         "an outer one kept)."},
            "accumulate": {"x-show-if": _mode_is("manual"),
                           "title": "And every subsequent message", "type": "boolean",
                           "default": False,
                           "description": "`manual`: keep the values after a send."},
            "timeout": {"x-show-if": _mode_is("manual"),
                        "title": "After a timeout (s)", "type": "number", "minimum": 0,
                        "default": 0,
                        "description": "`manual`: send this many seconds after the first "
                                       "message of a group (0: no timeout)."},
            "reduce_expression": {"x-show-if": _mode_is("reduce"),
                                  "title": "Reduce expression", "type": "string",
                                  "x-jsonata": True, "default": "$A",
                                  "description": "`reduce`: the next `$A`, from the "
                                                 "message, `$A`, `$I` and `$N`."},
            "reduce_initial": {**typed_value_schema(
                "Initial value", "`reduce`: the first `$A`.",
                kinds=("string", "number", "boolean", "json", "jsonata", "env", "flow",
                       "global"), default={"kind": "number", "value": 0}),
                "x-show-if": _mode_is("reduce")},
            "reduce_fixup": {"x-show-if": _mode_is("reduce"),
                             "title": "Fix-up expression", "type": ["string", "null"],
                             "x-jsonata": True, "default": None,
                             "description": "`reduce`: the result from the last `$A` and "
                                            "`$N` (null: the last `$A`)."},
            "reduce_right": {"x-show-if": _mode_is("reduce"),
                             "title": "Evaluate in reverse order", "type": "boolean",
                             "default": False,
                             "description": "`reduce`: last index to first."},
            "max_messages": max_messages_schema(
                "Past this the oldest group is dropped with an error."),
        },
    }

    async def start(self) -> None:
        config = self.config
        self._mode: str = config["mode"]
        self._groups: dict[Hashable, _Group] = {}
        self._held = 0
        self._arrivals = itertools.count()
        self._path = PropertyPath(config["property"])
        self._key_path = PropertyPath(config["key_property"])
        self._joiner: Any = (bytes(config["joiner_bytes"]) if config["join_with"] == "bytes"
                             else config["joiner"])
        if self._mode == "reduce":
            fixup = config["reduce_fixup"]
            self._reducer = Reducer(
                self._jsonata(config["reduce_expression"]),
                None if fixup is None else self._jsonata(fixup),
                TypedValue(config["reduce_initial"], self), config["reduce_right"],
                config["max_messages"], self.send, self.error,
                lambda msg: self.done(msg))  # looked up late: a complete node wraps it

    def _jsonata(self, text: str) -> TypedValue:
        return TypedValue({"kind": "jsonata", "value": text}, self)

    def on_input(self, msg: Message) -> None:
        if self._mode == "reduce":
            self._reducer.take(msg)
            return
        parts = _parts(msg)
        if self._mode == "auto" and (parts is None or "id" not in parts):
            if "reset" in msg:
                for key in list(self._groups):
                    self._forget(key)
            else:
                self.warn("a message without msg.parts.id cannot be joined in auto mode")
            self.done(msg)
            return
        if self._mode == "manual" and parts is not None and not self.config["use_parts"]:
            if "parts" in parts:
                msg["parts"] = {"parts": parts["parts"]}
            else:
                del msg["parts"]
            parts = _parts(msg)
        key, build, value, index, item_key = self._place(msg, parts)
        if "restartTimeout" in msg and key in self._groups:
            self._arm(key, self._groups[key])
        if "reset" in msg:
            self._forget(key)
            self.done(msg)
            return
        if build == "object" and item_key in (None, MISSING, ""):
            self._keyless(msg, key)
            self.done(msg)
            return
        group = self._groups.get(key)
        if group is None:
            group = self._new_group(key, msg, build, parts)
        before = group.weight
        if not self._add(group, msg, build, value, index, item_key):
            return
        group.messages.append(msg)
        self._held += group.weight - before
        group.msg.update(msg)
        if parts is not None:
            group.target = group.target or parts.get("count")
        target = to_number(group.target)
        if (target is not None and target > 0 and group.filled >= target) \
                or "complete" in msg:
            self._finish(key)
        elif self._held > self.config["max_messages"]:
            self._drop_oldest()

    # --- where a message goes ------------------------------------------------------------
    def _place(self, msg: Message, parts: dict[str, Any] | None
               ) -> tuple[Hashable, str, Any, Any, Any]:
        """(group key, what it builds, the value to add, its index, its object key)."""
        if self._mode == "auto":
            assert parts is not None
            value = get_property(msg, parts.get("property") or "payload")
            return (sequence_key(parts["id"]), str(parts.get("type")), value,
                    parts.get("index", MISSING), parts.get("key"))
        value = msg if self.config["whole_message"] else self._path.get(msg)
        build = self.config["build"]
        key: Hashable = MANUAL
        if parts is not None and self.config["count"] == 0 and "id" in parts:
            key = sequence_key(parts["id"])
        item_key = self._key_path.get(msg) if build == "object" else None
        return key, build, value, MISSING, item_key

    def _new_group(self, key: Hashable, msg: Message, build: str,
                   parts: dict[str, Any] | None) -> _Group:
        if self._mode == "auto":
            assert parts is not None
            group = _Group(build, clone_message(msg), parts.get("property") or "payload",
                           parts.get("ch"), parts.get("len"), parts.get("count"))
        else:
            count = self.config["count"] or (parts or {}).get("count", 0)
            group = _Group("object" if build == "merged" else build, clone_message(msg),
                           "payload" if
                           self.config["whole_message"] else self.config["property"],
                           self._joiner, None, count)
        group.arrival = next(self._arrivals)
        self._groups[key] = group
        self._held += 1
        if self._mode == "manual":
            self._arm(key, group)
        return group

    def _add(self, group: _Group, msg: Message, build: str, value: Any, index: Any,
             item_key: Any) -> bool:
        """Put the value in its group; False (with an error or a warning) if it cannot."""
        if group.build == "buffer" and value is not MISSING \
                and not isinstance(value, bytes | bytearray | str | list):
            self.error(f"cannot join {type(value).__name__} into bytes", msg)
            return False
        if build == "merged":
            if isinstance(value, dict):
                group.items.update((k, v) for k, v in value.items() if k not in _ENVELOPE)
            elif "complete" not in msg:
                self.warn("cannot merge a value that is not an object")
            group.filled = len(group.items)
        elif group.build == "object":
            group.items[item_key if isinstance(item_key, str) else js_string(item_key)] \
                = value
            group.filled = len(group.items)
        elif (place := MISSING if index is MISSING else self._index(msg, index)) is None:
            return False
        elif place is not MISSING:
            if group.items.get(place, MISSING) in _EMPTY:  # as JavaScript's == undefined
                group.filled += 1
            group.items[place] = value
            group.length = max(group.length, place + 1)
        elif value is not MISSING:
            group.items[group.length] = value
            group.length += 1
            group.filled += 1
        return True

    def _index(self, msg: Message, index: Any) -> Any:
        """The list index a msg.parts.index names: MISSING where it is no number
        (appended, as Node-RED does with NaN), None (an error) where it is out of range."""
        number = 0.0 if index is None else to_number(index)
        if number is None:
            return MISSING
        limit = self.config["max_messages"]
        if number.is_integer() and 0 <= number < limit:
            return int(number)
        self.error(f"msg.parts.index {js_string(index)} is not a whole number from 0 to "
                   f"{limit - 1} (max_messages): dropped", msg)
        return None

    def _keyless(self, msg: Message, key: Hashable) -> None:
        """An object's message without a key: it only ends the group, if it completes."""
        if self._mode == "auto":
            self.warn("a message without msg.parts.key cannot be added to an object")
        elif "complete" in msg:
            if key in self._groups:
                self._groups[key].msg["complete"] = msg["complete"]
                self._finish(key)
        else:
            self.warn(f"a message without msg.{self.config['key_property']} cannot be "
                      "added to an object")

    # --- timers, sending and dropping --------------------------------------------------------
    def _arm(self, key: Hashable, group: _Group) -> None:
        self.cancel_timer(group.timer)
        group.timer = None
        if self._mode == "manual" and self.config["timeout"] > 0:
            group.timer = self.call_later(self.config["timeout"], self._finish, key)

    def _finish(self, key: Hashable) -> None:
        group = self._groups[key]
        self.cancel_timer(group.timer)
        group.timer = None
        if self._mode == "auto" or not self.config["accumulate"] or "complete" in group.msg:
            self._groups.pop(key)
            self._held -= group.weight
            taken = group.messages
        else:  # accumulating: the values stay, the messages so far are done
            before, taken, group.messages = group.weight, group.messages, []
            self._held += group.weight - before
        self._send_joined(group)
        for msg in taken:
            self.done(msg)

    def _send_joined(self, group: _Group) -> None:
        out = group.msg
        value = build_value(group.build, group.items, group.length, group.joiner,
                            group.array_len)
        if not PropertyPath(group.prop).set(out, value):
            self.error(f"cannot set msg.{group.prop} on the joined message", out)
            return
        outer = out.get("parts")
        if isinstance(outer, dict) and "parts" in outer:
            out["parts"] = outer["parts"]
        else:
            out.pop("parts", None)
        out.pop("complete", None)
        self.send(clone_message(out))

    def _forget(self, key: Hashable, failed: Message | None = None) -> _Group | None:
        """Drop a group without sending; its messages are done, but ``failed``."""
        group = self._groups.pop(key, None)
        if group is not None:
            self.cancel_timer(group.timer)
            self._held -= group.weight
            for msg in group.messages:
                if msg is not failed:
                    self.done(msg)
        return group

    def _drop_oldest(self) -> None:
        key = min(self._groups, key=lambda k: self._groups[k].arrival)
        group = self._groups[key]
        last = group.messages[-1] if group.messages else group.msg
        self._forget(key, failed=last)
        self.error(f"more than {self.config['max_messages']} messages held: the oldest "
                   f"group ({len(group.items)} values) dropped", last)


def _parts(msg: Message) -> dict[str, Any] | None:
    """The message's msg.parts, if it is an object."""
    parts = msg.get("parts")
    return parts if isinstance(parts, dict) else None
