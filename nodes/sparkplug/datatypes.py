"""Sparkplug B datatype names and MetricValueError, without protobuf: what the node
schemas and config checks need, so that registering the node types stays cheap."""

from __future__ import annotations

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "Int8": (-(1 << 7), (1 << 7) - 1), "Int16": (-(1 << 15), (1 << 15) - 1),
    "Int32": (-(1 << 31), (1 << 31) - 1), "Int64": (-(1 << 63), (1 << 63) - 1),
    "UInt8": (0, (1 << 8) - 1), "UInt16": (0, (1 << 16) - 1),
    "UInt32": (0, (1 << 32) - 1), "UInt64": (0, (1 << 64) - 1),
    "DateTime": (0, (1 << 64) - 1),
}
"""Integer datatypes and the values each can hold (DateTime: ms since the epoch)."""

STRINGS = frozenset({"String", "Text", "UUID"})
PACKED = {"Int8Array": "b", "Int16Array": "h", "Int32Array": "i", "Int64Array": "q",
          "UInt8Array": "B", "UInt16Array": "H", "UInt32Array": "I", "UInt64Array": "Q",
          "FloatArray": "f", "DoubleArray": "d", "DateTimeArray": "Q"}
"""Array datatypes packed as little-endian numbers, with their struct codes."""

DATATYPES: tuple[str, ...] = (*INTEGER_RANGES, "Float", "Double", "Boolean", *sorted(STRINGS),
                              "Bytes", *PACKED, "BooleanArray", "StringArray")
"""The datatypes portless sends and takes (DataSet, Template, File are not supported)."""
PROPERTY_DATATYPES: tuple[str, ...] = (*INTEGER_RANGES, "Float", "Double", "Boolean",
                                       "String", "Text", "UUID")
"""The datatypes a property value can have (PropertyValue carries no bytes)."""


class MetricValueError(ValueError):
    """A value that the metric's datatype cannot carry, or a field that does not decode."""
