"""The metrics of one edge node and its devices: names, aliases, datatypes, last values.

A metric's datatype is fixed when it is first known (declared by a sparkplug-out, or
inferred from its first value); a later value of another type is refused. A metric the
latest birth did not carry needs a rebirth before any data message names it, or the
host could not decode it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portless.nodes.sparkplug.datatypes import MetricValueError
from portless.nodes.sparkplug.metric import Metric
from portless.nodes.sparkplug.metric_properties import Property
from portless.nodes.sparkplug.metric_values import infer_datatype, set_value
from portless.nodes.sparkplug.portless_sparkplug_b_pb2 import Payload

RESERVED_PREFIXES = ("Node Control/", "Properties/")
"""Metric names the node itself answers to or reserves (with ``bdSeq``)."""


@dataclass
class Entry:
    """One metric as the node knows it."""

    name: str
    alias: int
    datatype: str | None  # None: declared without one, no value yet
    value: Any = None
    timestamp: int | None = None
    born: bool = False
    """Carried by the latest birth of its node or device."""
    properties: tuple[Property, ...] = ()
    """Its PropertySet, in every birth."""


class MetricBook:
    """Metrics per device ("" is the edge node itself); aliases unique across the node."""

    def __init__(self, devices: Iterable[str]) -> None:
        self._devices: dict[str, dict[str, Entry]] = {"": {}}
        self._devices.update({device: {} for device in devices})
        self._next_alias = 1

    @property
    def devices(self) -> list[str]:
        """The devices, in the order configured."""
        return [device for device in self._devices if device]

    def declare(self, device: str, name: str, datatype: str | None,
                properties: tuple[Property, ...] = ()) -> None:
        """A metric a sparkplug-out will publish; ValueError if it clashes. New
        properties for a metric already born make it wait for a rebirth."""
        metrics = self._metrics(device)
        entry = metrics.get(name)
        if entry is None:
            entry = self._add(metrics, device, name, datatype)
        elif datatype is not None and entry.datatype not in (None, datatype):
            raise ValueError(f"metric {name!r} is already declared as {entry.datatype}")
        elif entry.datatype is None:
            entry.datatype = datatype
        if properties and entry.properties != properties:
            if entry.properties:
                raise ValueError(f"metric {name!r} is already declared with other "
                                 f"properties")
            entry.properties, entry.born = properties, False

    def update(self, device: str, name: str, value: Any, timestamp: int) -> tuple[Entry, bool]:
        """Take a new value; returns its entry and whether a rebirth must carry it first.
        MetricValueError if the metric's datatype cannot carry the value (nothing kept)."""
        metrics = self._metrics(device)
        entry = metrics.get(name)
        if entry is None:
            entry = self._add(metrics, device, name, None)
        datatype = entry.datatype or infer_datatype(value)
        set_value(Payload.Metric(), datatype, value)  # raises, saying why, if it cannot
        entry.datatype, entry.value, entry.timestamp = datatype, value, timestamp
        return entry, not entry.born

    def birth(self, device: str, timestamp: int) -> list[Metric]:
        """The metrics of a birth: every one with a datatype, by name and alias, with its
        last value and its time (null and ``timestamp`` before the first value); they
        count as born from now on."""
        metrics = []
        for entry in self._metrics(device).values():
            if entry.datatype is None:
                continue
            entry.born = True
            metrics.append(Metric(entry.datatype, entry.value, entry.name, entry.alias,
                                  timestamp if entry.timestamp is None else entry.timestamp,
                                  properties=entry.properties))
        return metrics

    def known(self, device: str) -> dict[str | int, str]:
        """Datatypes by alias and by name, to read commands that carry none."""
        known: dict[str | int, str] = {}
        for entry in self._metrics(device).values():
            if entry.datatype is not None:
                known[entry.alias] = known[entry.name] = entry.datatype
        return known

    def name_of(self, device: str, alias: int) -> str | None:
        """The name of the metric with that alias, if it is this device's."""
        for entry in self._metrics(device).values():
            if entry.alias == alias:
                return entry.name
        return None

    def entry(self, device: str, name: str) -> Entry | None:
        """The metric of that name, if the device has one."""
        return self._metrics(device).get(name)

    def has_device(self, device: str) -> bool:
        return device in self._devices

    def _metrics(self, device: str) -> dict[str, Entry]:
        try:
            return self._devices[device]
        except KeyError:
            raise MetricValueError(f"device {device!r} is not one of the node's "
                                   f"devices") from None

    def _add(self, metrics: dict[str, Entry], device: str, name: str,
             datatype: str | None) -> Entry:
        if not name or not isinstance(name, str) or not _is_utf8(name):
            raise MetricValueError(f"a metric needs a name (non-empty UTF-8 text), not "
                                   f"{name!r:.60}")
        if not device and (name == "bdSeq" or name.startswith(RESERVED_PREFIXES)):
            raise MetricValueError(f"metric name {name!r} is the edge node's own")
        entry = metrics[name] = Entry(name, self._next_alias, datatype)
        self._next_alias += 1
        return entry


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
