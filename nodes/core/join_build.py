"""The value a join sends: its held values made into a text, bytes, a list or an
object, as Node-RED's join builds them."""

from __future__ import annotations

from typing import Any

from portless.nodes.js_values import js_string
from portless.runtime import MISSING


def build_value(build: str | None, items: dict[Any, Any], length: int, joiner: Any,
                array_len: Any) -> Any:
    """``items``: values by index (a hole is null, or skipped where Node-RED skips it),
    or by key for an ``object``; ``joiner``: a text, bytes or a list of byte values."""
    if build == "object":
        return {key: value for key, value in items.items() if value is not MISSING}
    values = [items.get(index, MISSING) for index in range(length)]
    if build == "string":
        return _as_text(joiner).join(
            "" if value is None or value is MISSING else js_string(value)
            for value in values)
    if build == "buffer":
        pieces = [_as_bytes(value) for value in values]
        return b"".join(pieces) if joiner is None else _as_bytes(joiner).join(pieces)
    if build == "array" and isinstance(array_len, int | float) and array_len > 1:
        flat: list[Any] = []
        for value in values:  # one level, holes skipped, as Array.concat in forEach
            if isinstance(value, list):
                flat.extend(value)
            elif value is not MISSING:
                flat.append(value)
        return flat
    return [None if value is MISSING else value for value in values]


def _as_text(joiner: Any) -> str:
    if joiner is None:
        return ""
    if isinstance(joiner, bytes | bytearray | list):
        return _as_bytes(joiner).decode("utf-8", "replace")
    return js_string(joiner)


def _as_bytes(value: Any) -> bytes:
    """A value as a Node.js Buffer.from makes it: a text as UTF-8, a list of byte values."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return bytes(int(item) & 0xFF if isinstance(item, int | float) else 0
                     for item in value)
    return b""
