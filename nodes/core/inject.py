"""inject: start a flow with a message of chosen properties, once at start, every
interval, on a cron schedule or at a time of day on chosen weekdays, or when the
editor's button is pressed (Node-RED's inject node)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from portless.runtime import (
    MISSING,
    CronSchedule,
    ExpressionError,
    Message,
    Node,
    PropertyPath,
    TypedValue,
    new_msgid,
    typed_value_schema,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CRON_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}
LONGEST_WAIT = 60.0
"""The longest a schedule timer waits before it asks the clock again (seconds): a
stepped wall clock or a suspended device then fires at most this late."""
ALWAYS_THERE = ("string", "number", "boolean", "json", "timestamp", "env")
"""The value kinds that give a value every time (not MISSING, no ExpressionError)."""
LITERALS = ("string", "number", "boolean")
"""The value kinds that are the same value every time (a json value is copied)."""
EARLY = 0.001
"""A timer may fire this early (the loop's clock resolution) and still count as due."""

def _repeat_is(*repeats: str) -> dict[str, Any]:
    """A config repeating so: the condition the editor shows a field of it under
    (``x-show-if``), and cron's requirement."""
    return {"properties": {"repeat": {"enum": list(repeats)}}, "required": ["repeat"]}


PROPERTY_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["property", "value"],
    "properties": {
        "property": {"title": "Property", "type": "string", "x-property-path": True,
                     "description": "The message property to set, such as payload."},
        "value": typed_value_schema(
            "Value", "What it is set to; a `jsonata` expression sees the message as "
                     "set so far, an absent context key leaves the property out.",
            kinds=("string", "number", "boolean", "json", "timestamp", "flow", "global",
                   "env", "jsonata")),
    },
}


