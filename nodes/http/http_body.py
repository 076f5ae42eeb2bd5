"""What a request carries: the payload as its body (text, bytes, JSON, a form), or for
a GET as its query string, as Node-RED's http request node sends them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDict

from portless.nodes.js_values import js_string

NO_BODY = ("GET", "HEAD")
_COMPONENT_SAFE = "-_.!~*'()"
"""What JavaScript's encodeURIComponent leaves as it is (besides letters and digits)."""


class BodyError(ValueError):
    """The payload cannot be sent as this request asks."""


def encode_component(text: str) -> str:
    """JavaScript's encodeURIComponent."""
    return quote(text, safe=_COMPONENT_SAFE)


def query_string(values: Any) -> str:
    """An object as Node.js's querystring.stringify writes it: a list repeats its key,
    a value that is not text, a number or a boolean is empty."""
    if not isinstance(values, dict):
        raise BodyError("a payload sent as the query string must be an object")
    pairs = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            shown = (js_string(item) if isinstance(item, str | int | float | bool) else "")
            pairs.append(f"{encode_component(str(key))}={encode_component(shown)}")
    return "&".join(pairs)


def with_query(url: str, payload: Any) -> str:
    """``url`` with the payload appended to its query string."""
    query = query_string(payload)
    if not query:
        return url
    if "?" not in url:
        return f"{url}?{query}"
    return url + ("" if url.endswith(("?", "&")) else "&") + query


def request_body(payload: Any, headers: CIMultiDict[str]) -> Any:
    """The body for ``payload`` (not None: absent means no body), given the request's
    headers; sets Content-Type to application/json for a payload sent as JSON."""
    content_type = headers.get("Content-Type", "").strip().lower()
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode()
    if isinstance(payload, int | float) and not isinstance(payload, bool):
        return js_string(payload).encode()
    if isinstance(payload, dict) and content_type == "multipart/form-data":
        del headers["Content-Type"]  # aiohttp writes it with the boundary
        return _form(payload)
    if isinstance(payload, dict) and content_type == "application/x-www-form-urlencoded":
        return query_string(payload).encode()
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BodyError(f"the payload cannot be sent as JSON: {exc}") from None
    headers.setdefault("Content-Type", "application/json")
    return text.encode()


def _form(fields: dict[str, Any]) -> aiohttp.FormData:
    """multipart/form-data: text and bytes as they are, ``{"value": ..., "options":
    {"filename": ..., "contentType": ...}}`` as a file, anything else as JSON."""
    form = aiohttp.FormData()
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, dict) and "value" in value:
            options = value.get("options") or {}
            content = value["value"]
            form.add_field(name, content if isinstance(content, str | bytes) else
                           json.dumps(content), filename=options.get("filename"),
                           content_type=options.get("contentType"))
        elif isinstance(value, str | bytes):
            form.add_field(name, value)
        else:
            form.add_field(name, json.dumps(value, separators=(",", ":")))
    return form
