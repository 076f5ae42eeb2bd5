"""Metric: one metric of a Sparkplug B payload, as portless holds it (no protobuf here:
payload.py encodes and decodes it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # protobuf is imported with the payloads (payload.py)
    from portless.nodes.sparkplug.metric_properties import Property


@dataclass(frozen=True)
class Metric:
    """One metric of a payload. ``name`` on births and commands, ``alias`` on data;
    ``value`` None with ``datatype`` set is a null value (``is_null``)."""

    datatype: str
    value: Any = None
    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None
    """ms since the epoch: when the value was taken."""
    is_historical: bool = False
    is_transient: bool = False
    with_datatype: bool = True
    """Whether the datatype goes on the wire (births always; data messages not)."""
    properties: tuple[Property, ...] = ()
    """Its PropertySet (births only)."""
