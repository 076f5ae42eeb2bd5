"""One Node-RED node being mapped: typed reads of its fields, the notes a mapping makes
about what it approximated, and the id map for the references it carries."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any


class NotConvertible(Exception):
    """A node (or one of its options) that has no portless equivalent; the text says why."""


@dataclass
class Mapped:
    """What a mapping makes of a node: a portless type and config, and, when the node is
    kept but cannot run (a JavaScript function), why it is written disabled."""

    type: str
    config: dict[str, Any]
    kept_disabled: str = ""
    disabled: bool = False
    """Written disabled though converted: it does nothing in Node-RED either."""


@dataclass
class Source:
    """A Node-RED node (its export entry) as a mapping reads it."""

    raw: Mapping[str, Any]
    ids: Callable[[str], str] = str
    """Node-RED id -> portless id, for the references a config holds (links, brokers)."""
    in_subflow: bool = False
    lookup: Callable[[str], Mapping[str, Any] | None] = lambda node_id: None
    """Another node of the export by its Node-RED id (a broker's tls-config)."""
    notes: list[str] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.raw["type"])

    def note(self, text: str) -> None:
        """Record something this conversion does differently from Node-RED."""
        self.notes.append(text)

    def text(self, key: str, default: str = "") -> str:
        value = self.raw.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _number_text(value)
        if not isinstance(value, str):
            raise NotConvertible(f"{key} is a JSON {type(value).__name__}, not a text")
        return value

    def choice(self, key: str, allowed: Collection[str], default: str, what: str) -> str:
        """A field that takes one of ``allowed`` (``default`` when empty or absent);
        any other value is NotConvertible, naming the field."""
        value = self.text(key, default) or default
        if value not in allowed:
            raise NotConvertible(f"{key}: unknown {what} {value!r}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        """A Node-RED boolean, which exports write as true or "true" (and "false")."""
        value = self.raw.get(key, default)
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value) if value is not None else default

    def number(self, key: str, default: float) -> float:
        """A number field, which Node-RED keeps as a text ("250") or a number; an empty
        text is the default, as Node-RED's editor fills it in."""
        value = self.raw.get(key, default)
        if value is None or value == "":
            return default
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            number = float("nan")
        if not math.isfinite(number):
            raise NotConvertible(f"{key} is {value!r}, not a number")
        return number

    def items(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise NotConvertible(f"{key} is a JSON {type(value).__name__}, not a list")
        return value


def whole(number: float) -> float | int:
    """An integral float as an int, as the flow file writes it (250.0 -> 250)."""
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else number


def _number_text(value: float) -> str:
    return str(whole(float(value)))
