"""The cookies of one request: those the message gives (msg.cookies, a Cookie header),
and those each redirect sets, sent on to the hosts they belong to, as a browser would
within one page load; forgotten when the request is done, as in Node-RED."""

from __future__ import annotations

from http.cookies import CookieError, Morsel
from typing import Any

import aiohttp
from yarl import URL

from portless.nodes.http.http_body import encode_component


def request_jar(url: URL, given: Any, header: str | None) -> aiohttp.CookieJar:
    """A jar holding msg.cookies (``{name: value}`` or ``{name: {"value": ...,
    "encode": false}}``; a null value is skipped) and the Cookie header's pairs, for
    ``url``'s host."""
    jar = aiohttp.CookieJar(quote_cookie=False, unsafe=True)  # unsafe: IP hosts too
    cookies: dict[str, Morsel[str]] = {}
    for pair in (header or "").split(";"):
        name, equals, value = pair.partition("=")
        if equals and name.strip():
            cookies[name.strip()] = _morsel(name.strip(), value.strip())
    for name, value in (given.items() if isinstance(given, dict) else ()):
        if value is None or (isinstance(value, dict) and value.get("value") is None):
            continue
        if isinstance(value, dict):
            text = str(value["value"])
            cookies[name] = _morsel(name, text if value.get("encode") is False
                                    else encode_component(text))
        else:
            cookies[name] = _morsel(name, encode_component(str(value)))
    jar.update_cookies(cookies, url)
    return jar


def cookie_header(jar: aiohttp.CookieJar, url: URL) -> str | None:
    """The Cookie header for ``url`` (None: no cookie belongs there)."""
    found = jar.filter_cookies(url)
    return "; ".join(f"{name}={morsel.coded_value}" for name, morsel in found.items()) or None


class CookieRefused(ValueError):
    """A cookie the message gives that cannot be sent."""


def _morsel(name: str, value: str) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    try:
        morsel.set(name, value, value)
    except CookieError:
        raise CookieRefused(f"cookie name {name!r} is not a valid cookie name") from None
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == ";" for char in value):
        raise CookieRefused(f"cookie {name}: a control character or ; in the value")
    return morsel
