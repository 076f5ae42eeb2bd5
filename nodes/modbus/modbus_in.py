"""modbus-in: a poll group, the points of one unit read every interval, in as few
requests as Modbus allows, sent as one message per point or one for them all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

from portless.nodes.link_state import LinkState
from portless.nodes.modbus.modbus_connection import ModbusConnection
from portless.nodes.modbus.modbus_points import (
    DEVICE_FIELDS,
    Point,
    plan,
    point_problems,
    point_schema,
    points_description,
    with_defaults,
)
from portless.nodes.modbus.modbus_readings import Readings
from portless.nodes.modbus.modbus_reasons import ModbusFailure
from portless.nodes.modbus.modbus_types import MAX_READ_REGISTERS
from portless.runtime import Node, fields_are, make_message

MAX_POINTS = 10_000


class ModbusIn(Node):
    type = "modbus-in"
    category = "input"
    color = "#e2d96e"
    icon = "gauge"
    inputs = 0
    outputs = 1
    schema = {
        "title": "Modbus in",
        "description": (
            "Reads a poll group, a list of points of one unit, every `interval` seconds. "
            "Neighbouring points of a table are read together, in as few requests as "
            "Modbus allows (at most 125 registers or 2,000 coils each, or the "
            "connection's lower limit). `output: per-point` sends one message per point "
            "(`topic` the point's name, `payload` its value); `all-points` one message "
            "(`payload` {name: value}, `points` {name: {quality, timestamp}}). Every "
            "value carries `quality` (`good`; `stale` while the poll that should refresh "
            "it is overdue; `bad: <reason>` when its read failed, the payload then null) "
            "and `timestamp` (ms since 1970, of the read). A point is sent when read, "
            "or with a deadband only when it moved by more than that, and always when "
            "its quality changes. A poll that takes longer than the interval says so "
            "in the status and the polls that fall due meanwhile are skipped, never "
            "queued; so are polls while a node downstream has a full queue."),
        "type": "object",
        "additionalProperties": False,
        "required": ["connection", "points"],
        "properties": {
            **DEVICE_FIELDS,
            "interval": {"title": "Interval (s)", "type": "number", "minimum": 0.01,
                         "maximum": 86400, "default": 1,
                         "description": "Time between the starts of two polls."},
            "output": {"title": "Output", "enum": ["per-point", "all-points"],
                       "default": "per-point",
                       "description": "One message per point, or one with all points "
                                      "(sent when any of them is worth sending)."},
            "topic": {"x-show-if": fields_are(output="all-points"),
                      "title": "Topic", "type": "string", "default": "", "maxLength": 65535,
                      "description": "all-points: the message's topic."},
            "merge_gap": {"title": "Merge across gaps (registers)", "type": "integer",
                          "minimum": 0, "maximum": MAX_READ_REGISTERS, "default": 0,
                          "description": "Read up to this many unused addresses between "
                                         "two points to save a request; 0 merges only "
                                         "points that touch (a device may refuse an "
                                         "address it does not have)."},
            "points": {"title": "Points", "type": "array", "minItems": 1,
                       "maxItems": MAX_POINTS, "items": point_schema(deadband=True),
                       "description": points_description(deadband=True)},
        },
    }

    @classmethod
    def config_errors(cls, config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        return point_problems(with_defaults(config["points"], deadband=True))

    async def start(self) -> None:
        config = self.config
        self._connection = cast(ModbusConnection, self.shared_node(config["connection"]))
        points = [Point.of(point) for point in with_defaults(config["points"], deadband=True)]
        limits = self._connection.max_read
        self._blocks = plan(points, limits["registers"], limits["bits"], config["merge_gap"])
        self._readings = Readings(points)
        self._unit = config["unit"]
        self._interval = config["interval"]
        self._all = config["output"] == "all-points"
        self._poll: asyncio.Task[None] | None = None
        self._due = asyncio.get_running_loop().time()
        self._skipped = 0
        self._took = 0.0  # how long the last poll took
        self._started = 0.0  # when the running one started
        self._state = LinkState("yellow", "connecting")
        self._unlisten = self._connection.attach(self._unit, self._on_unit)
        self._timer = self.call_later(0, self._tick)

    async def stop(self) -> None:
        self._unlisten()

    @property
    def requests_per_poll(self) -> int:
        """Reads one poll sends (after merging)."""
        return len(self._blocks)

    def _tick(self) -> None:
        """Start a poll unless the last one is still running; plan the next tick."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._due += self._interval
        if self._due < now:  # fell behind (a stalled loop): skip the ticks missed
            missed = int((now - self._due) // self._interval) + 1
            self._due += missed * self._interval
        self._timer = self.call_later(self._due - now, self._tick)
        if self._state.text == "connecting":  # the first connect: nothing to say yet
            return
        if self._poll is not None:  # still reading: skip, and its values are overdue
            self._skipped += 1
            self._took = max(self._took, now - self._started)
            self._send(self._readings.overdue())
            self._show()
            return
        if self.downstream_saturated():  # a node downstream is full: send nothing more
            self._skipped += 1
            return
        self._poll = self.spawn(self._read(), "poll")

    async def _read(self) -> None:
        self._started = started = asyncio.get_running_loop().time()
        changed: list[str] = []  # sent together at the end: one message a poll for all
        try:
            for block in self._blocks:
                try:
                    words = await self._connection.read(self._unit, block.table,
                                                        block.address, block.count)
                except ModbusFailure as failure:
                    changed += self._readings.fail(block, failure.reason, _now_ms())
                    continue
                changed += self._readings.take(block, words, _now_ms())
            self._send(changed)
        finally:
            self._poll = None
            self._took = asyncio.get_running_loop().time() - started
            self._show()

    def _send(self, names: list[str]) -> None:
        if not names:
            return
        current = self._readings.current
        if self._all:
            msg = make_message({name: reading.value for name, reading in current.items()},
                               self.config["topic"])
            msg["points"] = {name: {"quality": reading.quality,
                                    "timestamp": reading.timestamp}
                             for name, reading in current.items()}
            self.send(msg)
            return
        for name in names:
            reading = current[name]
            msg = make_message(reading.value, name)
            msg["quality"] = reading.quality
            msg["timestamp"] = reading.timestamp
            self.send(msg)

    def _on_unit(self, state: LinkState) -> None:
        first = self._state.text == "connecting" and state.text != "connecting"
        self._state = state
        if first and self._poll is None:  # the first connect: read now, not an interval on
            self._poll = self.spawn(self._read(), "poll")
        self._show()

    def _show(self) -> None:
        """The unit's state; that the poll cannot keep up; how many points are bad."""
        state = self._state
        if self._skipped and self._took > self._interval:
            self.status("yellow", f"cannot keep up: a poll takes {self._took:.2g} s, the "
                                  f"interval is {self._interval:g} s; {self._skipped} "
                                  f"skipped", "ring")
        elif state.connected and self._readings.bad:
            self.status("yellow", f"{state.text}; {self._readings.bad} of "
                                  f"{len(self._readings.current)} points bad", "ring")
        else:
            self.status(state.fill, state.text, "dot" if state.connected else "ring")


def _now_ms() -> int:
    return int(time.time() * 1000)
