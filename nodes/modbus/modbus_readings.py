"""What a poll group knows of each point: its value, quality and timestamp, and whether
a new reading is worth sending (its deadband, a change of quality).

Quality is ``good`` (read at ``timestamp``), ``stale`` (the poll that should have
refreshed it has not finished: the value and timestamp are those of the last good
read) or ``bad: <reason>`` (the read failed; the value is null and the timestamp is
that of the attempt), so a filter or Sparkplug downstream can tell a dead value from
an unchanged one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from portless.nodes.modbus.modbus_points import Block, Point
from portless.nodes.modbus.modbus_types import decode_registers, scaled

Value = int | float | str | bool | None


@dataclass
class Reading:
    value: Value = None
    quality: str = "bad: not read yet"
    timestamp: int | None = None


class Readings:
    """The readings of a poll group's points, by name, and what changed in a poll."""

    def __init__(self, points: Sequence[Point]) -> None:
        self.points = {point.name: point for point in points}
        self.current = {point.name: Reading() for point in points}
        self._sent: dict[str, Reading] = {}
        self.bad = len(points)  # points whose last read failed (or that were never read)

    def take(self, block: Block, words: Sequence[int] | Sequence[bool], timestamp: int
             ) -> list[str]:
        """Decode a block's answer into its points; the names worth sending."""
        changed = []
        for point in block.points:
            start = point.address - block.address
            if point.type == "bool":
                value: Value = bool(words[start])
                quality = "good"
            else:
                value, quality = _decoded(point, words[start:start + point.size])
            if self._update(point.name, Reading(value, quality, timestamp)):
                changed.append(point.name)
        return changed

    def fail(self, block: Block, reason: str, timestamp: int) -> list[str]:
        """A block's read failed: its points are bad; the names worth sending."""
        return [point.name for point in block.points
                if self._update(point.name, Reading(None, f"bad: {reason}", timestamp))]

    def overdue(self) -> list[str]:
        """A poll was skipped: good points become stale; the names worth sending."""
        return [name for name, reading in self.current.items() if reading.quality == "good"
                and self._update(name, Reading(reading.value, "stale", reading.timestamp))]

    def _update(self, name: str, reading: Reading) -> bool:
        """Keep the new reading; True if it is worth sending (and so counted as sent)."""
        self.bad += reading.quality.startswith("bad") - \
            self.current[name].quality.startswith("bad")
        self.current[name] = reading
        sent = self._sent.get(name)
        if sent is None or sent.quality != reading.quality or \
                (reading.quality == "good" and _moved(sent.value, reading.value,
                                                      self.points[name].deadband)):
            self._sent[name] = reading
            return True
        return False


def _decoded(point: Point, words: Sequence[int]) -> tuple[Value, str]:
    raw = decode_registers(words, point.type, point.order)
    if isinstance(raw, str):
        return raw, "good"
    value = scaled(raw, point.scale, point.offset)
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"bad: not a finite number ({value})"
    return value, "good"


def _moved(before: Value, after: Value, deadband: float | None) -> bool:
    """Is ``after`` worth sending, given ``before`` was sent?"""
    if deadband is None:
        return True
    if isinstance(before, int | float) and isinstance(after, int | float) \
            and not isinstance(before, bool) and not isinstance(after, bool):
        return abs(after - before) > deadband
    return before != after
