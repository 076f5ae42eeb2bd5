"""portless-example-scale: an example third-party node type for portless.

``scale`` turns a raw reading into engineering units: ``value * factor + offset``,
optionally rounded. It is deliberately small, so the whole shape of a plugin (schema,
lifecycle, hot path, registration, tests) fits on one screen.

A plugin imports only from ``portless.runtime``, the public API.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from portless.runtime import MISSING, Message, Node, PropertyPath

__all__ = ["Scale"]
__version__ = "0.1.0"


class Scale(Node):
    """``payload = value * factor + offset``, in place, on the same message object."""

    type = "scale"
    category = "function"
    color = "#e6c28a"
    icon = "scale"
    inputs = 1
    outputs = 1
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Scale",
        "description": (
            "Scales a number: `value * factor + offset`, optionally rounded, written back to "
            "the property it was read from (`msg.payload` unless `property` says otherwise). "
            "Use it to turn raw readings (ADC counts, millivolts) into engineering units. "
            "A message whose value is not a number (a string, a boolean, null or missing) is "
            "dropped with a warning naming the value."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "factor": {"title": "Factor", "type": "number", "default": 1,
                       "description": "Multiplier applied to the value first."},
            "offset": {"title": "Offset", "type": "number", "default": 0,
                       "description": "Added after multiplying by `factor`."},
            "property": {
                "title": "Property", "type": "string", "default": "payload",
                "x-property-path": True,
                "description": (
                    "Message property holding the value, and receiving the result: "
                    "`payload`, or a path such as `payload.temperature` or "
                    "`payload.values[2]`.")},
            "round": {
                "title": "Round to decimals", "type": ["integer", "null"], "minimum": 0,
                "maximum": 15, "default": None,
                "description": (
                    "Round the result to this many decimal places; 0 gives a whole number "
                    "(an integer); null (the default) leaves it unrounded.")},
        },
    }

    async def start(self) -> None:
        # Everything that can be worked out once is worked out here, so that on_input is
        # a handful of plain operations (it runs hundreds of thousands of times a second).
        path = PropertyPath(self.config["property"])  # parsed once, used per message
        self._path = path.text
        self._get: Callable[[Message], Any] = path.get
        self._set: Callable[[Message, Any], bool] = path.set
        # A top-level property (``payload``) is written with one dict store, no call.
        self._key: str | None = path.key
        self._factor: int | float = self.config["factor"]
        self._offset: int | float = self.config["offset"]
        self._decimals: int | None = self.config["round"]

    def on_input(self, msg: Message) -> None:
        value = self._get(msg)
        kind = type(value)
        # Exact type checks first: the common case costs two identity tests. bool is a
        # subclass of int, so True/False fall through to _is_number and are refused.
        if kind is not float and kind is not int and not _is_number(value):
            self._refuse(value)
            return
        result = value * self._factor + self._offset
        decimals = self._decimals
        if decimals is not None:
            result = round(result, decimals) if decimals else _whole(result)
        key = self._key
        if key is not None:
            msg[key] = result
        elif not self._set(msg, result):  # a container that takes no write (a tuple)
            self.warn(f"msg.{self._path} cannot be written; message dropped")
            return
        self.send(msg)

    def _refuse(self, value: Any) -> None:
        """Report a value that is not a number (the rare path, so formatting is fine)."""
        if value is MISSING:
            self.warn(f"msg.{self._path} is missing; message dropped")
            return
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        self.warn(f"msg.{self._path} is not a number: {shown} "
                  f"({type(value).__name__}); message dropped")


def _is_number(value: Any) -> bool:
    """A real number other than a bool (int and float subclasses, Fraction, numpy scalars)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _whole(value: Any) -> Any:
    """Round to an integer; NaN and the infinities have none, so they pass unchanged."""
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return round(value)
