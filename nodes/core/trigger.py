"""trigger: send a message, then another after a time unless reset, for all messages
or per topic; with "extend", a watchdog (Node-RED's trigger node)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portless.nodes.js_values import js_string, parse_float
from portless.runtime import (
    MISSING,
    Message,
    Node,
    PropertyPath,
    TypedValue,
    clone_message,
    typed_value_schema,
)

AT_ARRIVAL = ("msg", "jsonata")
"""Second values read from the first message as it came (Node-RED's "original
payload"); the others are read when the second is sent (the time, context then)."""


@dataclass
class _Armed:
    """One topic's trigger between its first message and its second (or its reset)."""

    sent: Message
    """The first message as sent: the second is a copy of it with a new payload."""
    second: Any
    handle: asyncio.TimerHandle | None = None


class Trigger(Node):
    type = "trigger"
    category = "function"
    color = "#e6e0f8"
    icon = "trigger"
    outputs_rule = "a second output for the second message when `second_output` is set"
    schema = {
        "title": "Trigger",
        "description": (
            "On a message, sends `first` as its payload (or the message unchanged, with "
            "`first` of kind `msg` and value `payload`), then, `duration` seconds later, "
            "a copy with `second` as its payload. Messages coming while it waits are "
            "ignored, or with `extend` restart the wait. `then: reset` waits for "
            "`msg.reset` instead of a time and sends no second; `then: resend` sends "
            "the first again every `duration` until reset (each message restarts it). "
            "`msg.reset`, or a payload whose text equals `reset_payload`, stops the wait "
            "and sends nothing. With `per_topic`, each value of `topic_property` has its "
            "own trigger. The status is a dot while any is waiting (with the count when "
            "more than one is).\n\n"
            "Watchdog: `send_first: false`, `extend: true`, `duration: 10` and `second` "
            "`\"alarm\"` send nothing while messages keep coming and `alarm` once none "
            "came for 10 s (the next message arms it again).\n\n"
            "Differences from Node-RED, on purpose: `duration` is in seconds "
            "(`msg.delay`, with `msg_delay`, stays milliseconds as flows send it); "
            "Mustache in a string value is not expanded (use a `jsonata` value); a "
            "second value of kind `msg` or `jsonata` is read from the first message "
            "when it comes, other kinds when the second is sent."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "send_first": {"title": "Send a first message", "type": "boolean",
                           "default": True,
                           "description": "False: send nothing at first (a watchdog)."},
            "first": typed_value_schema(
                "First payload", "The first message's payload; kind `msg` `payload` "
                                 "leaves it as it came.",
                default={"kind": "string", "value": "1"}),
            "then": {"title": "Then", "enum": ["wait", "reset", "resend"], "default": "wait",
                     "description": "`wait` `duration`, then send the second; `reset`: "
                                    "wait for a reset, send no second; `resend`: send the "
                                    "first every `duration` until reset."},
            "duration": {"title": "Duration (s)", "type": "number", "exclusiveMinimum": 0,
                         "default": 0.25, "description": "Seconds to wait, or between "
                                                         "resends."},
            "extend": {"title": "Extend the wait on each new message", "type": "boolean",
                       "default": False,
                       "description": "`wait`: a message while waiting starts the wait "
                                      "again; the second is then a copy of it."},
            "msg_delay": {"title": "Allow msg.delay to override", "type": "boolean",
                          "default": False,
                          "description": "A number in `msg.delay` (milliseconds) is the "
                                         "wait of the trigger it starts."},
            "send_second": {"title": "Then send", "enum": ["value", "latest", "nothing"],
                            "default": "value",
                            "description": "`value`: the first message with `second` as "
                                           "payload; `latest`: the latest message that "
                                           "came while waiting, as it came; `nothing`."},
            "second": typed_value_schema(
                "Second payload", "The second message's payload; kind `msg` `payload` "
                                  "is the first message's payload as it came.",
                default={"kind": "string", "value": "0"}),
            "second_output": {"title": "Second message on a separate output",
                              "type": "boolean", "default": False,
                              "description": "Send the second on a second output."},
            "reset_payload": {"title": "Reset when payload is", "type": "string",
                              "default": "",
                              "description": "A payload whose text is this resets; empty: "
                                             "only `msg.reset` does."},
            "per_topic": {"title": "Per topic", "type": "boolean", "default": False,
                          "description": "One trigger per value of `topic_property` "
                                         "(Node-RED's \"handling: each\")."},
            "topic_property": {"title": "Topic property", "type": "string",
                               "x-property-path": True, "default": "topic",
                               "description": "The message property naming the topic."},
        },
    }

    @classmethod
    def output_count(cls, config: Mapping[str, Any]) -> int:
        return 2 if config.get("second_output") else 1

    async def start(self) -> None:
        config = self.config
        self._first = TypedValue(config["first"], self) if config["send_first"] else None
        self._second = TypedValue(config["second"], self)
        self._topic = PropertyPath(config["topic_property"])
        self._armed: dict[Any, _Armed] = {}
        self._latest: dict[Any, Message] = {}

    def on_input(self, msg: Message) -> None:
        key = self._key(msg)
        if "reset" in msg or self._is_reset_payload(msg.get("payload", MISSING)):
            armed = self._armed.pop(key, None)
            if armed is not None:
                self.cancel_timer(armed.handle)
            self._latest.pop(key, None)
            self._show()
            return
        if self.config["send_second"] == "latest":
            self._latest[key] = clone_message(msg)
        armed = self._armed.get(key)
        wait = self._wait_of(msg)
        if armed is None or self.config["then"] == "resend":
            self._arm(key, msg, wait, armed)
        elif self.config["extend"] and self.config["then"] == "wait":
            self.cancel_timer(armed.handle)
            armed.sent = msg  # the second is a copy of the latest
            armed.handle = self.call_later(wait, self._fire, key)

    def _key(self, msg: Message) -> Any:
        if not self.config["per_topic"]:
            return None
        topic = self._topic.get(msg)
        if topic is MISSING or not topic:  # as JavaScript's `||`: one trigger for all these
            return None
        return topic if isinstance(topic, str | int | float) else js_string(topic)

    def _is_reset_payload(self, payload: Any) -> bool:
        wanted = self.config["reset_payload"]
        return wanted != "" and payload is not MISSING and payload is not None \
            and js_string(payload) == wanted

    def _wait_of(self, msg: Message) -> float:
        if self.config["msg_delay"] and "delay" in msg:
            given = parse_float(msg["delay"])
            if math.isfinite(given) and given >= 0:
                return given / 1000
        return float(self.config["duration"])

    def _arm(self, key: Any, msg: Message, wait: float, before: _Armed | None) -> None:
        kind = self.config["second"]["kind"]
        second = self._second.get(msg) if kind in AT_ARRIVAL else MISSING
        if self._first is not None:
            self._set_payload(msg, self._first.get(msg))
        armed = _Armed(msg, clone_message(second))
        if before is not None:
            self.cancel_timer(before.handle)
        self._armed[key] = armed
        then = self.config["then"]
        if then == "wait":
            armed.handle = self.call_later(wait, self._fire, key)
        elif then == "resend" and self._first is not None:
            armed.sent = clone_message(msg)
            armed.handle = self.call_later(wait, self._resend, key, wait)
        self._show()
        if self._first is not None:
            self.send(clone_message(msg))

    def _resend(self, key: Any, wait: float) -> None:
        armed = self._armed[key]
        again = clone_message(armed.sent)
        if self.config["first"]["kind"] == "timestamp" and self._first is not None:
            self._set_payload(again, self._first.get(again))
        armed.handle = self.call_later(wait, self._resend, key, wait)
        self.send(again)

    def _fire(self, key: Any) -> None:
        armed = self._armed.pop(key)
        self._show()
        how = self.config["send_second"]
        if how == "nothing":
            return
        if how == "latest":
            second = self._latest.pop(key, armed.sent)
        else:
            second = clone_message(armed.sent)
            value = armed.second
            if self.config["second"]["kind"] not in AT_ARRIVAL:
                value = self._second.get(second)
            self._set_payload(second, value)
        self.send([None, second] if self.outputs == 2 else second)

    @staticmethod
    def _set_payload(msg: Message, value: Any) -> None:
        if value is MISSING:
            msg.pop("payload", None)
        else:
            msg["payload"] = value

    def _show(self) -> None:
        count = len(self._armed)
        if count == 0:
            self.status()
        else:
            self.status("blue", str(count) if count > 1 else "")
