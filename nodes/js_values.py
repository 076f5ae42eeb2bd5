"""JSON values as JavaScript sees them, for nodes that must decide as Node-RED does:
deep equality, ``parseFloat``, ``Number()`` and ``String()``."""

from __future__ import annotations

import math
import re
from typing import Any

# JavaScript's parseFloat: white space, then the longest decimal literal (or Infinity).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_LEADING_NUMBER = re.compile(
    f"[{_JS_SPACE}]*([+-]?(?:Infinity|(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?))")
# JavaScript's Number() of a text: the whole text (white space trimmed) is the number.
_WHOLE_NUMBER = re.compile(
    f"[{_JS_SPACE}]*(?:([+-]?(?:Infinity|(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?))"
    f"|(0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)))[{_JS_SPACE}]*")


def same_value(a: Any, b: Any) -> bool:
    """Deep equality as JavaScript compares JSON values (Node-RED's compareObjects):
    type-sensitive (2 != "2", true != 1) but 1 == 1.0, and object key order ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a.__class__ is b.__class__ and a == b
    if isinstance(a, int | float):
        return isinstance(b, int | float) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if a is None or b is None:
        return a is b
    if isinstance(a, dict):
        return (isinstance(b, dict) and len(a) == len(b)
                and all(k in b and same_value(v, b[k]) for k, v in a.items()))
    if isinstance(a, list | tuple):
        return (isinstance(b, list | tuple) and len(a) == len(b)
                and all(same_value(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, bytes | bytearray):
        return isinstance(b, bytes | bytearray) and a == b
    try:  # datetimes and other values: same type and equal
        return a.__class__ is b.__class__ and bool(a == b)
    except Exception:
        return False


def parse_float(value: Any) -> float:
    """JavaScript's parseFloat: the leading number of the value's string form, or NaN."""
    if value.__class__ is int:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    text = value if value.__class__ is str else js_string(value)
    match = _LEADING_NUMBER.match(text)
    return float(match.group(1)) if match else math.nan


def to_number(value: Any) -> float | None:
    """A number, a boolean (1 or 0) or a text that is a whole number literal as
    JavaScript's ``Number()`` reads it (``" 12 "``, ``"1e3"``, ``"0x1A"``,
    ``"-Infinity"``); None for anything else, including ``""``, null and lists, which
    ``Number()`` would read as 0 or a list's one item."""
    if value.__class__ is float:
        return None if value != value else value
    if isinstance(value, int):  # bool too: True is 1
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if not isinstance(value, str):
        return None
    match = _WHOLE_NUMBER.fullmatch(value)
    if match is None:
        return None
    decimal, radix = match.groups()
    if decimal:
        return float(decimal.replace("Infinity", "inf"))
    try:
        return float(int(radix, 0))
    except OverflowError:  # more hex digits than a double holds: JavaScript's Infinity
        return math.inf


def js_string(value: Any) -> str:
    """A value's string form as JavaScript's String() gives it, for JSON-like values."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 2 ** 53:  # its digits are exact: 12, -0 is 0
            return str(int(value))
        return _number_text(float(value))
    if isinstance(value, list | tuple):
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _number_text(value: float) -> str:
    """A finite double as JavaScript's Number::toString writes it: the shortest digits
    that read back as the value (repr's), in decimal from 1e-6 up to below 1e21, with
    an exponent otherwise ("1e-7", "1.5e+21"; Python writes "1e-07" and "1.5e+21"), and
    a large whole number with zeros after its shortest digits ("1152921504606847000")."""
    digits, exponent = _shortest_digits(abs(value))
    sign = "-" if value < 0 else ""
    count, point = len(digits), len(digits) + exponent  # value = 0.digits * 10**point
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    shown = digits if count == 1 else digits[0] + "." + digits[1:]
    power = point - 1
    return f"{sign}{shown}e{'+' if power > 0 else '-'}{abs(power)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest digits that read back as a positive double, without trailing zeros,
    and the power of ten of the last: 1.5e-07 is ("15", -8)."""
    mantissa, _, power = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    stripped = digits.rstrip("0")
    return stripped, int(power or 0) - len(fraction) + len(digits) - len(stripped)


def loose_equals(a: Any, b: Any) -> bool:
    """JavaScript's ``a == b`` for JSON values (None is null and undefined alike): a
    text equals the number it reads as ("5" == 5), a boolean counts as 1 or 0, a list
    as its joined text ([5] == "5"). Two objects or lists are compared deeply (in
    JavaScript only the same object equals itself), and "" is no number (JavaScript:
    "" == 0)."""
    if a.__class__ is b.__class__ and a.__class__ in _PLAIN:
        return bool(a == b)
    if a is None or b is None:
        return a is b
    if isinstance(a, _CONTAINERS) and isinstance(b, _CONTAINERS):
        return same_value(a, b)
    a, b = _primitive(a), _primitive(b)
    if a.__class__ is str and b.__class__ is str:
        return bool(a == b)
    number_a, number_b = to_number(a), to_number(b)
    return number_a is not None and number_a == number_b


def js_order(a: Any, b: Any) -> int | None:
    """How JavaScript's ``<`` and ``>`` order two JSON values: -1, 0 or 1, or None where
    they have no order (either is no number and they are not both texts). Texts compare
    as texts, anything else as numbers (null and "" are no numbers here; JavaScript
    reads both as 0)."""
    a, b = _primitive(a), _primitive(b)
    if a.__class__ is str and b.__class__ is str:
        return (a > b) - (a < b)
    number_a, number_b = to_number(a), to_number(b)
    if number_a is None or number_b is None:
        return None
    return (number_a > number_b) - (number_a < number_b)


_PLAIN = (str, int, float, bool)
_CONTAINERS = (dict, list, tuple, bytes, bytearray)


def _primitive(value: Any) -> Any:
    """JavaScript's ToPrimitive of a JSON value: an object or list becomes its text."""
    return js_string(value) if isinstance(value, _CONTAINERS) else value


def js_number(value: Any) -> float:
    """JavaScript's ``Number()`` of a JSON value: null, "" and [] are 0, a boolean 1 or
    0, a text or a one-item list the number it reads as, anything else NaN."""
    if value is None or isinstance(value, list | tuple):
        text = "" if value is None else js_string(value)
        return 0.0 if not text.strip(_JS_SPACE_CHARS) else _or_nan(to_number(text))
    if isinstance(value, str) and not value.strip(_JS_SPACE_CHARS):
        return 0.0
    return _or_nan(to_number(value)) if isinstance(value, int | float | str) else math.nan


def _or_nan(number: float | None) -> float:
    return math.nan if number is None else number


_JS_SPACE_CHARS = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
