"""Call an ASGI app with one HTTP request in process, with no socket: how a device answers
the remote editor's API calls with the very app the local editor serves."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def call_asgi(app: Any, method: str, target: str, headers: dict[str, str],
                    body: bytes = b"") -> Answer:
    """The app's answer to ``method target`` (a path with an optional query)."""
    path, _, query = target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path,
             "raw_path": path.encode("utf-8"), "query_string": query.encode("utf-8"),
             "root_path": "", "client": ("remote-editor", 0), "server": None,
             "extensions": {},
             "headers": [(name.lower().encode("latin-1"), value.encode("latin-1"))
                         for name, value in headers.items()]}
    answered = asyncio.Event()
    started: dict[str, Any] = {}
    parts: list[bytes] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()  # a disconnect before the answer would cancel the handler
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                answered.set()

    await app(scope, receive, send)
    answered.set()
    found = {name.decode("latin-1").lower(): value.decode("latin-1")
             for name, value in started.get("headers", [])}
    return Answer(int(started.get("status", 500)), found, b"".join(parts))
