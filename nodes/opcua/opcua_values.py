"""OPC UA data values as message fields: the value as plain data, its quality in words
(``good``, ``stale``, ``bad: <reason>``), the status code and both timestamps."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import time
from typing import Any

from asyncua import ua

from portless.nodes.opcua.opcua_reasons import status_words

MAX_DEPTH = 32


def quality(status: ua.StatusCode) -> str:
    """``good``; ``stale`` for an uncertain value (the last usable one, a substitute);
    ``bad: <reason>``."""
    if status.is_good():
        return "good"
    if status.is_uncertain():
        return "stale"
    return f"bad: {status_words(status.name)}"


def milliseconds(moment: datetime.datetime | None) -> int | None:
    """A timestamp as ms since 1970 (asyncua gives UTC, naive or aware)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def fields(data: ua.DataValue) -> dict[str, Any]:
    """The message fields of one data value. ``timestamp`` is the source timestamp, else
    the server's, else the time it arrived."""
    status = data.StatusCode if data.StatusCode is not None else ua.StatusCode()
    source = milliseconds(data.SourceTimestamp)
    server = milliseconds(data.ServerTimestamp)
    variant = data.Value
    return {"payload": plain(variant.Value) if variant is not None else None,
            "quality": quality(status), "statusCode": status.name,
            "timestamp": source or server or int(time.time() * 1000),
            "serverTimestamp": server}


def plain(value: Any, depth: int = 0) -> Any:
    """A value as JSON-like data: numbers, text, bools and bytes as they are, arrays as
    lists, a structure as an object of its fields, a time as ms since 1970, a node id,
    localized text or qualified name as text."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if depth > MAX_DEPTH:
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item, depth + 1) for item in value]
    if isinstance(value, datetime.datetime):
        return milliseconds(value)
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.QualifiedName):
        return value.Name
    if isinstance(value, ua.NodeId):
        return value.to_string()
    if isinstance(value, ua.StatusCode):
        return value.name
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name), depth + 1)
                for field in dataclasses.fields(value)}
    return str(value)
