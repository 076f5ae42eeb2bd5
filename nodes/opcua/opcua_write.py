"""A value from a message as the OPC UA variant a variable's data type takes, with the
range checked first: a value that does not fit is refused, never truncated."""

from __future__ import annotations

import datetime
import math
from typing import Any

from asyncua import ua

VT = ua.VariantType
INTEGER_RANGES = {
    VT.SByte: (-(2**7), 2**7 - 1), VT.Byte: (0, 2**8 - 1),
    VT.Int16: (-(2**15), 2**15 - 1), VT.UInt16: (0, 2**16 - 1),
    VT.Int32: (-(2**31), 2**31 - 1), VT.UInt32: (0, 2**32 - 1),
    VT.Int64: (-(2**63), 2**63 - 1), VT.UInt64: (0, 2**64 - 1),
}
FLOAT_MAX = 3.4028234663852886e38
"""The largest finite single-precision float."""
SUPPORTED = ("Boolean", *(kind.name for kind in INTEGER_RANGES), "Float", "Double",
             "String", "ByteString", "DateTime")


class NotWritable(ValueError):
    """The value cannot be written as the variable's type (the text says why)."""


def to_variant(value: Any, kind: ua.VariantType) -> ua.Variant:
    """``value`` as a variant of ``kind``; NotWritable if it is not of that type or does
    not fit in it."""
    if kind is VT.Boolean:
        if not isinstance(value, bool):
            raise NotWritable(f"must be true or false for Boolean, not {_shown(value)}")
        return ua.Variant(value, kind)
    if kind in INTEGER_RANGES:
        return ua.Variant(_integer(value, kind), kind)
    if kind in (VT.Float, VT.Double):
        number = _number(value, kind)
        if kind is VT.Float and abs(number) > FLOAT_MAX:
            raise NotWritable(f"{_shown(value)} does not fit Float (at most "
                              f"{FLOAT_MAX:.7g} either way)")
        return ua.Variant(number, kind)
    if kind is VT.String:
        if not isinstance(value, str):
            raise NotWritable(f"must be text for String, not {_shown(value)}")
        return ua.Variant(value, kind)
    if kind is VT.ByteString:
        if not isinstance(value, bytes | bytearray):
            raise NotWritable(f"must be bytes for ByteString, not {_shown(value)}")
        return ua.Variant(bytes(value), kind)
    if kind is VT.DateTime:
        milliseconds = _number(value, kind)
        try:
            moment = datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)
        except (OverflowError, OSError, ValueError):
            raise NotWritable(f"{_shown(value)} ms since 1970 is not a date") from None
        return ua.Variant(moment, kind)
    raise NotWritable(f"cannot write a variable of data type {kind.name}: the types "
                      f"written are {', '.join(SUPPORTED)}")


def _integer(value: Any, kind: ua.VariantType) -> int:
    low, high = INTEGER_RANGES[kind]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotWritable(f"must be a whole number for {kind.name}, not {_shown(value)}")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise NotWritable(f"{_shown(value)} is not a whole number, as {kind.name} "
                              f"needs (it is not rounded)")
        value = int(value)  # 3.0 is 3
    if not low <= value <= high:
        raise NotWritable(f"{_shown(value)} does not fit {kind.name} ({low} to {high})")
    return int(value)


def _number(value: Any, kind: ua.VariantType) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotWritable(f"must be a number for {kind.name}, not {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise NotWritable(f"{_shown(value)} does not fit {kind.name}") from None
    if not math.isfinite(number):
        raise NotWritable(f"{_shown(value)} is not a finite number, as {kind.name} needs here")
    return number


def _shown(value: Any) -> str:
    """A value as a sentence quotes it: short, with its type when that is the point."""
    if isinstance(value, str):
        text = repr(value if len(value) <= 40 else value[:40] + "...")
        return f"the text {text}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:20] + "..." + text[-8:]
    return f"a {type(value).__name__}"
