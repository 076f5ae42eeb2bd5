"""Sparkplug B payloads: every datatype round-trips, lands in the field the specification
names, with the bytes its examples give; values a datatype cannot carry are refused."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from portless.nodes.sparkplug.datatypes import DATATYPES, MetricValueError
from portless.nodes.sparkplug.metric_values import infer_datatype
from portless.nodes.sparkplug.payload import Metric, decode_payload, encode_payload
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import DataType, Payload

# (datatype, value, the protobuf field, what is in it)
ROUND_TRIPS: list[tuple[str, Any, str, Any]] = [
    ("Int8", -128, "int_value", 0xFFFFFF80), ("Int8", 127, "int_value", 127),
    ("Int8", -1, "int_value", 0xFFFFFFFF),
    ("Int16", -32768, "int_value", 0xFFFF8000), ("Int16", 32767, "int_value", 32767),
    ("Int32", -(1 << 31), "int_value", 0x80000000), ("Int32", (1 << 31) - 1, "int_value",
                                                     0x7FFFFFFF),
    ("Int64", -(1 << 63), "long_value", 1 << 63), ("Int64", -1, "long_value", (1 << 64) - 1),
    ("Int64", (1 << 63) - 1, "long_value", (1 << 63) - 1),
    ("UInt8", 255, "int_value", 255), ("UInt16", 65535, "int_value", 65535),
    ("UInt32", (1 << 32) - 1, "int_value", (1 << 32) - 1),
    ("UInt64", (1 << 64) - 1, "long_value", (1 << 64) - 1), ("UInt64", 0, "long_value", 0),
    ("Float", 1.5, "float_value", 1.5), ("Float", -0.25, "float_value", -0.25),
    ("Double", 12.354213, "double_value", 12.354213),
    ("Double", math.inf, "double_value", math.inf),
    ("Boolean", True, "boolean_value", True), ("Boolean", False, "boolean_value", False),
    ("String", "l/min ünïcode", "string_value", "l/min ünïcode"),
    ("Text", "a\nlonger text", "string_value", "a\nlonger text"),
    ("UUID", "7b1f7c8e-3c4c-4bfa-9a3e-1c2d3e4f5a6b", "string_value",
     "7b1f7c8e-3c4c-4bfa-9a3e-1c2d3e4f5a6b"),
    ("DateTime", 1486144502122, "long_value", 1486144502122),
    ("Bytes", b"\x00\xff\x10", "bytes_value", b"\x00\xff\x10"),
    # The specification's own examples of array bytes (chapter 6, Datatype Details).
    ("Int8Array", [-23, 123], "bytes_value", bytes([0xE9, 0x7B])),
    ("Int16Array", [-30000, 30000], "bytes_value", bytes([0xD0, 0x8A, 0x30, 0x75])),
    ("Int32Array", [-1, 315338746], "bytes_value",
     bytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFA, 0xAF, 0xCB, 0x12])),
    ("Int64Array", [-4270929666821191986, -3601064768563266876], "bytes_value",
     bytes([0xCE, 0x06, 0x72, 0xAC, 0x18, 0x9C, 0xBA, 0xC4,
            0xC4, 0xBA, 0x9C, 0x18, 0xAC, 0x72, 0x06, 0xCE])),
    ("UInt8Array", [23, 250], "bytes_value", bytes([0x17, 0xFA])),
    ("UInt16Array", [30, 52360], "bytes_value", bytes([0x1E, 0x00, 0x88, 0xCC])),
    ("UInt32Array", [52, 3293969225], "bytes_value",
     bytes([0x34, 0x00, 0x00, 0x00, 0x49, 0xFB, 0x55, 0xC4])),
    ("UInt64Array", [52, 16444743074749521625], "bytes_value",
     bytes([0x34, 0, 0, 0, 0, 0, 0, 0, 0xD9, 0x9E, 0x02, 0xD1, 0xB2, 0x76, 0x37, 0xE4])),
    ("DoubleArray", [12.354213, 1022.9123213], "bytes_value",
     bytes.fromhex("d7a205685bb52840") + bytes.fromhex("8e171c6f4cf78f40")),
    ("BooleanArray", [False, False, True, True, False, True, False, False,
                      True, True, False, True], "bytes_value",
     bytes([0x0C, 0x00, 0x00, 0x00, 0x34, 0xD0])),
    ("StringArray", ["ABC", "hello"], "bytes_value",
     bytes([0x41, 0x42, 0x43, 0x00, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x00])),
    ("DateTimeArray", [1486144502122, 0], "bytes_value",
     (1486144502122).to_bytes(8, "little") + bytes(8)),
    ("StringArray", [], "bytes_value", b""),
]


def one_metric(data: bytes) -> Any:
    payload = Payload()
    payload.ParseFromString(data)
    (metric,) = payload.metrics
    return metric


@pytest.mark.parametrize(("datatype", "value", "field", "wire"), ROUND_TRIPS,
                         ids=[f"{row[0]}={row[1]!r}"[:40] for row in ROUND_TRIPS])
def test_every_datatype_round_trips_in_its_field(datatype: str, value: Any, field: str,
                                                 wire: Any) -> None:
    data = encode_payload([Metric(datatype, value, name="m", alias=3, timestamp=5)],
                          timestamp=1000, seq=7)
    metric = one_metric(data)
    assert metric.WhichOneof("value") == field
    assert getattr(metric, field) == wire
    decoded = decode_payload(data)
    assert (decoded.timestamp, decoded.seq) == (1000, 7)
    (back,) = decoded.metrics
    assert back == Metric(datatype, value, name="m", alias=3, timestamp=5)


def test_float_array_holds_32_bit_floats() -> None:
    # The specification's FloatArray example bytes are printed big-endian; little-endian
    # on the wire is what its text (and every implementation) says.
    data = encode_payload([Metric("FloatArray", [1.23, 89.341], name="f")], 1, 0)
    assert one_metric(data).bytes_value == bytes([0xA4, 0x70, 0x9D, 0x3F,
                                                  0x98, 0xAE, 0xB2, 0x42])
    (back,) = decode_payload(data).metrics
    assert back.value == pytest.approx([1.23, 89.341], rel=1e-6)


def test_every_supported_datatype_is_tested() -> None:
    assert {row[0] for row in ROUND_TRIPS} | {"FloatArray"} == set(DATATYPES)


def test_datatype_names_are_the_schemas() -> None:
    """datatypes.py spells the names out so that schemas load without protobuf: they are
    the .proto's enum names, all of them but the kinds portless does not take."""
    unsupported = {"Unknown", "DataSet", "File", "Template", "PropertySet", "PropertySetList"}
    assert len(set(DATATYPES)) == len(DATATYPES)
    assert set(DATATYPES) == set(DataType.keys()) - unsupported


