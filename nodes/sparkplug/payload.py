"""Sparkplug B payloads: metrics in, protobuf bytes out, and back.

The wire encoding is protobuf's (the ``protobuf`` package and the generated
portless_sparkplug_b_pb2, from the specification's schema); this module only maps
portless's metrics onto it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from portless.nodes.sparkplug.datatypes import MetricValueError
from portless.nodes.sparkplug.metric import Metric
from portless.nodes.sparkplug.metric_properties import read_properties, write_properties
from portless.nodes.sparkplug.metric_values import (
    datatype_name,
    datatype_number,
    get_value,
    set_value,
)
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import Payload


@dataclass(frozen=True)
class Decoded:
    """A payload as read: its timestamp, seq and metrics (datatype from the message, or
    from the birth by alias or name)."""

    timestamp: int | None
    seq: int | None
    metrics: list[Metric]


def encode_payload(metrics: Iterable[Metric], timestamp: int, seq: int | None) -> bytes:
    """The protobuf bytes of a payload; MetricValueError names the metric that failed."""
    payload = Payload(timestamp=timestamp)
    if seq is not None:
        payload.seq = seq
    for metric in metrics:
        out = payload.metrics.add()
        if metric.name is not None:
            out.name = metric.name
        if metric.alias is not None:
            out.alias = metric.alias
        if metric.timestamp is not None:
            out.timestamp = metric.timestamp
        if metric.with_datatype:
            out.datatype = datatype_number(metric.datatype)
        if metric.is_historical:
            out.is_historical = True
        if metric.is_transient:
            out.is_transient = True
        if metric.properties:
            write_properties(out.properties, metric.properties)
        try:
            set_value(out, metric.datatype, metric.value)
        except MetricValueError as exc:
            raise MetricValueError(f"metric {metric.name or metric.alias}: {exc}") from None
    data: bytes = payload.SerializeToString()
    return data


def decode_payload(data: bytes, known: Mapping[str | int, str] | None = None) -> Decoded:
    """Read a payload; ``known`` gives the datatype of metrics that do not carry one
    (by alias or by name, as born). MetricValueError says what does not decode."""
    payload = Payload()
    try:
        payload.ParseFromString(data)
    except DecodeError as exc:
        raise MetricValueError(f"not a Sparkplug B payload: {exc}") from None
    metrics = []
    for metric in payload.metrics:
        name = metric.name if metric.HasField("name") else None
        alias = metric.alias if metric.HasField("alias") else None
        label = name if name is not None else alias
        if metric.HasField("datatype"):
            datatype = datatype_name(metric.datatype)
        else:
            found = (known or {}).get(alias if alias is not None else name or "")
            if found is None:
                raise MetricValueError(f"metric {label}: no datatype, and none known")
            datatype = found
        try:
            value = get_value(metric, datatype)
            properties = read_properties(metric.properties) \
                if metric.HasField("properties") else ()
        except MetricValueError as exc:
            raise MetricValueError(f"metric {label}: {exc}") from None
        metrics.append(Metric(
            datatype, value, name, alias,
            metric.timestamp if metric.HasField("timestamp") else None,
            metric.is_historical, metric.is_transient, metric.HasField("datatype"),
            properties))
    return Decoded(payload.timestamp if payload.HasField("timestamp") else None,
                   payload.seq if payload.HasField("seq") else None, metrics)
