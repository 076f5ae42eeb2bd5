"""Sparkplug B metric values: Python values to the protobuf value fields and back.

Which field carries which datatype, and how, is the specification's (chapter 6,
"Datatype Details"): signed integers travel as their two's complement in the unsigned
field (Int8 to Int32 sign-extended to 32 bits in ``int_value``, Int64 in ``long_value``),
arrays as little-endian packed bytes in ``bytes_value``. Decoding a signed integer
truncates to its width first, so a sender that did not sign-extend (an Int8 -1 as
0xFF) reads the same.
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime
from typing import Any

from portless.nodes.sparkplug.datatypes import (
    DATATYPES,
    INTEGER_RANGES,
    PACKED,
    STRINGS,
    MetricValueError,
)
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import DataType

_LONG = {"Int64", "UInt64", "DateTime"}  # the rest of INTEGER_RANGES travel in int_value


def datatype_number(name: str) -> int:
    """The enum value of a datatype name (``Int8`` → 1)."""
    return int(DataType.Value(name))


def datatype_name(number: int) -> str:
    """The name of a datatype enum value; MetricValueError for one portless does not know."""
    try:
        name = str(DataType.Name(number))
    except ValueError:
        raise MetricValueError(f"unknown datatype {number}") from None
    if name not in DATATYPES:
        raise MetricValueError(f"datatype {name} is not supported")
    return name


def infer_datatype(value: Any) -> str:
    """The datatype a value gets when its metric has none configured: bool → Boolean,
    int → Int64, float → Double, str → String, bytes → Bytes, a list by its items."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, (bytes, bytearray)):
        return "Bytes"
    if isinstance(value, datetime):
        return "DateTime"
    if isinstance(value, list) and value:
        if all(isinstance(item, bool) for item in value):
            return "BooleanArray"
        if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return "Int64Array"
        if all(isinstance(item, (int, float)) and not isinstance(item, bool)
               for item in value):
            return "DoubleArray"
        if all(isinstance(item, str) for item in value):
            return "StringArray"
    raise MetricValueError(f"cannot tell a Sparkplug datatype from {_describe(value)}; "
                           f"set the metric's datatype")


