"""Payload formats on the wire: JSON, msgpack, UTF-8 text, raw bytes.

Shared by mqtt-out (encode) and mqtt-in (decode), so both agree on content types.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack

CONTENT_TYPES = {
    "json": "application/json",
    "msgpack": "application/msgpack",
    "text": "text/plain; charset=utf-8",
    "raw": "application/octet-stream",
}


_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
"""One encoder for every message: ``json.dumps`` with options builds a new one per call."""


class PayloadError(ValueError):
    """A payload that cannot be encoded or decoded in the chosen format."""


def encode(payload: Any, fmt: str) -> bytes:
    """Encode a message payload for the wire in ``fmt``; raises PayloadError."""
    try:
        if fmt == "json":
            return _json(payload).encode("utf-8")
        if fmt == "msgpack":
            return msgpack.packb(payload, use_bin_type=True)  # type: ignore[no-any-return]
        if fmt == "text":
            if isinstance(payload, bytes | bytearray):
                return bytes(payload).decode("utf-8").encode("utf-8")
            return (payload if isinstance(payload, str) else json.dumps(payload)).encode()
    except (TypeError, ValueError, OverflowError) as exc:
        raise PayloadError(f"cannot encode {type(payload).__name__} as {fmt}: {exc}") from None
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    raise PayloadError(f"cannot send a {type(payload).__name__} as raw bytes; "
                       f"use format json, msgpack or text")


def decode(data: bytes, fmt: str, content_type: str | None = None) -> Any:
    """Decode a payload from the wire. ``auto`` goes by the MQTT 5 content type, then
    JSON if it parses, then UTF-8 text, then raw bytes. Raises PayloadError."""
    if fmt == "auto":
        fmt = _format_of(content_type) or "guess"
    if fmt == "guess":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        try:
            return json.loads(text)
        except ValueError:
            return text
    try:
        if fmt == "json":
            return json.loads(data)
        if fmt == "msgpack":
            return msgpack.unpackb(data, raw=False)
        if fmt == "text":
            return data.decode("utf-8")
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise PayloadError(f"not valid {fmt}: {exc}") from None
    return data


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
