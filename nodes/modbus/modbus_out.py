"""modbus-out: write a message's payload to points of one unit, one write at a time per
connection, each confirmed by the device's answer before the next message is taken."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from portless.nodes.link_state import LinkState
from portless.nodes.modbus.modbus_connection import ModbusConnection
from portless.nodes.modbus.modbus_points import (
    DEVICE_FIELDS,
    Point,
    point_problems,
    point_schema,
    points_description,
    with_defaults,
)
from portless.nodes.modbus.modbus_reasons import ModbusFailure
from portless.nodes.modbus.modbus_types import encode_value
from portless.runtime import Message, Node

WRITABLE = ("coil", "holding-register")
MAX_POINTS = 1000


class ModbusOut(Node):
    type = "modbus-out"
    category = "output"
    color = "#e2d96e"
    icon = "gauge"
    inputs = 1
    outputs = 0
    input_queue_size = 100
    schema = {
        "title": "Modbus out",
        "description": (
            "Writes `msg.payload` to a point of one unit: with one point the payload is "
            "its value; with several, an object {name: value} naming those to write "
            "(in the order of the points). Each value is checked against its type "
            "before anything is written: one that does not fit (70000 for an int16, "
            "1.5 for an int16 without a scale, text too long for its registers, NaN) "
            "is refused with an error naming the field, never truncated. Writes go "
            "one at a time per connection and each waits for the device's answer; a "
            "refused or unanswered write is an error tied to its message, so a catch "
            "node can act on it. A coil is written with function 5 (15 with "
            "`always_write_multiple`), one register with 6, more with 16."),
        "type": "object",
        "additionalProperties": False,
        "required": ["connection", "points"],
        "properties": {
            **DEVICE_FIELDS,
            "always_write_multiple": {
                "title": "Always write multiple", "type": "boolean", "default": False,
                "description": "Use function 15 or 16 for a single coil or register too "
                               "(some devices take only those)."},
            "points": {"title": "Points", "type": "array", "minItems": 1,
                       "maxItems": MAX_POINTS,
                       "items": point_schema(deadband=False, tables=WRITABLE),
                       "description": points_description(deadband=False, tables=WRITABLE)},
        },
    }

    @classmethod
    def config_errors(cls, config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        return point_problems(with_defaults(config["points"], deadband=False))

    async def start(self) -> None:
        config = self.config
        self._connection = cast(ModbusConnection, self.shared_node(config["connection"]))
        self._points = [Point.of(p) for p in with_defaults(config["points"], deadband=False)]
        self._unit = config["unit"]
        self._multiple = config["always_write_multiple"]
        self.written = 0
        """Writes the device confirmed since start."""
        self._unlisten = self._connection.attach(self._unit, self._on_unit)

    async def stop(self) -> None:
        self._unlisten()

    async def on_input(self, msg: Message) -> None:
        try:
            writes = self._encoded(msg.get("payload"))
        except ValueError as exc:
            self.error(f"{exc}; nothing written", msg)
            return
        done: list[str] = []
        async with self._connection.write_lock:  # one write at a time per connection
            for point, values in writes:
                try:
                    await self._connection.write(self._unit, point.table, point.address,
                                                 values, self._multiple)
                except ModbusFailure as failure:
                    self.error(self._failed(point, failure.reason, done), msg)
                    return
                done.append(point.name)
                self.written += 1

    def _encoded(self, payload: Any) -> list[tuple[Point, list[int] | bool]]:
        """The writes ``payload`` asks for, every value checked first; ValueError naming
        the field when one is missing, unknown or does not fit."""
        if len(self._points) == 1:
            values = {self._points[0].name: payload}
            field = {self._points[0].name: "msg.payload"}
        elif isinstance(payload, dict):
            known = {point.name for point in self._points}
            unknown = [name for name in payload if name not in known]
            if unknown:
                raise ValueError(f"msg.payload.{unknown[0]}: no point of that name (the "
                                 f"points are {', '.join(sorted(known))})")
            if not payload:
                raise ValueError("msg.payload is an empty object: name a point to write")
            values = payload
            field = {name: f"msg.payload[{name!r}]" for name in payload}
        else:
            raise ValueError("msg.payload must be an object {point name: value} for a "
                             "node with several points")
        writes = []
        for point in self._points:
            if point.name not in values:
                continue
            try:
                writes.append((point, encode_value(values[point.name], point.type,
                                                   point.order, point.registers,
                                                   point.scale, point.offset)))
            except ValueError as exc:
                raise ValueError(f"{field[point.name]} (point {point.name!r}, "
                                 f"{point.type}): {exc}") from None
        return writes

    def _failed(self, point: Point, reason: str, done: list[str]) -> str:
        table = point.table.replace("-", " ")
        text = f"unit {self._unit} did not take the write of {point.name!r} ({table} " \
               f"{point.address}): {reason}"
        if done:
            text += f"; written before it: {', '.join(done)}"
        return text

    def _on_unit(self, state: LinkState) -> None:
        self.status(state.fill, state.text, "dot" if state.connected else "ring")