class Inject(Node):
    type = "inject"
    category = "common"
    color = "#a6bbcf"
    icon = "node"
    inputs = 0
    outputs = 1
    schema = {
        "title": "Inject",
        "description": (
            "Sends a message with the properties listed (by default `payload`, the time "
            "in milliseconds, and an empty `topic`): once at start after a delay, every "
            "interval, on a cron schedule or at a time of day on chosen weekdays (in a "
            "time zone), and whenever the editor's inject button is pressed. The message "
            "also has `_msgid`, `ts` and, unless a property sets it, an empty `topic`. "
            "Timers are set from the schedule each time, so they do not drift. "
            "Differences from Node-RED: an expression that does not compile is refused "
            "when the flow loads, not on each inject; the button injects the configured "
            "properties (Node-RED's editor can override them for one inject); "
            "\"interval between times\" is written as a cron schedule "
            "(`*/10 8-17 * * MON-FRI`)."),
        "type": "object",
        "additionalProperties": False,
        "x-inject": True,
        "properties": {
            "properties": {
                "title": "Properties", "type": "array", "items": PROPERTY_SCHEMA,
                "default": [{"property": "payload",
                             "value": {"kind": "timestamp", "value": "milliseconds"}},
                            {"property": "topic", "value": {"kind": "string", "value": ""}}],
                "description": "Set in order on each message (Node-RED's `props`): each "
                               "a `property` (a message property path) and a `value` "
                               "(a typed value: string, number, boolean, json, timestamp, "
                               "flow, global, env or jsonata)."},
            "once": {"title": "Inject once at start", "type": "boolean", "default": False,
                     "description": "Send one message `once_delay` seconds after the "
                                    "flow starts; a repeat starts after it."},
            "once_delay": {"title": "Delay before the first (s)", "type": "number",
                           "minimum": 0, "default": 0.1,
                           "x-show-if": {"properties": {"once": {"const": True}},
                                         "required": ["once"]},
                           "description": "Seconds from the start to the first message."},
            "repeat": {"title": "Repeat", "enum": ["none", "interval", "cron", "daily"],
                       "default": "none",
                       "description": "`interval`: every `interval` seconds; `cron`: on "
                                      "the `cron` schedule; `daily`: at `at` on the "
                                      "`days` chosen."},
            "interval": {"title": "Interval (s)", "type": "number", "minimum": 0.001,
                         "default": 1.0, "description": "Seconds between messages.",
                         "x-show-if": _repeat_is("interval")},
            "cron": {"title": "Cron schedule", "type": "string", "x-cron": True,
                     "x-show-if": _repeat_is("cron"),
                     "description": "Five fields (minute hour day month weekday) or six "
                                    "with seconds first, such as `0 7 * * MON-FRI`."},
            "at": {"title": "At (HH:MM)", "type": "string", "default": "12:00",
                   "x-show-if": _repeat_is("daily"),
                   "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                   "x-error": "must be a time of day such as 07:30",
                   "description": "The time of day of a `daily` repeat, 24-hour."},
            "days": {"title": "On days", "type": "array", "x-show-if": _repeat_is("daily"),
                     "minItems": 1, "items": {"enum": list(DAYS)}, "default": list(DAYS),
                     "description": "The weekdays of a `daily` repeat."},
            "time_zone": {"title": "Time zone", "type": "string", "x-time-zone": True,
                          "default": "", "x-show-if": _repeat_is("cron", "daily"),
                          "description": "The zone of `cron` and `at`, an IANA name such "
                                         "as Europe/Berlin; empty: the device's zone."},
        },
        "if": _repeat_is("cron"),
        "then": {"required": ["cron"]},
    }

    async def start(self) -> None:
        self._properties = [(PropertyPath(item["property"]), TypedValue(item["value"], self))
                            for item in self.config["properties"]]
        # The common case: each property a plain name and a value that is always there
        # (no context key that may be absent, no expression that may fail) and needs no
        # message: the literals are set at once, the rest (the time) one by one.
        self._literals: dict[str, Any] = {}
        self._plain: list[tuple[str, Callable[[Message], Any]]] | None = None
        if all(path.name is not None and value.kind in ALWAYS_THERE
               for path, value in self._properties):
            last = {path.name: value for path, value in self._properties
                    if path.name is not None}  # a name set twice: the last one counts
            self._literals = {name: value.value for name, value in last.items()
                              if value.kind in LITERALS}
            self._plain = [(name, value.get) for name, value in last.items()
                           if name not in self._literals]
        self._schedule = _schedule_of(self.config)
        if self.config["once"]:
            self.call_later(self.config["once_delay"], self._first)
        else:
            self._repeat()

    def wall_clock(self) -> float:
        """Seconds since 1970 now, for the schedules (a test's subclass has its own)."""
        return time.time()

    def on_input(self, msg: Message) -> None:
        self.inject()  # the editor's button: the configured message, now

    def inject(self) -> None:
        """Build the message, property by property, and send it."""
        msg: Message = {"_msgid": new_msgid(), "ts": time.time()}
        plain = self._plain
        if plain is not None:
            msg.update(self._literals)
            for name, get in plain:
                msg[name] = get(msg)
        elif not self._set_properties(msg):
            return
        if "topic" not in msg:
            msg["topic"] = ""
        self.send(msg)

    def _set_properties(self, msg: Message) -> bool:
        """Set each property by its path; False (and an error) if an expression failed."""
        try:
            for path, value in self._properties:
                found = value.get(msg)
                if found is not MISSING and not path.set(msg, found):
                    self.warn(f"cannot set msg.{path.text}: a part of the way is not an "
                              f"object or list")
        except ExpressionError as exc:
            self.error(str(exc), msg)
            return False
        return True

    def _first(self) -> None:
        self.inject()
        self._repeat()

    def _repeat(self) -> None:
        if self.config["repeat"] == "interval":
            interval = self.config["interval"]
            self._every(interval, asyncio.get_running_loop().time() + interval)
        elif self._schedule is not None:
            self._wait_for(self._next_time(self.wall_clock()))

    def _every(self, interval: float, due: float) -> None:
        """Fire at due, due + interval, ...: the loop's clock, so no drift; after a
        stall it goes on from now instead of firing the missed ones in a burst."""
        now = asyncio.get_running_loop().time()
        if due < now - interval:
            due = now
        self.call_later(due - now, self._interval_due, interval, due)

    def _interval_due(self, interval: float, due: float) -> None:
        self.inject()
        self._every(interval, due + interval)

    def _next_time(self, now: float) -> float:
        assert self._schedule is not None
        moment = datetime.fromtimestamp(now, UTC)
        return self._schedule.next_after(moment).timestamp()

    def _wait_for(self, due: float) -> None:
        """Wait until the wall clock says ``due``, asking it again at least every
        LONGEST_WAIT seconds (it may be stepped, or the device suspended)."""
        wait = due - self.wall_clock()
        self.call_later(min(max(wait, 0.0), LONGEST_WAIT), self._check, due)

    def _check(self, due: float) -> None:
        now = self.wall_clock()
        if now < due - EARLY:
            self._wait_for(due)  # not yet (a long wait's step, or the clock went back)
            return
        self.inject()
        self._wait_for(self._next_time(max(now, due)))


def _schedule_of(config: dict[str, Any]) -> CronSchedule | None:
    """The cron schedule of a `cron` or `daily` repeat, in its zone."""
    if config["repeat"] == "cron":
        return CronSchedule(config["cron"], config["time_zone"])
    if config["repeat"] == "daily":
        hours, minutes = config["at"].split(":")
        days = ",".join(str(CRON_DAYS[day]) for day in config["days"])
        return CronSchedule(f"{int(minutes)} {int(hours)} * * {days}", config["time_zone"])
    return None