def test_signed_integers_sent_without_sign_extension_read_the_same() -> None:
    payload = Payload()
    metric = payload.metrics.add(name="m", datatype=1)  # Int8
    metric.int_value = 0xFF
    (back,) = decode_payload(payload.SerializeToString()).metrics
    assert back.value == -1


@pytest.mark.parametrize("datatype", ["Int32", "Double", "String", "Boolean", "Int8Array"])
def test_null_values_say_is_null_and_carry_no_value(datatype: str) -> None:
    data = encode_payload([Metric(datatype, None, name="m")], 1, 0)
    metric = one_metric(data)
    assert metric.is_null
    assert metric.WhichOneof("value") is None
    assert decode_payload(data).metrics[0].value is None


def test_historical_and_transient_flags_round_trip() -> None:
    data = encode_payload([Metric("Double", 1.0, alias=1, timestamp=42, is_historical=True,
                                  is_transient=True, with_datatype=False)], 99, 3)
    metric = one_metric(data)
    assert (metric.is_historical, metric.is_transient) == (True, True)
    assert (metric.HasField("datatype"), metric.HasField("name")) == (False, False)
    (back,) = decode_payload(data, {1: "Double"}).metrics
    assert (back.is_historical, back.is_transient, back.timestamp) == (True, True, 42)


def test_data_without_a_datatype_is_read_by_the_births_alias_or_name() -> None:
    data = encode_payload([Metric("Int16", -5, alias=9, with_datatype=False),
                           Metric("Boolean", True, name="Node Control/Rebirth",
                                  with_datatype=False)], 1, 1)
    metrics = decode_payload(data, {9: "Int16", "Node Control/Rebirth": "Boolean"}).metrics
    assert [m.value for m in metrics] == [-5, True]
    with pytest.raises(MetricValueError, match="metric 9: no datatype, and none known"):
        decode_payload(data)


def test_a_timezone_aware_datetime_becomes_ms_since_the_epoch() -> None:
    when = datetime(2017, 2, 3, 17, 55, 2, 122000, tzinfo=UTC)
    data = encode_payload([Metric("DateTime", when, name="t")], 1, 0)
    assert one_metric(data).long_value == 1486144502122
    with pytest.raises(MetricValueError, match="time zone"):
        encode_payload([Metric("DateTime", datetime(2017, 2, 3), name="t")], 1, 0)


