"""Metric properties: the PropertySet a birth carries with a metric (engineering units,
a description, Quality), from a sparkplug-out's config to the protobuf and back.

A property's value travels in the same fields as a metric's (PropertyValue has the
basic value fields, not bytes), so only the basic datatypes can be properties.
The specification names one property, Quality: an Int32 of 0 (bad), 192 (good) or
500 (stale).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portless.nodes.sparkplug.datatypes import PROPERTY_DATATYPES, MetricValueError
from portless.nodes.sparkplug.metric_values import (
    datatype_name,
    datatype_number,
    get_value,
    infer_datatype,
    set_value,
)
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import Payload

QUALITY = "Quality"
QUALITY_CODES = {0: "bad", 192: "good", 500: "stale"}


@dataclass(frozen=True)
class Property:
    """One property of a metric; ValueError if the datatype cannot carry the value."""

    name: str
    datatype: str
    value: Any

    def __post_init__(self) -> None:
        if self.datatype not in PROPERTY_DATATYPES:
            raise MetricValueError(f"property {self.name}: a property cannot be "
                                   f"{self.datatype}")
        if self.name == QUALITY and (self.datatype != "Int32"
                                     or self.value not in QUALITY_CODES):
            raise MetricValueError(f"property {QUALITY} is an Int32 of 0 (bad), 192 (good) "
                                   f"or 500 (stale), not {self.datatype} {self.value!r}")
        try:
            set_value(Payload.PropertyValue(), self.datatype, self.value)
        except MetricValueError as exc:
            raise MetricValueError(f"property {self.name}: {exc}") from None


def properties_from_config(items: Iterable[Mapping[str, Any]]) -> tuple[Property, ...]:
    """The properties a sparkplug-out's config lists (``name``, ``value``, ``datatype``,
    empty: inferred, Quality Int32); ValueError names the one that is wrong."""
    properties: list[Property] = []
    for item in items:
        name, value = item["name"], item["value"]
        if any(p.name == name for p in properties):
            raise MetricValueError(f"property {name!r} is listed twice")
        datatype = item["datatype"] or ("Int32" if name == QUALITY else infer_datatype(value))
        properties.append(Property(name, datatype, value))
    return tuple(properties)


def write_properties(out: Any, properties: Iterable[Property]) -> None:
    """Fill a protobuf PropertySet (``out``) with ``properties``, each with its type."""
    for prop in properties:
        out.keys.append(prop.name)
        value = out.values.add()
        value.type = datatype_number(prop.datatype)
        set_value(value, prop.datatype, prop.value)


def read_properties(properties: Any) -> tuple[Property, ...]:
    """The properties of a protobuf PropertySet; MetricValueError if one does not decode
    (keys and values of different counts, a type portless does not take)."""
    if len(properties.keys) != len(properties.values):
        raise MetricValueError(f"a property set of {len(properties.keys)} keys and "
                               f"{len(properties.values)} values")
    read = []
    for name, value in zip(properties.keys, properties.values, strict=True):
        datatype = datatype_name(value.type)
        if datatype not in PROPERTY_DATATYPES:
            raise MetricValueError(f"property {name}: a property cannot be {datatype}")
        read.append(Property(name, datatype, get_value(value, datatype)))
    return tuple(read)
