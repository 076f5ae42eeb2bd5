"""exception-filter: report by exception; Node-RED's filter (rbe) node under readable names.

The filter keeps a reference value per topic and passes a message only when its value
(``property``, ``payload`` by default) is an exception worth reporting:

- ``changed``: the value differs from the reference. The comparison is deep and
  type-sensitive, as JavaScript sees JSON: 2 and "2" differ, true and 1 differ, 1 and
  1.0 are the same number, and the key order of an object does not matter.
- ``changed-ignore-initial``: the same, but the first value of a topic only sets the
  reference and is not sent.
- ``deadband`` / ``deadband-or-equal``: the value changed by more than (or at least)
  ``band``; the first value of a topic always passes.
- ``narrowband`` / ``narrowband-or-equal``: the value changed by at most (or by less
  than) ``band``, to drop outliers; the reference starts at ``start`` or, when that is
  null, at the first value.

Numeric modes read the leading number of the value as JavaScript's ``parseFloat`` does
("6 deg" is 6), send the original message, and drop a value without one with a warning.
``band`` may be a percentage ("10%") of the reference, recomputed each time the
reference moves. The reference moves to each value sent (``compare: last-output``) or to
every value seen (``compare: last-input``, Node-RED's "compare with last input"), which
only matters in the numeric modes. A message without the property is ignored.

A message with a ``reset`` property (any value) first clears the reference of its topic,
or of every topic when it has no topic, when its topic is not a non-empty string, or when
topics are not kept apart. It is then handled like any message: it passes only if it
carries the property and its value passes the filter, now without a reference (so it
does in ``changed`` and the deadband modes, and does not in ``changed-ignore-initial``).

As in Node-RED, an object (or null) is compared with an empty object when the
reference is not an object, so a first ``{}``, or a ``{}`` after a text, is not sent,
and a topic that is no text is keyed by its text as JavaScript's ``String()`` writes it
(1e-7 shares the state of "1e-7", 1e21 that of "1e+21"). The differences on purpose,
each where Node-RED's is a JavaScript accident, are in the schema's description
(DIFFERENCES) and tests/nodes/test_exception_filter_node_red.py shows each in both.

Beyond Node-RED, two output stages, both per topic and both off by default:

``min_interval`` is a throttle after the filter: the first message passes at once; a
message passing the filter within ``min_interval`` of the last one sent is held, a later
one replaces it (the latest wins), and the one held is sent when the interval ends -
unless its value equals that of the last message sent, which would tell the subscriber
nothing. The filter's reference moves when a message passes the filter, held or not, so
the filter decides exactly what it decides without the throttle: the reference is what
the subscriber will hold once the interval ends, and the subscriber's view stays within
the band of the input after every interval.

``max_silence`` is an integrity resend: when nothing was sent for a topic for that long,
a copy of the last message sent (a new ``_msgid`` and ``ts``) is sent again, and again
after each further silence, so a subscriber can tell "unchanged" from "dead". A resend
obeys ``min_interval`` too (the period is the larger of the two). A reset of a topic ends
its resends until a value passes again; a message held by the throttle is still sent.

The state kept per topic is bounded by ``max_topics``: past it, the topic seen least
recently is forgotten (counted, warned once, shown in the status), as if reset; a
message the throttle held for it is sent at once rather than lost. The status counts
what passed of what came in ("passed 12 of 240"), refreshed when a message passes and
at most once a second, so it costs a log line only per message sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from portless.nodes.js_values import js_string, parse_float, same_value
from portless.runtime import (
    MISSING,
    Message,
    Node,
    PropertyPath,
    clone_message,
    new_msgid,
)

MODES = ("changed", "changed-ignore-initial", "deadband", "deadband-or-equal",
         "narrowband", "narrowband-or-equal")
PERCENT = r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)%$"

# Whether a numeric mode passes a change (below, equal to, above) the band.
_BAND_RULES: dict[str, tuple[bool, bool, bool]] = {
    "deadband": (False, False, True),
    "deadband-or-equal": (False, True, True),
    "narrowband": (True, True, False),
    "narrowband-or-equal": (True, False, False),
}
DIFFERENCES = (
    "Differences from Node-RED's rbe, on purpose (Node-RED keeps its state in a plain "
    "JavaScript object keyed by the topic's text): a topic named like a member of every "
    "JavaScript object (`constructor`, `toString`, `hasOwnProperty`, `__proto__`) has a "
    "state of its own like any topic (in Node-RED `constructor` and `toString` never pass "
    "a numeric mode, a value kept for `hasOwnProperty` makes `changed-ignore-initial` fail "
    "with a TypeError for every topic from then on, and `__proto__` never filters and "
    "lends an object value to the other topics); a topic that is the text `_no_topic` is "
    "a topic (Node-RED shares it with the messages without one); integers beyond 2^53 "
    "are compared exactly, as values and as topics (JavaScript reads 9007199254740993 as "
    "9007199254740992); a reset for a topic read from a custom `topic_property` clears "
    "that topic (Node-RED clears the one `msg.topic` names). As in Node-RED, a number as "
    "topic shares the state of its text as JavaScript writes it (1e-7 and \"1e-7\", 1e21 "
    "and \"1e+21\"), and -0, like 0, is no topic.")
_NO_TOPIC: Hashable = object()  # the state of messages without a (truthy) topic
_UNSET: Any = object()
_EARLY = 0.001  # a silence timer this close to due counts as due



class ExceptionFilter(Node):
    type = "exception-filter"
    category = "function"
    color = "#e2d96e"
    icon = "filter"
    inputs = 1
    outputs = 1
    schema = {
        "title": "Exception filter",
        "description": (
            "Report by exception (Node-RED's filter/rbe node): passes a message only when "
            "its value changed, or changed by more (deadband) or less (narrowband) than a "
            "band, per topic. A message with a `reset` property clears the state of its "
            "topic, or of all topics when it has none. Optionally limits the rate per "
            "topic (`min_interval`, the latest value wins) and resends the last value "
            "after a silence (`max_silence`) so a subscriber can tell unchanged from dead. "
            "Its status counts what passed of what came in (\"passed 12 of 240\"), "
            "refreshed at most once a second.\n\n" + DIFFERENCES),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {
                "title": "Mode", "enum": list(MODES), "default": "changed",
                "description": (
                    "`changed`: pass when the value changes (deep, type-sensitive); "
                    "`changed-ignore-initial`: the same, without sending a topic's first "
                    "value; `deadband`: pass when the change is more than `band` "
                    "(`deadband-or-equal`: at least `band`); `narrowband`: drop when the "
                    "change is more than `band` (`narrowband-or-equal`: at least `band`).")},
            "band": {
                "title": "Band", "default": 0,
                "anyOf": [{"type": "number", "minimum": 0},
                          {"type": "string", "pattern": PERCENT}],
                "x-error": "must be a number (0 or more) or a percentage like \"10%\"",
                "description": (
                    "Size of the band in the numeric modes: a number, or a percentage of "
                    "the reference such as \"10%\", recomputed as the reference moves.")},
            "compare": {
                "title": "Compare with", "enum": ["last-output", "last-input"],
                "default": "last-output",
                "description": (
                    "Numeric modes: measure the change from the last value sent, or from "
                    "the last value received (so a slow drift never passes a deadband).")},
            "start": {
                "title": "Start value", "type": ["number", "null"], "default": None,
                "description": (
                    "Narrowband modes: the reference before the first value; null starts "
                    "from the first value.")},
            "property": {
                "title": "Property", "type": "string", "x-property-path": True,
                "default": "payload",
                "description": (
                    "The message property to watch, as a path such as `payload` or "
                    "`payload.flow`; messages without it are ignored.")},
            "separate_topics": {
                "title": "Separate topics", "type": "boolean", "default": True,
                "description": "Keep a separate reference (and rate and silence) per topic."},
            "max_topics": {
                "title": "Maximum topics", "type": "integer", "minimum": 1, "default": 10000,
                "description": (
                    "With separate topics: the most topics to keep state for, so a flood of "
                    "new topics cannot exhaust memory. Past it the topic seen least recently "
                    "is forgotten (counted and shown in the status); its next value is "
                    "judged as a first value.")},
            "topic_property": {
                "title": "Topic property", "type": "string", "x-property-path": True,
                "default": "topic",
                "description": "The message property that names the topic."},
            "min_interval": {
                "title": "Minimum interval (s)", "type": "number", "minimum": 0, "default": 0,
                "description": (
                    "At most one message per topic per interval; a change within it is "
                    "held (the latest wins) and sent when it ends. 0 is off.")},
            "max_silence": {
                "title": "Maximum silence (s)", "type": "number", "minimum": 0, "default": 0,
                "description": (
                    "Resend a copy of a topic's last message when nothing was sent for it "
                    "for this long, so a subscriber can tell unchanged from dead. 0 is off.")},
        },
    }

    _decide: Callable[[Hashable, Any], bool]
    _read_value: Callable[[Message], Any]
    _read_topic: Callable[[Message], Any]
    _now: Callable[[], float]

    async def start(self) -> None:
        config = self.config
        mode = config["mode"]
        value_path, topic_path = PropertyPath(config["property"]), PropertyPath(
            config["topic_property"])
        self._read_value, self._value_name = value_path.get, value_path.name
        self._read_topic, self._topic_name = topic_path.get, topic_path.name
        self._separate: bool = config["separate_topics"]
        self._max_topics: int = config["max_topics"]
        self._seen: OrderedDict[Hashable, None] = OrderedDict()  # least recently seen first
        self._last_key: Hashable = _UNSET  # the key at the end of _seen
        self._references: dict[Hashable, Any] = {}
        self._pass_first: bool = mode == "changed"
        if mode in ("changed", "changed-ignore-initial"):
            self._decide = self._changed
        else:
            self._decide = self._within_band
        self._pass_below, self._pass_equal, self._pass_above = _BAND_RULES.get(
            mode, (False, False, False))
        band = config["band"]
        self._percent = isinstance(band, str)
        self._band = float(band[:-1]) if isinstance(band, str) else float(band)
        self._narrow: bool = mode.startswith("narrowband")
        self._start: float | None = None if config["start"] is None else float(config["start"])
        self._follow_input: bool = config["compare"] == "last-input"
        self._nan_text = f"no number found in msg.{config['property']}; message dropped"
        self._flagged = False
        # Output stages (min_interval, max_silence): state per topic key.
        self._min_interval = float(config["min_interval"])
        max_silence = float(config["max_silence"])
        self._silence = max(max_silence, self._min_interval) if max_silence else 0.0
        self._limited = bool(self._min_interval or self._silence)
        self._loop = asyncio.get_running_loop()
        self._now = self._loop.time
        self._sent_at: dict[Hashable, float] = {}
        self._last_sent: dict[Hashable, Message] = {}
        self._held: dict[Hashable, Message] = {}
        self._flush_timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._silence_timers: dict[Hashable, asyncio.TimerHandle] = {}
        # Counts for the status, shown at most once a second (the last within a second).
        self.received = self.passed = self.forgotten = 0
        self._status_due = 0.0
        self._status_timer: asyncio.TimerHandle | None = None

    async def stop(self) -> None:
        if self._status_timer is not None:
            self._status_timer.cancel()

    def on_input(self, msg: Message) -> None:
        self.received += 1
        if self._separate:
            name = self._topic_name  # a plain name (topic): read here, without a call
            topic = msg.get(name, MISSING) if name is not None else self._read_topic(msg)
            key = topic if topic.__class__ is str and topic else _topic_key(topic)
            if key is not self._last_key:  # the topic seen last is at the end already
                try:
                    self._seen.move_to_end(key)
                except KeyError:
                    self._new_topic(key)
                self._last_key = key
        else:
            topic = key = _NO_TOPIC
        if "reset" in msg:
            self._reset(topic, key)
        name = self._value_name
        value = msg.get(name, MISSING) if name is not None else self._read_value(msg)
        if value is not MISSING and self._decide(key, value):
            self.passed += 1
            if self._limited:
                self._emit(key, msg)
            else:
                self.send(msg)
            if self._status_timer is None:
                self._refresh_status()

    # --- bounded state and the status ----------------------------------------------
    def _new_topic(self, key: Hashable) -> None:
        seen = self._seen
        seen[key] = None
        if len(seen) > self._max_topics:
            self._forget(seen.popitem(last=False)[0])

    def _forget(self, key: Hashable) -> None:
        """Drop all state of a topic, as a reset would; a held change is sent, not lost."""
        self.forgotten += 1
        if self.forgotten == 1:
            self.warn(f"more than {self._max_topics} topics (max_topics): forgetting the "
                      f"least recently seen; their next value is judged as a first value")
            self._show_counts()
            self._status_due = 0.0
        elif self._status_timer is None:
            self._refresh_status()
        self._references.pop(key, None)
        if self._limited:
            self.cancel_timer(self._flush_timers.get(key))
            self._flush(key)  # what the throttle held is sent now, not lost
            self._forget_sent(key)
            self._sent_at.pop(key, None)

    def _refresh_status(self) -> None:
        """Show the counts now, or when the second since the last showing is over."""
        now = self._now()
        if now >= self._status_due:
            self._show_counts()
        else:
            # A loop timer, not call_later: it sends nothing, so no one waits for it.
            self._status_timer = self._loop.call_later(self._status_due - now,
                                                       self._show_counts)

    def _show_counts(self) -> None:
        if self._status_timer is not None:
            self._status_timer.cancel()
            self._status_timer = None
        self._status_due = self._now() + 1.0
        if self._flagged:  # "dropped a value that is not a number" stays until a number
            return
        text = f"passed {self.passed} of {self.received}"
        if self.forgotten:
            topics = "topic" if self.forgotten == 1 else "topics"
            self.status("yellow", f"{text} · forgot {self.forgotten} {topics} "
                                  f"(max {self._max_topics})")
        else:
            self.status("blue", text)

    # --- the filter ----------------------------------------------------------------
    def _changed(self, key: Hashable, value: Any) -> bool:
        references = self._references
        previous = references.get(key, _UNSET)
        if value is None or value.__class__ is dict or value.__class__ is list:
            return self._changed_object(key, value, previous)
        if previous is _UNSET:
            references[key] = clone_message(value)
            return self._pass_first
        kind = value.__class__
        if kind is previous.__class__ and (kind is str or kind is int or kind is float):
            if value == previous:  # the common case; NaN never equals, as in JavaScript
                return False
        elif same_value(value, previous):
            return False
        # A snapshot: the value sent on may be changed in place downstream.
        references[key] = clone_message(value)
        return True

    def _changed_object(self, key: Hashable, value: Any, previous: Any) -> bool:
        """A JavaScript object (or null), as Node-RED compares it: against an empty
        object when the reference is not an object, so a first ``{}`` is not a change."""
        send = self._pass_first or previous is not _UNSET
        if not (previous is None or previous.__class__ is dict or previous.__class__ is list):
            previous = self._references[key] = {}
        if same_value(value, previous):
            return False
        self._references[key] = clone_message(value)
        return send

    def _within_band(self, key: Hashable, value: Any) -> bool:
        number = value if value.__class__ is float else parse_float(value)
        if number != number:
            self.warn(self._nan_text)
            if not self._flagged:
                self._flagged = True
                self.status("yellow", "dropped a value that is not a number", "ring")
            return False
        if self._flagged:
            self._flagged = False
            self._show_counts()
            self._status_due = 0.0  # and the value's own count, if it passes, at once
        references = self._references
        reference = references.get(key)
        if reference is None and self._narrow:
            reference = references[key] = number if self._start is None else self._start
        if self._percent:
            band = abs(reference * self._band / 100) if reference is not None else 0.0
            if band != band:  # infinite reference
                band = 0.0
        else:
            band = self._band
        if reference is None:  # a deadband's first value passes: start just outside
            reference = references[key] = number - band - 1
        change = abs(number - reference)
        if change < band:
            passed = self._pass_below
        elif change > band:
            passed = self._pass_above
        else:
            passed = self._pass_equal and change == band  # not when NaN (inf - inf)
        if passed or self._follow_input:
            references[key] = number
        return passed

    def _reset(self, topic: Any, key: Hashable) -> None:
        if topic.__class__ is str and topic:
            self._references.pop(key, None)
            if self._limited:
                self._forget_sent(key)
        else:
            self._references.clear()
            if self._limited:
                for each in list(self._last_sent):
                    self._forget_sent(each)

    # --- output stages: min_interval and max_silence ---------------------------------
    def _emit(self, key: Hashable, msg: Message) -> None:
        now = self._now()
        if self._min_interval:
            sent_at = self._sent_at.get(key)
            if sent_at is not None and now - sent_at < self._min_interval:
                self._held[key] = msg
                if key not in self._flush_timers:
                    self._flush_timers[key] = self.call_later(
                        sent_at + self._min_interval - now, self._flush, key)
                return
            if self._held.pop(key, None) is not None:  # its flush is late: supersede it
                self.cancel_timer(self._flush_timers.pop(key, None))
        self._transmit(key, msg, now)

    def _transmit(self, key: Hashable, msg: Message, now: float) -> None:
        self._sent_at[key] = now
        # A snapshot taken before sending: downstream nodes may change what they get.
        self._last_sent[key] = clone_message(msg)
        if self._silence and key not in self._silence_timers:
            self._silence_timers[key] = self.call_later(self._silence, self._check_silence, key)
        self.send(msg)

    def _flush(self, key: Hashable) -> None:
        self._flush_timers.pop(key, None)
        msg = self._held.pop(key, None)
        if msg is None:
            return
        last = self._last_sent.get(key)
        if last is not None and same_value(self._read_value(msg), self._read_value(last)):
            return  # back where the subscriber is: nothing to report
        self._transmit(key, msg, self._now())

    def _check_silence(self, key: Hashable) -> None:
        """Resend when due; the timer is re-armed lazily, not on every message sent."""
        self._silence_timers.pop(key, None)
        last = self._last_sent.get(key)
        if last is None:
            return
        now = self._now()
        remaining = self._sent_at[key] + self._silence - now
        if key in self._held:  # its flush is due as well and speaks for the topic
            remaining = max(remaining, 0.0)
        elif remaining <= _EARLY:
            resend = clone_message(last)
            resend["_msgid"] = new_msgid()
            resend["ts"] = time.time()
            self._sent_at[key] = now
            self._silence_timers[key] = self.call_later(self._silence, self._check_silence, key)
            self.send(resend)
            return
        self._silence_timers[key] = self.call_later(remaining, self._check_silence, key)

    def _forget_sent(self, key: Hashable) -> None:
        self._last_sent.pop(key, None)
        self.cancel_timer(self._silence_timers.pop(key, None))


def _topic_key(topic: Any) -> Hashable:
    """The state key of a topic that is not a non-empty string, as JavaScript coerces it:
    a falsy topic (missing, null, "", 0, false, NaN) shares the no-topic state."""
    if topic is MISSING or topic is None or topic == "" or (
            isinstance(topic, int | float) and (not topic or topic != topic)):
        return _NO_TOPIC
    return js_string(topic)
