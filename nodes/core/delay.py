"""delay: hold each message for a time, or limit the rate of messages, for all or per
topic (Node-RED's delay node)."""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from collections.abc import Mapping
from typing import Any

from portless.nodes.js_values import parse_float
from portless.runtime import Message, Node

MODES = ("delay", "random", "rate", "per-topic", "latest-per-topic")
TOPIC_MODES = ("per-topic", "latest-per-topic")
COMMAND_KEYS = frozenset({"_msgid", "ts", "topic", "flush", "reset"})
"""A message with `flush` or `reset` and no other keys than these is a command only."""


def _seconds(title: str, default: float, description: str) -> dict[str, Any]:
    return {"title": title, "type": "number", "minimum": 0, "default": default,
            "description": description}


class Delay(Node):
    type = "delay"
    category = "function"
    color = "#e6e0f8"
    icon = "timer"
    calls_done = True
    outputs_rule = "a second output for the limited messages when `limited` is `second-output`"
    schema = {
        "title": "Delay",
        "description": (
            "Holds each message for a time (`delay`: fixed, or from `msg.delay` in "
            "milliseconds when `msg_delay` is set; `random`: between `random_from` and "
            "`random_to`), or limits the rate to `rate` messages per `interval` seconds: "
            "for all messages (`rate`), or one message per interval taking the topics in "
            "turn, a newer message of a topic replacing the one waiting (`per-topic`, "
            "Node-RED's \"rate limit per topic, fair queue\"), or the latest of every "
            "topic each interval (`latest-per-topic`, Node-RED's \"send all topics\").\n\n"
            "Control messages: `msg.reset` drops everything held and sends nothing; "
            "`msg.flush` sends what is held now (all of it, or the first `msg.flush` "
            "messages when it is a number). A message carrying `reset` or `flush` and no "
            "other property than `_msgid`, `ts` and `topic` is a command only and is not "
            "passed on; with other properties it is held (or sent) like any other first. "
            "With `rate`, `msg.toFront: true` puts a message at the front of the queue "
            "and, with `msg_rate`, `msg.rate` sets the milliseconds between messages "
            "until the next reset. The status shows how many messages are held.\n\n"
            "At most `max_queue` messages are held; past it a new message is dropped, "
            "the first such drop is warned of, and the status counts the drops until a "
            "reset. When the flow stops, held messages are dropped with a warning that "
            "counts them (as Node-RED, which clears them on close).\n\n"
            "Differences from Node-RED, on purpose: times in the config are seconds "
            "(`msg.delay` and `msg.rate` stay milliseconds, as flows send them); a full "
            "queue drops the new message (Node-RED, with nodeMessageBufferMaxLength set, "
            "empties the whole queue with an error); a message without a topic keeps "
            "none (Node-RED sets `topic` to `_none_`); in the per-topic modes the "
            "interval starts with the first message held, not at deploy; a `reset` that "
            "also has `flush` resets only. Node-RED's \"allow N messages per interval in "
            "a burst\" mode is not provided."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {"title": "Action", "enum": list(MODES), "default": "delay",
                     "description": "`delay`, `random`: hold each message; `rate`, "
                                    "`per-topic`, `latest-per-topic`: limit the rate."},
            "delay": _seconds("Delay (s)", 5, "How long `delay` holds each message."),
            "msg_delay": {"title": "Allow msg.delay to override", "type": "boolean",
                          "default": False,
                          "description": "`delay` mode: a number in `msg.delay` "
                                         "(milliseconds, negative as 0) is that "
                                         "message's delay."},
            "random_from": _seconds("Random from (s)", 1, "The shortest random delay."),
            "random_to": _seconds("Random to (s)", 5, "The longest random delay."),
            "rate": {"title": "Messages", "type": "integer", "minimum": 1, "default": 1,
                     "description": "How many messages per `interval` (evenly spaced)."},
            "interval": {"title": "Per interval (s)", "type": "number",
                         "exclusiveMinimum": 0, "default": 1,
                         "description": "The interval of the rate limit, in seconds."},
            "limited": {"title": "Messages over the rate",
                        "enum": ["queue", "drop", "second-output"], "default": "queue",
                        "description": (
                            "`rate` mode: `queue` them to go out at the rate, `drop` "
                            "them, or send them on a second output at once. In the "
                            "per-topic modes a replaced message is dropped, or sent on "
                            "the second output with `second-output`.")},
            "msg_rate": {"title": "Allow msg.rate to override", "type": "boolean",
                         "default": False,
                         "description": "Rate modes: a number in `msg.rate` "
                                        "(milliseconds between messages) sets the rate."},
            "max_queue": {"title": "Most messages held", "type": "integer", "minimum": 1,
                          "default": 10_000,
                          "description": "Past this a new message is dropped and counted."},
        },
    }

    @classmethod
    def output_count(cls, config: Mapping[str, Any]) -> int:
        limited = config.get("mode") != "delay" and config.get("mode") != "random"
        return 2 if limited and config.get("limited") == "second-output" else 1

    async def start(self) -> None:
        config = self.config
        self._mode: str = config["mode"]
        self._fixed_period = config["interval"] / config["rate"]
        self._period = self._fixed_period
        self._waiting: dict[object, tuple[asyncio.TimerHandle, Message]] = {}
        """delay, random: by a token of each message's own, in order of arrival."""
        self._queue: deque[Message] = deque()  # rate
        self._topics: dict[Any, Message] = {}  # per-topic modes, in order of arrival
        self._tick: asyncio.TimerHandle | None = None
        self._last_sent: float | None = None  # rate with drop
        self._dropped = 0

    def clock(self) -> float:
        """Seconds on a monotonic clock (the loop's), for the drop mode's spacing."""
        return asyncio.get_running_loop().time()

    @property
    def held(self) -> int:
        """How many messages the node holds now."""
        return len(self._waiting) + len(self._queue) + len(self._topics)

    def on_input(self, msg: Message) -> None:
        command = ("flush" in msg or "reset" in msg) and msg.keys() <= COMMAND_KEYS
        if "reset" in msg:
            self._reset()
            self.done(msg)
            return
        if not command:
            self._take(msg)
        if "flush" in msg:
            self._flush(msg["flush"])
        if command:
            self.done(msg)

    def _take(self, msg: Message) -> None:
        mode = self._mode
        if mode == "delay" or mode == "random":
            if self._room(msg):
                self._hold(msg, self._delay_of(msg))
        elif self.config["msg_rate"] and "rate" in msg:
            self._set_rate(msg["rate"])
        if mode == "rate":
            self._rate(msg)
        elif mode in TOPIC_MODES:
            self._by_topic(msg)
        self._show()

    def _delay_of(self, msg: Message) -> float:
        if self._mode == "random":
            return random.uniform(self.config["random_from"], self.config["random_to"])
        if self.config["msg_delay"] and "delay" in msg:
            given = parse_float(msg["delay"])
            if math.isfinite(given):
                return max(given, 0.0) / 1000
        return float(self.config["delay"])

    def _hold(self, msg: Message, wait: float) -> None:
        token = object()
        self._waiting[token] = (self.call_later(wait, self._due, token), msg)

    def _due(self, token: object) -> None:
        self._release_one(self._waiting.pop(token)[1])
        self._show()

    def _release_one(self, msg: Message) -> None:
        self.send(msg)
        self.done(msg)

    def _set_rate(self, value: Any) -> None:
        period = parse_float(value)
        if math.isfinite(period) and period >= 0 and period / 1000 != self._period:
            self._period = period / 1000
            if self._tick is not None:  # the new spacing from now on
                self.cancel_timer(self._tick)
                self._tick = self.call_later(self._period, self._next)

    def _rate(self, msg: Message) -> None:
        if self.config["limited"] == "queue":
            if self._tick is None:
                self._release_one(msg)
                self._tick = self.call_later(self._period, self._next)
            elif self._room(msg):
                if msg.get("toFront") is True:
                    self._queue.appendleft(msg)
                else:
                    self._queue.append(msg)
            return
        now = self.clock()
        if self._last_sent is None or now - self._last_sent > self._period:
            self._last_sent = now
            self.send(msg)
        elif self.outputs == 2:
            self.send([None, msg])
        self.done(msg)

    def _by_topic(self, msg: Message) -> None:
        key = _topic_key(msg.get("topic"))
        replaced = self._topics.get(key)
        if replaced is not None:
            if self.outputs == 2:
                self.send([None, replaced])
            self.done(replaced)
        elif not self._room(msg):
            return
        self._topics[key] = msg  # a replacement keeps its place in the turn
        if self._tick is None:
            self._tick = self.call_later(self._period, self._next)

    def _next(self) -> None:
        """One interval is over: send the next held message (all topics' latest in
        `latest-per-topic`); with nothing held, the limit is idle again."""
        self._tick = None
        if not self._queue and not self._topics:
            return
        if self._queue:
            self._release_one(self._queue.popleft())
        elif self._mode == "per-topic":
            self._release_one(self._topics.pop(next(iter(self._topics))))
        else:
            self._send_all_topics()
        self._tick = self.call_later(self._period, self._next)
        self._show()

    def _send_all_topics(self, count: int | None = None) -> None:
        keys = list(self._topics)[:count]
        for key in keys:
            self._release_one(self._topics.pop(key))

    def _room(self, msg: Message) -> bool:
        """Is there room to hold one more? If not, drop msg and count it."""
        if self.held < self.config["max_queue"]:
            return True
        if self._dropped == 0:
            self.warn(f"more than {self.config['max_queue']} messages held (max_queue): "
                      f"dropping new ones until there is room")
        self._dropped += 1
        self.done(msg)
        self._show()
        return False

    def _flush(self, how_many: Any) -> None:
        count = math.floor(how_many) if isinstance(how_many, int | float) and not \
            isinstance(how_many, bool) else None
        if self._waiting:
            for token in list(self._waiting)[:count]:
                handle, msg = self._waiting.pop(token)
                self.cancel_timer(handle)
                self._release_one(msg)
        elif self._queue:
            for _ in range(len(self._queue) if count is None else min(count, len(self._queue))):
                flushed = self._queue.popleft()
                flushed.pop("flush", None)
                self._release_one(flushed)
        else:
            self._send_all_topics(count)
        if self._tick is not None:  # the next one an interval after the flush
            self.cancel_timer(self._tick)
            self._tick = self.call_later(self._period, self._next)
        self._show()

    def _reset(self) -> None:
        for handle, _ in self._waiting.values():
            self.cancel_timer(handle)
        for msg in [*(held for _, held in self._waiting.values()), *self._queue,
                    *self._topics.values()]:
            self.done(msg)
        self._waiting.clear()
        self._queue.clear()
        self._topics.clear()
        self.cancel_timer(self._tick)
        self._tick = None
        self._last_sent = None
        self._period = self._fixed_period
        self._dropped = 0
        self.status("blue", "0", "ring")

    def _show(self) -> None:
        text = str(self.held) if not self._dropped else f"{self.held} ({self._dropped} dropped)"
        self.status("blue", text)

    async def stop(self) -> None:
        if self.held:
            self.warn(f"stopped with {self.held} message(s) held: dropped")


def _topic_key(topic: Any) -> Any:
    """What two messages of one topic share: equal texts and numbers (true is not 1,
    as in JavaScript); an object or list topic is its own (JavaScript's ===)."""
    if isinstance(topic, bool):
        return ("bool", topic)
    if topic is None or isinstance(topic, str | int | float):
        return topic
    return object()