REFUSED = [
    ("Int8", 128, "128 is beyond the range of Int8 \\(-128 to 127\\)"),
    ("Int8", -129, "beyond the range of Int8"),
    ("UInt8", -1, "beyond the range of UInt8"),
    ("UInt64", 1 << 64, "beyond the range of UInt64"),
    ("Int32", True, "a Int32 metric cannot carry a boolean"),
    ("Int32", "7", "cannot carry a string"),
    ("Int32", 1.5, "cannot carry a number \\(1.5\\)"),
    ("Double", "1.0", "cannot carry a string"),
    ("Double", False, "cannot carry a boolean"),
    ("Float", 1e39, "beyond the range of a Float"),
    ("Boolean", 1, "cannot carry an integer"),
    ("String", b"x", "cannot carry bytes"),
    ("String", "\ud800", "lone surrogate"),
    ("Bytes", "x", "cannot carry a string"),
    ("Int8Array", [1, 300], "300 is beyond the range of Int8"),
    ("Int8Array", 5, "cannot carry an integer"),
    ("DoubleArray", [1.0, "x"], "holds only numbers"),
    ("BooleanArray", [True, 1], "holds only true and false"),
    ("StringArray", ["a\0b"], "without NUL"),
    ("String", {"deep": [[[]]]}, "cannot carry an object"),
]


@pytest.mark.parametrize(("datatype", "value", "error"), REFUSED)
def test_a_value_of_another_type_is_refused_naming_the_metric(datatype: str, value: Any,
                                                              error: str) -> None:
    with pytest.raises(MetricValueError, match=f"^metric flow: .*{error}"):
        encode_payload([Metric(datatype, value, name="flow")], 1, 0)


def test_a_whole_number_from_json_fits_an_integer_datatype() -> None:
    data = encode_payload([Metric("UInt16", 3.0, name="n")], 1, 0)
    assert one_metric(data).int_value == 3


@pytest.mark.parametrize(("value", "datatype"), [
    (True, "Boolean"), (3, "Int64"), (2.5, "Double"), ("open", "String"), (b"\x01", "Bytes"),
    ([True, False], "BooleanArray"), ([1, 2], "Int64Array"), ([1, 2.5], "DoubleArray"),
    (["a"], "StringArray"), (datetime(2020, 1, 1, tzinfo=UTC), "DateTime")])
def test_datatype_inferred_from_the_first_value(value: Any, datatype: str) -> None:
    assert infer_datatype(value) == datatype


@pytest.mark.parametrize("value", [None, {"a": 1}, [], [1, "a"], object()])
def test_no_datatype_inferred_from_values_sparkplug_has_no_type_for(value: Any) -> None:
    with pytest.raises(MetricValueError, match="set the metric's datatype"):
        infer_datatype(value)


MALFORMED = [
    (b"\xff\xff\xff", "not a Sparkplug B payload"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=99)]).SerializeToString(),
     "unknown datatype 99"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=16)]).SerializeToString(),
     "DataSet is not supported"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=3, string_value="x")])
     .SerializeToString(), "metric m: a Int32 metric carries its value in int_value, "
                           "not in string_value"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=5, int_value=256)])
     .SerializeToString(), "256 is beyond the range of UInt8"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=32, bytes_value=b"\x09\0\0\0\x01")])
     .SerializeToString(), "BooleanArray of 9 values has 2 bytes of bits, not 1"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=24, bytes_value=b"\x01\x02\x03")])
     .SerializeToString(), "multiple of 4 bytes, not 3"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=33, bytes_value=b"abc")])
     .SerializeToString(), "ends with a NUL"),
    (Payload(metrics=[Payload.Metric(name="m", datatype=33, bytes_value=b"\xff\0")])
     .SerializeToString(), "UTF-8"),
]


@pytest.mark.parametrize(("data", "error"), MALFORMED)
def test_malformed_payloads_are_refused_saying_why(data: bytes, error: str) -> None:
    with pytest.raises(MetricValueError, match=error):
        decode_payload(data)


def _field(number: int, data: bytes) -> bytes:
    """One length-delimited protobuf field (written by hand: protobuf itself refuses to
    build a message this deep)."""
    length, size = bytearray(), len(data)
    while True:
        length.append(size & 0x7F | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return bytes([number << 3 | 2]) + bytes(length) + data


def test_a_deeply_nested_payload_is_refused_not_a_crash() -> None:
    # 5,000 templates in metrics in templates: protobuf's depth limit ends the parse.
    metric = b""
    for _ in range(5000):
        metric = _field(18, _field(2, metric))  # Metric.template_value.metrics
    with pytest.raises(MetricValueError, match="not a Sparkplug B payload"):
        decode_payload(_field(2, metric))  # Payload.metrics
