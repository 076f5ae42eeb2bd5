"""The request's headers: msg.headers (unless they are a response's, passed on
unchanged), then the node's own list, which wins, each name matched without regard to
case and sent with the case it was written in; an empty value removes the header."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from multidict import CIMultiDict

from portless.nodes.http.http_response import HEADERS_MARK, headers_hash
from portless.nodes.js_values import js_string
from portless.runtime import MISSING, Message, get_property

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_COMPUTED = ("Content-Length", "Transfer-Encoding")
"""Written by the client from the body itself: a given one could only be wrong."""


class HeaderError(ValueError):
    """A header that cannot be sent; the text names it."""


def request_headers(msg: Message, configured: Sequence[Mapping[str, Any]]
                    ) -> tuple[CIMultiDict[str], str | None]:
    """(headers to send, the Cookie header given, if any: its cookies go in the jar)."""
    headers: CIMultiDict[str] = CIMultiDict()
    given = msg.get("headers")
    if isinstance(given, dict) and not _unchanged_response(given):
        for name, value in given.items():
            if name != HEADERS_MARK:
                _put(headers, str(name), value)
    for entry in configured:  # defaults are not filled in below a list: "text"
        name = _side(msg, entry["name"], entry.get("name_from", "text"))
        if name:
            _put(headers, name, _side(msg, entry["value"], entry.get("value_from", "text")))
    for name in _COMPUTED:
        headers.popall(name, None)
    cookie = headers.popall("Cookie", None)
    return headers, "; ".join(cookie) if cookie else None


def _unchanged_response(headers: dict[str, Any]) -> bool:
    return headers.get(HEADERS_MARK) == headers_hash(headers)


def _side(msg: Message, text: str, source: str) -> str:
    """A header name or value: the text itself, or the message property it names."""
    if source == "text":
        return text
    value = get_property(msg, text)
    return "" if value is MISSING or value is None else js_string(value)


def _put(headers: CIMultiDict[str], name: str, value: Any) -> None:
    """Set (or, for an empty value, remove) a header, replacing any of that name."""
    if not _TOKEN.fullmatch(name):
        raise HeaderError(f"header name {name!r} is not a valid HTTP header name")
    headers.popall(name, None)
    if value is None or value == "":
        return
    text = js_string(value)
    if any(char in text for char in "\r\n\0"):
        raise HeaderError(f"header {name}: a line break or NUL in the value")
    headers[name] = text
