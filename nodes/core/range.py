"""range: scale a number from one range to another (Node-RED's range node)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from portless.nodes.js_values import to_number
from portless.runtime import MISSING, Message, Node, PropertyPath

ACTIONS = ("scale", "clamp", "wrap", "drop")
_isfinite = math.isfinite
_BIG = 2 ** 1023
"""Ints closer to 0 are numbers a float holds (to_number makes the rest infinite)."""
_Scale = Callable[[float], "float | None"]
"""Scales a number, or None where the message is dropped."""


def _limit(title: str, description: str) -> dict[str, Any]:
    return {"title": title, "type": "number", "default": 0, "description": description}


class Range(Node):
    type = "range"
    category = "function"
    color = "#e2d96e"
    icon = "range"
    schema = {
        "title": "Range",
        "description": (
            "Scales a number linearly from the input range (`from_min`..`from_max`) to "
            "the output range (`to_min`..`to_max`), in place, as Node-RED's range node "
            "does: 0..100 to 0..1000 turns 55 into 550. A value outside the input range "
            "is scaled as well, clamped to it, wrapped around it or dropped. A reversed "
            "range (`from_min` above `from_max`) is read the other way round. A message "
            "without the property passes unchanged. A text is read as JavaScript's "
            "`Number()` reads it (`\" 12 \"`, `\"1e3\"`, `\"0x1A\"`), a boolean as 1 or 0. "
            "A whole result is an integer (550, not 550.0), as Node-RED's JSON shows it.\n\n"
            "Differences from Node-RED, on purpose: a value that is no number (`\"abc\"`, "
            "an object) is an error with the message, so a catch node can take it "
            "(Node-RED writes a log line and drops it); an empty text, null and lists are "
            "no numbers (Node-RED's `Number()` reads `\"\"` and null as 0 and `[5]` as 5); "
            "an input range of no width (`from_min` equal to `from_max`) is refused at "
            "start, and a result that is no finite number (`\"Infinity\"` scaled or "
            "wrapped) is an error (Node-RED sends NaN or Infinity, which JSON cannot "
            "carry)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": {
                "title": "Property", "type": "string", "x-property-path": True,
                "default": "payload",
                "description": "The message property holding the number, replaced by "
                               "the scaled one."},
            "action": {
                "title": "Outside the input range", "enum": list(ACTIONS),
                "default": "scale",
                "description": (
                    "`scale`: scale it anyway (beyond the output range); `clamp`: limit "
                    "it to the input range first; `wrap`: wrap it around the input range, "
                    "as an angle wraps (Node-RED's \"roll\"); `drop`: send nothing.")},
            "from_min": _limit("Input from", "One end of the input range."),
            "from_max": {**_limit("Input to", "The other end of the input range."),
                         "default": 100},
            "to_min": _limit("Output from", "What `from_min` becomes."),
            "to_max": {**_limit("Output to", "What `from_max` becomes."), "default": 100},
            "round": {
                "title": "Round to integer", "type": "boolean", "default": False,
                "description": (
                    "Round the result to the nearest integer (a half up, as JavaScript's "
                    "Math.round). As in Node-RED, the output range first shrinks to the "
                    "integers inside it (0.5..100.5 becomes 1..100).")},
        },
    }

    _scale: _Scale

    async def start(self) -> None:
        config = self.config
        low, high = float(config["from_min"]), float(config["from_max"])
        out_low, out_high = float(config["to_min"]), float(config["to_max"])
        if low == high:
            raise ValueError(f"the input range is empty: from_min and from_max are both "
                             f"{config['from_min']}")
        if low > high:  # one orientation, so clamp and wrap need one test each
            low, high, out_low, out_high = high, low, out_high, out_low
        rounding = bool(config["round"])
        if rounding:
            out_low, out_high = math.ceil(out_low), math.floor(out_high)
        width, span = high - low, out_high - out_low
        # Node-RED's arithmetic step by step, so results agree to the last bit.

        def scale(n: float) -> float | None:
            return (n - low) / width * span + out_low

        def clamp(n: float) -> float | None:
            return scale(low if n < low else high if n > high else n)

        def wrap(n: float) -> float | None:  # onto [low, high): high is low again
            return scale(math.fmod(math.fmod(n - low, width) + width, width) + low)

        def drop(n: float) -> float | None:
            return None if n < low or n > high else scale(n)

        self._scale = {"scale": scale, "clamp": clamp, "wrap": wrap,
                       "drop": drop}[config["action"]]
        self._round = rounding
        self._path = PropertyPath(config["property"])
        self._name = self._path.name
        self._where = f"msg.{config['property']}"

    def on_input(self, msg: Message) -> None:
        name = self._name
        value = msg.get(name, MISSING) if name is not None else self._path.get(msg)
        if value is MISSING:
            self.send(msg)
            return
        # A float is its own number (NaN is none), an int one a float holds too;
        # anything else as Number() reads it.
        kind = value.__class__
        if (kind is float and value == value) or (kind is int and -_BIG < value < _BIG):
            number: float | None = value
        else:
            number = to_number(value)
        if number is None:
            self.error(f"{self._where} is not a number: {value!r}", msg)
            return
        result = self._scale(number)
        if result is None:
            return
        if not _isfinite(result):
            self.error(f"{self._where} has no place in the range: {value!r}", msg)
            return
        if self._round:
            whole = math.floor(result)
            scaled: float = whole + 1 if result - whole >= 0.5 else whole
        else:
            scaled = int(result) if result.is_integer() and abs(result) <= 2 ** 53 else result
        if name is not None:
            msg[name] = scaled
        else:
            self._path.set(msg, scaled)
        self.send(msg)
