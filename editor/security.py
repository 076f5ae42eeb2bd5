"""The editor's guard: an ASGI middleware that every HTTP request and websocket passes.

Local is not the same as safe: a page on another site can make the browser talk to
127.0.0.1, and DNS rebinding can point a foreign name there. So, in order:

1. Host must be a loopback name with the editor's port (else 403), for HTTP and
   websocket alike; Hypercorn passes any Host through.
2. ``GET /?token=...`` with the start-up token sets an HttpOnly, SameSite=Strict
   session cookie and redirects to ``/`` (the token leaves the address bar).
3. Everything but the static files needs the cookie or ``Authorization: Bearer TOKEN``
   (else 401).
4. A state-changing request authenticated by the cookie, and every websocket upgrade,
   must carry an Origin equal to the editor's own (else 403). A bearer request needs
   none: a browser cannot send that header cross-site without CORS, never allowed here.

Every HTTP answer, refusals included, forbids framing (clickjacking: a foreign page
cannot lay the editor under its own buttons) and loads only the editor's own files.

The cookie is named after the port (``portless-1880``). Browsers ignore the port when
they pick the cookies for a request (RFC 6265, section 8.5), so with one fixed name a
second editor on another port would overwrite this one's session and sign it out; and
this guard accepts only its own port's cookie. A server on another 127.0.0.1 port still
receives the cookie: nothing in HTTP prevents that (docs/security.md).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from portless.editor.connections import ConnectionBound

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE_PREFIX = "portless-"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = {"/favicon.ico"}
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; connect-src 'self' {ws}; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
"""The page is plain ES modules from /static: nothing inline, nothing from elsewhere.
The websocket is named explicitly because older browsers do not count ws: as 'self'."""

LOGIN_PAGE = b"""<!doctype html><meta charset="utf-8"><title>portless editor</title>
<body>
<h1>portless editor</h1><p>Open the address with <code>?token=...</code> that
<code>portless run</code> printed when it started. The token changes at every start.</p>
"""


class Guard:
    """Wraps the editor's ASGI app with the Host, token and Origin rules above."""

    def __init__(self, app: Any, *, port: int, token: str,
                 connections: ConnectionBound | None = None) -> None:
        self.app: ASGIApp = app
        self.connections = connections
        self.port = port
        self.token = token
        self.session = secrets.token_urlsafe(32)
        self.cookie = f"{COOKIE_PREFIX}{port}"
        self.allowed_hosts = {f"{host}:{port}" for host in LOOPBACK_HOSTS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.connections is not None:
            send = _noting_answers(send, self.connections, scope.get("client"))
        headers = _headers(scope)
        host = headers.get("host", "")
        websocket = scope["type"] == "websocket"
        if not websocket:
            send = _with_page_headers(send, host if host.lower() in self.allowed_hosts
                                      else f"127.0.0.1:{self.port}")
        if host.lower() not in self.allowed_hosts:
            await _refuse(scope, send, 403, f"Host {host!r} is not this editor's address")
            return
        path = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        if path == "/" and not websocket and "token" in (query := _query(scope)):
            await self._exchange(query["token"], send)
            return
        by_cookie = _equal(_cookies(headers).get(self.cookie), self.session)
        by_bearer = _equal(_bearer(headers), self.token)
        if not (by_cookie or by_bearer):
            await _refuse(scope, send, 401, "not signed in: open the editor address with the "
                                            "token printed at start-up",
                          LOGIN_PAGE if path == "/" else None)
            return
        origin = headers.get("origin")
        needs_origin = websocket or (by_cookie and not by_bearer
                                     and scope["method"] not in SAFE_METHODS)
        if needs_origin and origin != f"http://{host}":
            said = f"Origin {origin!r} is not" if origin else "no Origin header names"
            await _refuse(scope, send, 403, f"{said} this editor's origin (http://{host}); "
                                            f"a page elsewhere cannot act with your session")
            return
        await self.app(scope, receive, send)

    async def _exchange(self, token: str, send: Send) -> None:
        """Trade the start-up token for the session cookie, once per browser."""
        if not _equal(token, self.token):
            await _respond(send, 401, b"wrong token", [(b"content-type", b"text/plain")])
            return
        cookie = (f"{self.cookie}={self.session}; HttpOnly; SameSite=Strict; Path=/").encode()
        await _respond(send, 303, b"", [(b"location", b"/"), (b"set-cookie", cookie),
                                        (b"cache-control", b"no-store")])


def _noting_answers(send: Send, connections: ConnectionBound, client: Any) -> Send:
    """``send`` that tells the connection bound once this connection got an answer (or
    its websocket was accepted): from then on it is no slow client to push out. One
    that trickles its request body never gets that far."""
    async def sending(message: MutableMapping[str, Any]) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            connections.spoke(client)
        await send(message)
    return sending


def _with_page_headers(send: Send, host: str) -> Send:
    """``send`` that adds the framing and content rules to the start of every answer."""
    added = [(b"content-security-policy",
              CONTENT_SECURITY_POLICY.format(ws=f"ws://{host}").encode("latin-1")),
             (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"no-referrer")]

    async def sending(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *added]}
        await send(message)
    return sending


def _headers(scope: Scope) -> dict[str, str]:
    # A repeated header (two Hosts, say) keeps its first value; Hypercorn refuses those.
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _query(scope: Scope) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {key: values[0] for key, values in parsed.items()}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    """Name=value pairs of the Cookie header, parsed leniently: another app on localhost
    may set cookies that a strict parser chokes on, and that must not hide ours."""
    pairs = (part.strip().partition("=") for part in headers.get("cookie", "").split(";"))
    return {name: value for name, _, value in pairs if name}


def _bearer(headers: dict[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _equal(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def _refuse(scope: Scope, send: Send, status: int, reason: str,
                  page: bytes | None = None) -> None:
    body = page if page is not None else json.dumps({"error": reason}).encode()
    kind = b"text/html; charset=utf-8" if page is not None else b"application/json"
    if scope["type"] == "websocket":
        if "websocket.http.response" not in scope.get("extensions", {}):
            # Closing before accepting makes the server answer the upgrade with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": reason})
            return
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", kind)]})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await _respond(send, status, body, [(b"content-type", kind)])


async def _respond(send: Send, status: int, body: bytes,
                   headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