def set_value(metric: Any, datatype: str, value: Any) -> None:
    """Put ``value`` into the protobuf ``metric``'s value field for ``datatype`` (None:
    ``is_null``); MetricValueError, saying why, if the datatype cannot carry it."""
    if value is None:
        metric.is_null = True
        return
    if datatype in INTEGER_RANGES:
        number = _integer(datatype, value)
        bits = 64 if datatype in _LONG else 32
        setattr(metric, "long_value" if bits == 64 else "int_value",
                number & ((1 << bits) - 1))
    elif datatype in ("Float", "Double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong(datatype, value)
        if datatype == "Float" and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
            raise MetricValueError(f"{value!r} is beyond the range of a Float")
        setattr(metric, "float_value" if datatype == "Float" else "double_value", float(value))
    elif datatype == "Boolean":
        if not isinstance(value, bool):
            raise _wrong(datatype, value)
        metric.boolean_value = value
    elif datatype in STRINGS:
        if not isinstance(value, str):
            raise _wrong(datatype, value)
        metric.string_value = _utf8_checked(value)
    elif datatype == "Bytes":
        if not isinstance(value, (bytes, bytearray)):
            raise _wrong(datatype, value)
        metric.bytes_value = bytes(value)
    else:
        metric.bytes_value = _pack_array(datatype, value)


def get_value(metric: Any, datatype: str) -> Any:
    """The Python value of a protobuf ``metric`` of ``datatype`` (None if ``is_null``)."""
    if metric.is_null:
        return None
    field = metric.WhichOneof("value")
    if datatype in INTEGER_RANGES:
        expected = "long_value" if datatype in _LONG else "int_value"
        raw = _field(metric, field, expected, datatype)
        low, high = INTEGER_RANGES[datatype]
        if low < 0:  # two's complement of the type's own width
            bits = high.bit_length() + 1
            raw &= (1 << bits) - 1
            return raw - (1 << bits) if raw > high else raw
        if raw > high:
            raise MetricValueError(f"{raw} is beyond the range of {datatype}")
        return raw
    if datatype in ("Float", "Double"):
        return _field(metric, field, "float_value" if datatype == "Float" else "double_value",
                      datatype)
    if datatype == "Boolean":
        return _field(metric, field, "boolean_value", datatype)
    if datatype in STRINGS:
        return _field(metric, field, "string_value", datatype)
    data = _field(metric, field, "bytes_value", datatype)
    return data if datatype == "Bytes" else _unpack_array(datatype, data)


def _field(metric: Any, field: str | None, expected: str, datatype: str) -> Any:
    if field != expected:
        raise MetricValueError(f"a {datatype} metric carries its value in {expected}, "
                               f"not in {field or 'no field'}")
    return getattr(metric, expected)


def _integer(datatype: str, value: Any) -> int:
    if datatype == "DateTime" and isinstance(value, datetime):
        if value.tzinfo is None:
            raise MetricValueError("a DateTime needs a time zone (a naive datetime is "
                                   "ambiguous)")
        value = round((value - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 3.0 is the integer 3
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(datatype, value)
    low, high = INTEGER_RANGES[datatype]
    if not low <= value <= high:
        raise MetricValueError(f"{value} is beyond the range of {datatype} "
                               f"({low} to {high})")
    return value


def _pack_array(datatype: str, value: Any) -> bytes:
    if not isinstance(value, (list, tuple)):
        raise _wrong(datatype, value)
    if datatype == "BooleanArray":
        if not all(isinstance(item, bool) for item in value):
            raise MetricValueError("a BooleanArray holds only true and false")
        bits = bytearray((len(value) + 7) // 8)
        for index, item in enumerate(value):
            if item:
                bits[index // 8] |= 0x80 >> (index % 8)  # the first value is the top bit
        return struct.pack("<I", len(value)) + bytes(bits)
    if datatype == "StringArray":
        if not all(isinstance(item, str) and "\0" not in item for item in value):
            raise MetricValueError("a StringArray holds strings without NUL characters")
        return b"".join(_utf8_checked(item).encode() + b"\0" for item in value)
    item_type = datatype.removesuffix("Array")
    items: list[int | float]
    if item_type in INTEGER_RANGES:
        items = [_integer(item_type, item) for item in value]
    else:
        if not all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in value):
            raise MetricValueError(f"a {datatype} holds only numbers")
        items = [float(item) for item in value]
    try:
        return struct.pack(f"<{len(items)}{PACKED[datatype]}", *items)
    except (struct.error, OverflowError) as exc:
        raise MetricValueError(f"{datatype}: {exc}") from None


def _unpack_array(datatype: str, data: bytes) -> list[Any]:
    if datatype == "BooleanArray":
        if len(data) < 4:
            raise MetricValueError("a BooleanArray starts with its 4-byte length")
        (count,) = struct.unpack_from("<I", data)
        if len(data) - 4 != (count + 7) // 8:
            raise MetricValueError(f"a BooleanArray of {count} values has "
                                   f"{(count + 7) // 8} bytes of bits, not {len(data) - 4}")
        return [bool(data[4 + i // 8] & (0x80 >> (i % 8))) for i in range(count)]
    if datatype == "StringArray":
        if data and not data.endswith(b"\0"):
            raise MetricValueError("a StringArray ends with a NUL")
        try:
            return [part.decode() for part in data.split(b"\0")[:-1]]
        except UnicodeDecodeError:
            raise MetricValueError("a StringArray holds UTF-8 text") from None
    code = PACKED[datatype]
    size = struct.calcsize(code)
    if len(data) % size:
        raise MetricValueError(f"a {datatype} is a multiple of {size} bytes, not {len(data)}")
    return list(struct.unpack(f"<{len(data) // size}{code}", data))


def _utf8_checked(text: str) -> str:
    try:
        text.encode()
    except UnicodeEncodeError:
        raise MetricValueError("text must be UTF-8 (it holds a lone surrogate)") from None
    return text


def _wrong(datatype: str, value: Any) -> MetricValueError:
    return MetricValueError(f"a {datatype} metric cannot carry {_describe(value)}")


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            bytes: "bytes", list: "a list", dict: "an object"}.get(type(value),
                                                                 type(value).__name__)
    text = repr(value)
    return f"{kind} ({text[:40]}{'…' if len(text) > 40 else ''})"
