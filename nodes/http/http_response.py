"""What a response puts on the message: its body read up to a bound (never unbounded
memory), as text, bytes or parsed JSON; its headers as Node.js gives them; its cookies."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from multidict import CIMultiDictProxy

from portless.runtime import safe_json_loads

if TYPE_CHECKING:  # imported by http_client.py, when a node starts
    import aiohttp

RETURN_AS = ("text", "bytes", "json")
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
HEADERS_MARK = "x-node-red-request-node"
"""Put on msg.headers with a hash of the response headers, so a message sent on to
another request does not send them back as request headers (unless changed)."""


class TooLarge(Exception):
    """The response body is bigger than the node takes."""


class BadHeader(Exception):
    """A response header with a control character in it (RFC 9110 5.5), refused as
    Node.js's parser refuses it, rather than put on the message."""


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or TooLarge as soon as it passes ``limit`` bytes (decompressed)."""
    declared = response.content_length
    if declared is not None and declared > limit and response.method != "HEAD":
        raise TooLarge(f"the response is {declared:,} bytes, more than the "
                       f"{limit:,} this node takes (max_response_bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the response is more than the {limit:,} bytes this node "
                           f"takes (max_response_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def payload_as(body: bytes, status: int, return_as: str) -> tuple[Any, str | None]:
    """The payload for ``return_as``, and a warning where JSON did not parse (the
    payload is then the text, as Node-RED does)."""
    if return_as == "bytes":
        return body, None
    text = body.decode("utf-8", "replace")
    if return_as == "text":
        return text, None
    if status == 204:
        return {}, None
    try:
        return safe_json_loads(text), None
    except (ValueError, RecursionError) as exc:
        return text, f"JSON parse error: {exc}; the payload is the text"


def message_headers(headers: CIMultiDictProxy[str]) -> dict[str, Any]:
    """Response headers as Node.js gives them: lower-case names, a repeated header's
    values joined by ", ", set-cookie always a list; plus HEADERS_MARK."""
    result: dict[str, Any] = {}
    for name, raw in headers.items():
        key = name.lower()
        value = _text(raw)
        if _CONTROL.search(value):
            raise BadHeader(f"the answer's header {name} has a control character in it")
        if key == "set-cookie":
            result.setdefault(key, []).append(value)
        elif key in result:
            result[key] = f"{result[key]}, {value}"
        else:
            result[key] = value
    result[HEADERS_MARK] = headers_hash(result)
    return result


def headers_hash(headers: dict[str, Any]) -> str:
    """A short hash of headers without HEADERS_MARK."""
    plain = {key: value for key, value in headers.items() if key != HEADERS_MARK}
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _text(value: str) -> str:
    """A header value as valid text: bytes that were not UTF-8 become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def cookies_of(set_cookie: list[str]) -> dict[str, dict[str, Any]]:
    """Set-Cookie values as Node-RED's msg.responseCookies: name -> {"value": ...,
    and each attribute given as name=value, with its name as written (Path, Expires)}."""
    cookies: dict[str, dict[str, Any]] = {}
    for line in set_cookie:
        first, *attributes = line.split(";")
        name, equals, value = first.partition("=")
        name = name.strip()
        if not equals or not name:
            continue
        cookie: dict[str, Any] = {"value": _decoded(value.strip())}
        for attribute in attributes:
            key, equals, item = attribute.partition("=")
            if equals and key.strip() and key.strip() not in cookie:
                cookie[key.strip()] = _decoded(item.strip())
        cookies[name] = cookie
    return cookies


def _decoded(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return unquote(value) if "%" in value else value
