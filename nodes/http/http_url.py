"""Which URL a request goes to: the node's own or msg.url, with ``{{property}}``
placeholders filled from the message, a scheme added where it is missing, and any
user:password taken out of it (so it is never logged or put on a message)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from yarl import URL

from portless.nodes.js_values import js_string
from portless.runtime import MISSING, Message, get_property
from portless.runtime.properties import property_path_error

PLACEHOLDER = re.compile(r"\{\{(\{?)\s*([^{}]+?)\s*\}?\}\}")
"""``{{payload.id}}`` or ``{{{payload.id}}}``: a message property, inserted as text."""


class UrlError(ValueError):
    """The URL cannot be requested; the text says why."""


@dataclass(frozen=True)
class Target:
    url: URL
    """Without user information."""
    username: str | None
    password: str | None


def placeholder_problem(template: str) -> str | None:
    """Why a ``{{...}}`` in ``template`` names no message property (None: all do)."""
    for match in PLACEHOLDER.finditer(template):
        problem = property_path_error(match.group(2).removeprefix("msg."))
        if problem is not None:
            return f"{match.group(0)} is not a message property: {problem}"
    return None


def fill_placeholders(template: str, msg: Message) -> str:
    """``template`` with each ``{{path}}`` replaced by that message property as text
    (empty where it is missing), as Mustache names a value; the node checked the paths
    (placeholder_problem) when it started."""
    def value(match: re.Match[str]) -> str:
        found = get_property(msg, match.group(2).removeprefix("msg."))
        return "" if found is MISSING or found is None else js_string(found)
    return PLACEHOLDER.sub(value, template)


def target(text: str, tls: bool) -> Target:
    """Parse the URL text to request: ``host/path`` gets ``https://`` with a TLS config,
    else ``http://``; a scheme other than http(s) is refused."""
    if "://" not in text:
        text = ("https://" if tls else "http://") + text
    scheme = text.partition("://")[0].lower()
    if scheme not in ("http", "https"):
        raise UrlError(f"only http:// and https:// URLs can be requested, not {scheme}://")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise UrlError("the URL has a control character in it")
    try:
        url = URL(text)
    except ValueError as exc:
        raise UrlError(f"not a URL: {exc}") from None
    if not url.host:
        raise UrlError("the URL has no host")
    return Target(url.with_user(None), url.user, url.password)
