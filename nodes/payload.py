"""Payload formats on the wire: JSON, msgpack, UTF-8 text, raw bytes.

Shared by mqtt-out (encode) and mqtt-in (decode), so both agree on content types.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import msgpack

CONTENT_TYPES = {
    "json": "application/json",
    "msgpack": "application/msgpack",
    "text": "text/plain; charset=utf-8",
    "raw": "application/octet-stream",
}


MAX_DEPTH = 128
"""Deepest nesting of arrays and objects a decoded payload may have. Deeper is refused:
copying and showing a message recurse, and ~900 levels exhaust Python's stack."""

_JSON_START = frozenset("{[\"-0123456789tfn")
"""The characters a JSON document can begin with (after white space)."""

_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
"""One encoder for every message: ``json.dumps`` with options builds a new one per call."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_json_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode
"""Strict JSON, as JavaScript's JSON.parse reads it: NaN and Infinity are not numbers."""


class PayloadError(ValueError):
    """A payload that cannot be encoded or decoded in the chosen format."""


def encode(payload: Any, fmt: str) -> bytes:
    """Encode a message payload for the wire in ``fmt``; raises PayloadError."""
    try:
        if fmt == "json":
            # A reading is mostly a number: JSON writes it as Python's repr does, and
            # the encoder would first build a new C encoder (1 us of 1.1).
            if payload.__class__ is int:
                return int.__repr__(payload).encode()
            if payload.__class__ is float and math.isfinite(payload):
                return float.__repr__(payload).encode()
            return _json(payload).encode("utf-8")
        if fmt == "msgpack":
            return msgpack.packb(payload, use_bin_type=True)  # type: ignore[no-any-return]
        if fmt == "text":
            if isinstance(payload, bytes | bytearray):
                return bytes(payload).decode("utf-8").encode("utf-8")
            # as Node-RED's mqtt out sends a non-text: compact JSON, in UTF-8
            return (payload if isinstance(payload, str) else _json(payload)).encode("utf-8")
        if isinstance(payload, bytes | bytearray):
            return bytes(payload)
        if isinstance(payload, str):
            return payload.encode("utf-8")
    except (TypeError, ValueError, OverflowError) as exc:  # UnicodeEncodeError included
        raise PayloadError(f"cannot encode {type(payload).__name__} as {fmt}: {exc}") from None
    raise PayloadError(f"cannot send a {type(payload).__name__} as raw bytes; "
                       f"use format json, msgpack or text")


def decode(data: bytes, fmt: str, content_type: str | None = None,
           max_size: int | None = None) -> Any:
    """Decode a payload from the wire. ``auto`` goes by the MQTT 5 content type, then
    JSON if it parses, then UTF-8 text, then raw bytes. Raises PayloadError, also for
    JSON or msgpack nested deeper than MAX_DEPTH and for JSON or msgpack longer than
    ``max_size`` bytes (parsing holds the event loop; it is refused, not started)."""
    if fmt == "auto":
        fmt = _format_of(content_type) or "guess"
    if fmt == "guess":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        if text.lstrip(" \t\r\n")[:1] not in _JSON_START:
            return text  # cannot be JSON: no need to parse, whatever its size
        _check_size(data, "json", max_size)
        try:
            return _parse_json(text, data)
        except PayloadError:
            raise
        except ValueError:
            return text
    try:
        if fmt == "json":
            _check_size(data, fmt, max_size)
            return _parse_json(data.decode("utf-8"), data)
        if fmt == "msgpack":
            _check_size(data, fmt, max_size)
            value = msgpack.unpackb(data, raw=False)
            if len(data) > MAX_DEPTH and _nested_deeper_than(value, MAX_DEPTH):
                raise _too_deep(fmt)
            return value
        if fmt == "text":
            return data.decode("utf-8")
    except PayloadError:
        raise
    except msgpack.StackError:  # msgpack's own bound: deeper than 1,024 levels
        raise _too_deep(fmt) from None
    except (ValueError, msgpack.ExtraData, msgpack.FormatError) as exc:
        raise PayloadError(f"not valid {fmt}: {exc}") from None
    return data


def _parse_json(text: str, data: bytes) -> Any:
    """Strict JSON within MAX_DEPTH; ValueError if it is not JSON, PayloadError if too deep."""
    try:
        value = _json_decode(text)
    except RecursionError:
        raise _too_deep("json") from None
    # Nesting deeper than MAX_DEPTH needs more than MAX_DEPTH brackets: counting them is
    # cheap, so most payloads skip the closer look.
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _json_depth(data) > MAX_DEPTH:
        raise _too_deep("json")
    return value


_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


def _json_depth(data: bytes) -> int:
    """How deep a valid JSON document nests, read from its bytes with C loops only
    (walking the decoded value costs more than decoding it): without escaped backslashes
    and quotes, every other quote starts a string; outside them, each bracket is +1 or
    -1, and the depth is the highest running sum."""
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    steps = outside_strings.translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(itertools.accumulate(memoryview(steps).cast("b")), default=0)


def _check_size(data: bytes, fmt: str, max_size: int | None) -> None:
    if max_size is not None and len(data) > max_size:
        raise PayloadError(f"{len(data)} bytes is more than max_decode_size ({max_size}) "
                           f"to parse as {fmt}")


def _too_deep(fmt: str) -> PayloadError:
    return PayloadError(f"{fmt} nested deeper than {MAX_DEPTH} levels")


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """True if lists and dicts nest more than ``limit`` levels; level by level, so a deep
    value cannot exhaust the stack here."""
    level = [value] if value.__class__ is dict or value.__class__ is list else []
    for _ in range(limit):
        if not level:
            return False
        level = [child for item in level
                 for child in (item.values() if item.__class__ is dict else item)
                 if child.__class__ is dict or child.__class__ is list]
    return bool(level)


def _format_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    if base == "application/json" or base.endswith("+json"):
        return "json"
    if base in ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack"):
        return "msgpack"
    if base.startswith("text/"):
        return "text"
    return "raw"


def preview(data: bytes, limit: int = 16) -> str:
    """A short hex preview of bytes for a warning: ``8a ff 00 ... (123 bytes)``."""
    shown = data[:limit].hex(" ")
    return f"{shown}{' ...' if len(data) > limit else ''} ({len(data)} bytes)"
