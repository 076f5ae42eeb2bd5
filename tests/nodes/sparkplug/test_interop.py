"""Interoperability with an independent Sparkplug B implementation, pysparkplug (its own
generated protobuf code and value coding): it decodes what portless encodes, portless
decodes what it encodes, datatype by datatype, and it reads a whole session of a
running edge node off a real mosquitto.

One known difference: pysparkplug 0.6.1 refuses a negative Int8 or Int16 sent the
way the specification's reference implementation (Eclipse Tahu) and Ignition send it,
sign-extended to 32 bits (its issue #26, open); portless reads both forms.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import pysparkplug as sp
import pysparkplug._protobuf as their_protobuf
import pytest

from portless.nodes.sparkplug.metric_properties import Property
from portless.nodes.sparkplug.payload import Metric, decode_payload, encode_payload
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import born, edge_flow
from tests.nodes.sparkplug.test_payload import ROUND_TRIPS
from tests.sparkplug_host import SparkplugHost

TYPES = {name.replace("_", "").lower(): member for name, member in sp.DataType.__members__.items()}


def their_type(datatype: str) -> sp.DataType:
    return TYPES[datatype.lower()]


def plain(value: Any) -> Any:
    """pysparkplug's value as portless gives it: lists, and ms for DateTime."""
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


TABLE = [(datatype, value) for datatype, value, _, _ in ROUND_TRIPS
         if datatype != "StringArray" or value]  # pysparkplug cannot encode []


def refused_by_them(datatype: str, value: Any) -> bool:
    return datatype in ("Int8", "Int16") and value < 0


@pytest.mark.parametrize(("datatype", "value"), TABLE,
                         ids=[f"{d}={v!r}"[:40] for d, v in TABLE])
def test_pysparkplug_reads_what_portless_writes(datatype: str, value: Any) -> None:
    data = encode_payload([Metric(datatype, value, name="m", alias=1, timestamp=5)], 7, 0)
    if refused_by_them(datatype, value):
        with pytest.raises(OverflowError):
            sp.NBirth.decode(data)
        return
    (metric,) = sp.NBirth.decode(data).metrics
    assert (metric.name, metric.alias, metric.datatype) == ("m", 1, their_type(datatype))
    assert same(plain(metric.value), value)


@pytest.mark.parametrize(("datatype", "value"), TABLE,
                         ids=[f"{d}={v!r}"[:40] for d, v in TABLE])
def test_portless_reads_what_pysparkplug_writes(datatype: str, value: Any) -> None:
    theirs = value
    if datatype == "DateTime":
        theirs = datetime.datetime.fromtimestamp(value / 1000, datetime.UTC)
    elif datatype == "DateTimeArray":
        theirs = tuple(datetime.datetime.fromtimestamp(v / 1000, datetime.UTC) for v in value)
    elif isinstance(value, list):
        theirs = tuple(value)
    birth = sp.NBirth(timestamp=7, seq=0, metrics=(
        sp.Metric(timestamp=5, name="m", datatype=their_type(datatype), value=theirs,
                  alias=1),))
    (metric,) = decode_payload(birth.encode(include_dtypes=True)).metrics
    assert (metric.name, metric.alias, metric.datatype) == ("m", 1, datatype)
    assert same(metric.value, value)


def test_portless_reads_a_null_and_flags_from_pysparkplug() -> None:
    data = sp.NData(timestamp=7, seq=3, metrics=(
        sp.Metric(timestamp=5, name=None, alias=4, datatype=sp.DataType.DOUBLE,
                  is_null=True, is_historical=True, is_transient=True),)).encode()
    (metric,) = decode_payload(data, {4: "Double"}).metrics
    assert (metric.value, metric.is_historical, metric.is_transient) == (None, True, True)


def test_pysparkplug_reads_metric_properties() -> None:
    properties = (Property("engUnit", "String", "m3/h"), Property("engLow", "Float", -1.5),
                  Property("engHigh", "UInt32", 4000000000), Property("readOnly", "Boolean",
                                                                       True),
                  Property("Quality", "Int32", 192), Property("Offset", "Int16", -2))
    data = encode_payload([Metric("Double", 2.0, name="Flow", alias=1, timestamp=5,
                                  properties=properties)], 7, 0)
    (metric,) = sp.NBirth.decode(data).metrics  # its model has no properties, but reads
    assert (metric.name, metric.value) == ("Flow", 2.0)
    # Its own generated protobuf code reads the property set, type by type.
    (theirs,) = their_protobuf.Payload.FromString(data).metrics
    assert list(theirs.properties.keys) == [p.name for p in properties]
    values = theirs.properties.values
    assert [sp.DataType(v.type).name for v in values] == [
        "STRING", "FLOAT", "UINT32", "BOOLEAN", "INT32", "INT16"]
    assert [values[0].string_value, values[1].float_value, values[2].int_value,
            values[3].boolean_value, values[4].int_value] == \
        ["m3/h", -1.5, 4000000000, True, 192]
    assert values[5].int_value == (1 << 32) - 2  # sign-extended, as for metric values


@pytest.mark.broker
async def test_pysparkplug_reads_a_whole_session(mosquitto: Mosquitto) -> None:
    document = edge_flow(mosquitto.port, outs=[
        {"metric": "Flow", "datatype": "Double",
         "properties": [{"name": "engUnit", "value": "m3/h"}]},
        {"device": "pump-1", "metric": "Speed", "datatype": "UInt16"},
        {"device": "pump-1", "metric": "Tags", "datatype": "StringArray"}])
    async with SparkplugHost(mosquitto.port) as host:
        async with FlowHarness(document) as h:
            await born(h, host)
            h.inject("out0", {"payload": 12.5})
            h.inject("out1", {"payload": 900})
            h.inject("out2", {"payload": ["a", "b"]})
            h.inject("out1", {"death": True})
            await host.wait_for("DDEATH")
        await host.wait_for("NDEATH")
    births: dict[str, sp.Birth] = {}
    decoded: list[tuple[str, Any]] = []
    for received in host.watcher.received:
        verb = received.topic.split("/")[2]
        device = received.topic.split("/", 4)[4] if verb[0] == "D" else ""
        kind = {"NBIRTH": sp.NBirth, "DBIRTH": sp.DBirth, "NDATA": sp.NData,
                "DDATA": sp.DData, "NDEATH": sp.NDeath, "DDEATH": sp.DDeath}[verb]
        payload = kind.decode(received.payload, birth=births.get(device))
        if verb.endswith("BIRTH"):
            births[device] = payload
        if verb == "NBIRTH":
            (flow,) = [m for m in their_protobuf.Payload.FromString(received.payload).metrics
                       if m.name == "Flow"]
            assert (list(flow.properties.keys), flow.properties.values[0].string_value) == \
                (["engUnit"], "m3/h")
        metrics = (payload.bd_seq_metric,) if verb == "NDEATH" \
            else getattr(payload, "metrics", ())  # a DDEATH has none
        decoded.append((verb, [(m.name, plain(m.value)) for m in metrics]))
    assert decoded == [
        ("NBIRTH", [("bdSeq", 0), ("Node Control/Rebirth", False),
                    ("Node Control/Next Server", False), ("Flow", None)]),
        ("DBIRTH", [("Speed", None), ("Tags", None)]), ("DBIRTH", []),
        ("NDATA", [("Flow", 12.5)]), ("DDATA", [("Speed", 900)]),
        ("DDATA", [("Tags", ["a", "b"])]), ("DDEATH", []), ("NDEATH", [("bdSeq", 0)])]
