"""Points (a name for a value at an address of a table, with its type and order) as
modbus-in and modbus-out configure them, and the merging of a poll group's points
into as few reads as Modbus allows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portless.nodes.modbus.modbus_types import (
    BIT_TABLES,
    LAST_ADDRESS,
    MAX_WRITE_REGISTERS,
    ORDERS,
    TABLES,
    TYPES,
    register_count,
)
from portless.runtime import fields_are
from portless.runtime.config import fill_defaults

NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]+$"


DEVICE_FIELDS: dict[str, Any] = {
    "connection": {"title": "Connection", "type": "string", "x-ref": "modbus-connection",
                   "description": "The modbus-connection of the device."},
    "unit": {"title": "Unit id", "type": "integer", "minimum": 0, "maximum": 255,
             "default": 1,
             "description": "The device (slave) id on the line or behind the gateway; "
                            "many TCP devices answer any."},
}
"""The fields that say which device a modbus-in or modbus-out talks to."""


def points_description(deadband: bool, tables: Sequence[str] = TABLES) -> str:
    """The point fields in a sentence, for the node reference (which lists only the
    config's own fields)."""
    return (f"Each point: `name`; `table` ({', '.join(tables)}; default holding-register); "
            f"`address` (0 to 65535, the protocol address); `type` ({', '.join(TYPES)}; "
            f"default uint16); `registers` (a string's length); `order` "
            f"({', '.join(ORDERS)}; default ABCD); `scale` and `offset` (value = raw * "
            f"scale + offset)" + ("; `deadband` (null: send every read)." if deadband
                                  else ".") + " See docs/modbus.md.")


def point_schema(deadband: bool, tables: Sequence[str] = TABLES) -> dict[str, Any]:
    """The JSON Schema of one point; ``deadband`` for a point that is read."""
    properties: dict[str, Any] = {
        "name": {"title": "Name", "type": "string", "minLength": 1, "maxLength": 200,
                 "pattern": NAME_PATTERN, "x-error": "must be a name without control "
                                                     "characters (1 to 200 characters)",
                 "description": "The message topic (or key) of the value."},
        "table": {"title": "Table", "enum": list(tables), "default": "holding-register",
                  "description": "Which of the device's tables the address is in."},
        "address": {"title": "Address", "type": "integer", "minimum": 0,
                    "maximum": LAST_ADDRESS,
                    "description": "The protocol address, from 0 (holding register "
                                   "40001 of a data sheet is 0)."},
        "type": {"title": "Type", "enum": list(TYPES), "default": "uint16",
                 "description": "bool for coils and discrete inputs; the rest for "
                                "registers (32-bit types take 2, 64-bit 4)."},
        "registers": {"x-show-if": fields_are(type="string"),
                      "title": "String length (registers)", "type": "integer",
                      "minimum": 1, "maximum": MAX_WRITE_REGISTERS, "default": 1,
                      "description": "string only: registers it takes, 2 bytes each "
                                     "(UTF-8; it ends at the first NUL)."},
        "order": {"title": "Byte order", "enum": list(ORDERS), "default": "ABCD",
                  "description": "ABCD big-endian; CDAB words swapped; BADC bytes "
                                 "swapped; DCBA both. 16-bit types and strings use "
                                 "only the byte swap."},
        "scale": {"title": "Scale", "type": "number", "default": 1,
                  "description": "value = raw * scale + offset (not 0)."},
        "offset": {"title": "Offset", "type": "number", "default": 0,
                   "description": "Added after the scale."},
    }
    if deadband:
        properties["deadband"] = {
            "title": "Deadband", "type": ["number", "null"], "minimum": 0, "default": None,
            "description": "null: send every read; a number: send only when the value "
                           "moved by more than this since it was last sent (a text or "
                           "bool: when it changed), or its quality changed."}
    return {"type": "object", "additionalProperties": False, "required": ["name", "address"],
            "properties": properties}


@dataclass(frozen=True)
class Point:
    name: str
    table: str
    address: int
    type: str
    registers: int
    order: str
    scale: float
    offset: float
    deadband: float | None = None

    @property
    def size(self) -> int:
        """Registers (or bits) the point takes."""
        return register_count(self.type, self.registers)

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Point:
        return cls(config["name"], config["table"], config["address"], config["type"],
                   config["registers"], config["order"], config["scale"], config["offset"],
                   config.get("deadband"))


@dataclass(frozen=True)
class Block:
    """One read: ``count`` registers (or bits) of ``table`` from ``address``."""

    table: str
    address: int
    count: int
    points: tuple[Point, ...]


def with_defaults(points: Sequence[Mapping[str, Any]], deadband: bool) -> list[dict[str, Any]]:
    """The points with their schema's defaults filled in (the runtime fills in only
    the config's own fields, not those of list items)."""
    schema = point_schema(deadband)
    filled = []
    for point in points:
        copy = dict(point)
        fill_defaults(schema, copy)
        filled.append(copy)
    return filled


def point_problems(points: Sequence[Mapping[str, Any]], field: str = "points"
                   ) -> Iterator[tuple[str, str]]:
    """What a list of valid points gets wrong together (pointer, sentence)."""
    names: dict[str, int] = {}
    for index, point in enumerate(points):
        where = f"/{field}/{index}"
        bits = point["table"] in BIT_TABLES
        if bits != (point["type"] == "bool"):
            yield (f"{where}/type", "a coil or discrete input is a bool" if bits
                   else f"a {point['table'].replace('-', ' ')} holds a number or a string, "
                        f"not a bool (use a coil)")
        end = point["address"] + register_count(point["type"], point["registers"]) - 1
        if end > LAST_ADDRESS:
            yield (f"{where}/address", f"a {point['type']} at {point['address']} would end "
                                       f"at {end}, past the last address ({LAST_ADDRESS})")
        if point["scale"] == 0:
            yield f"{where}/scale", "must not be 0"
        if point["name"] in names:
            yield (f"{where}/name", f"another point (/{field}/{names[point['name']]}) has "
                                    f"the same name")
        names.setdefault(point["name"], index)


def plan(points: Sequence[Point], max_registers: int, max_bits: int, gap: int = 0
         ) -> list[Block]:
    """The reads that cover ``points``: neighbours of one table merged while a read
    stays within its maximum, reading at most ``gap`` unused addresses between two.
    ValueError if a point alone is larger than a read may be."""
    blocks: list[Block] = []
    for table in TABLES:
        limit = max_bits if table in BIT_TABLES else max_registers
        mine = sorted((point for point in points if point.table == table),
                      key=lambda point: (point.address, -point.size))
        start = end = -1
        members: list[Point] = []
        for point in mine:
            if point.size > limit:
                raise ValueError(f"point {point.name!r} takes {point.size} registers, more "
                                 f"than one read may ask for ({limit})")
            last = point.address + point.size - 1
            if members and point.address - end - 1 <= gap and max(end, last) - start < limit:
                end = max(end, last)
                members.append(point)
                continue
            if members:
                blocks.append(Block(table, start, end - start + 1, tuple(members)))
            start, end, members = point.address, last, [point]
        if members:
            blocks.append(Block(table, start, end - start + 1, tuple(members)))
    return blocks
