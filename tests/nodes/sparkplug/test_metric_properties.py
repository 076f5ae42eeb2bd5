"""Metric properties: from a sparkplug-out's config to a birth's PropertySet and back,
each value with its type; Quality as the specification has it; bad sets refused."""

from __future__ import annotations

import re
from typing import Any

import pytest

from portless.nodes.sparkplug.datatypes import PROPERTY_DATATYPES, MetricValueError
from portless.nodes.sparkplug.metric_properties import Property, properties_from_config
from portless.nodes.sparkplug.payload import Metric, decode_payload, encode_payload
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import Payload

VALUES = {"Int8": -3, "Int16": -300, "Int32": -70000, "Int64": -(1 << 40), "UInt8": 200,
          "UInt16": 60000, "UInt32": 4000000000, "UInt64": 1 << 63, "DateTime": 1700000000000,
          "Float": 1.5, "Double": 0.1, "Boolean": True, "String": "m3/h", "Text": "long",
          "UUID": "4f1c0b0e-5f0e-4a7b-9a59-000000000001"}


def test_every_property_datatype_round_trips_with_its_type() -> None:
    assert set(VALUES) == set(PROPERTY_DATATYPES)
    properties = tuple(Property(f"p{datatype}", datatype, value)
                       for datatype, value in VALUES.items())
    data = encode_payload([Metric("Double", 2.0, name="Flow", alias=1, timestamp=1,
                                  properties=properties)], 1, 0)
    (metric,) = decode_payload(data).metrics
    assert metric.properties == properties


@pytest.mark.parametrize(("items", "expected"), [
    ([{"name": "engUnit", "value": "m3/h", "datatype": ""}], ("String", "m3/h")),
    ([{"name": "engHigh", "value": 120, "datatype": ""}], ("Int64", 120)),
    ([{"name": "engLow", "value": 0.5, "datatype": ""}], ("Double", 0.5)),
    ([{"name": "readOnly", "value": True, "datatype": ""}], ("Boolean", True)),
    ([{"name": "Quality", "value": 500, "datatype": ""}], ("Int32", 500)),
    ([{"name": "engHigh", "value": 120, "datatype": "Float"}], ("Float", 120)),
])
def test_a_property_s_datatype_is_given_or_inferred(items: list[dict[str, Any]],
                                                     expected: tuple[str, Any]) -> None:
    (prop,) = properties_from_config(items)
    assert (prop.datatype, prop.value) == expected


@pytest.mark.parametrize(("name", "datatype", "value", "error"), [
    ("Quality", "Int32", 100, "Quality is an Int32 of 0 (bad), 192 (good) or 500"),
    ("Quality", "Int64", 192, "not Int64 192"),
    ("engLow", "UInt8", -1, "property engLow: -1 is beyond the range of UInt8"),
    ("engLow", "Int8Array", [1], "property engLow: a property cannot be Int8Array"),
    ("engLow", "Bytes", b"x", "a property cannot be Bytes"),
    ("engUnit", "String", 5, "property engUnit: a String metric cannot carry an integer"),
])
def test_a_property_its_datatype_cannot_carry_is_refused(name: str, datatype: str,
                                                         value: Any, error: str) -> None:
    with pytest.raises(MetricValueError, match=re.escape(error)):
        Property(name, datatype, value)


def test_a_property_set_of_unequal_keys_and_values_does_not_decode() -> None:
    payload = Payload(timestamp=1, seq=0)
    metric = payload.metrics.add(name="Flow", datatype=10, double_value=1.0)
    metric.properties.keys.extend(["a", "b"])
    metric.properties.values.add(type=12, string_value="x")
    with pytest.raises(MetricValueError, match="metric Flow: a property set of 2 keys and "
                                               "1 values"):
        decode_payload(payload.SerializeToString())
