"""The remote editor, on the engineer's machine: the same page as the local editor, on
the engineer's own loopback behind the same Guard (Host, token, Origin), whose API calls
and event stream travel through the management broker to a device that has no open port.

Each API call becomes one signed request (remote_link.py) answered by the device's own
editor app; a Deploy becomes a bundle signed here (remote_deploy.py); the websocket is
fed by the device's live stream, whose lease is held while any page is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import socket
from collections.abc import AsyncIterator
from urllib.parse import unquote

from quart import Quart, Response, request

from portless.editor.app import page_app, send_events
from portless.editor.connections import ConnectionBound
from portless.editor.security import Guard
from portless.editor.server import serve_guarded

from .remote_deploy import deploy_page
from .remote_link import DeviceSilent, RemoteLink, Reply

log = logging.getLogger("portless.fleet")
QUEUED_FRAMES = 100
"""Live frames a page that does not read may have waiting; later ones are dropped."""
_DEPLOYS = re.compile(r"/api/(flow|tabs/(?P<tab>[^/]+))")


def create_remote_app(link: RemoteLink, *, port: int, token: str,
                      connections: ConnectionBound | None = None) -> Quart:
    """The editor app for ``link``'s device, behind the Guard for ``port`` and ``token``."""
    app = page_app()

    @app.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
    async def forward(rest: str) -> Response:
        body: bytes = await request.get_data(as_text=False)  # type: ignore[assignment]
        if_match = request.headers.get("If-Match")
        deploy = _DEPLOYS.fullmatch(request.path) if request.method == "PUT" else None
        try:
            if deploy is not None:
                tab = deploy.group("tab")
                reply = await deploy_page(link, None if tab is None else unquote(tab),
                                          body, if_match)
            else:
                query = request.query_string.decode("latin-1")
                reply = await link.request(
                    "http", method=request.method, if_match=if_match,
                    path=request.path + (f"?{query}" if query else ""),
                    body=body.decode("utf-8") if body else None)
        except UnicodeDecodeError:
            reply = Reply(400, None, {"error": "the request body is not UTF-8 JSON"})
        except DeviceSilent as exc:
            reply = Reply(504, None, {"error": str(exc)})
        return _response(reply)

    @app.websocket("/api/ws")
    async def events() -> None:
        await send_events(_live_frames(link))

    guard = Guard(app.asgi_app, port=port, token=token, connections=connections)
    app.asgi_app = guard  # type: ignore[method-assign,assignment]
    return app


def _response(reply: Reply) -> Response:
    response = Response(json.dumps(reply.body), reply.status,
                        content_type="application/json")
    if reply.etag:
        response.headers["ETag"] = reply.etag
    return response


async def _live_frames(link: RemoteLink) -> AsyncIterator[str]:
    """The device's live frames for one page, starting with every node's status (the
    stream may have begun before this page opened); the lease is held meanwhile."""
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUED_FRAMES)

    def arrived(data: bytes) -> None:
        if not queue.full():
            queue.put_nowait(data)

    link.listeners.add(arrived)
    link.want_live(True)
    try:
        try:
            hello = await link.request("hello")
            statuses = hello.body.get("statuses", {}) if hello.status == 200 else {}
            yield json.dumps([{"kind": "status", "node": node_id, **status}
                              for node_id, status in statuses.items()])
        except DeviceSilent as exc:
            log.warning("remote editor: %s", exc)
        while True:
            yield (await queue.get()).decode("utf-8", "replace")
    finally:
        link.listeners.discard(arrived)
        if not link.listeners:
            link.want_live(False)


async def run_remote_editor(link: RemoteLink, *, listener: socket.socket, host: str,
                            stop: asyncio.Event) -> None:
    """Connect ``link``, serve its editor on ``listener`` until ``stop``, then end the
    live stream (its lease would lapse anyway) and disconnect."""
    await link.connect()
    loop = asyncio.get_running_loop()
    keeper = loop.create_task(link.keep_live(), name="remote editor: live lease")
    greeting = loop.create_task(_greet(link), name="remote editor: hello")
    token = secrets.token_urlsafe(24)
    connections = ConnectionBound()
    app = create_remote_app(link, port=listener.getsockname()[1], token=token,
                            connections=connections)
    try:
        await serve_guarded(app, listener=listener, host=host, token=token,
                            connections=connections, stop=stop)
    finally:
        keeper.cancel()
        greeting.cancel()
        if link.streaming:
            with contextlib.suppress(DeviceSilent):  # else its lease lapses by itself
                await link.request("live", lease=0, timeout=2.0)
        await link.disconnect()


async def _greet(link: RemoteLink) -> None:
    """Log whether the device answers, and what it runs."""
    try:
        hello = await link.request("hello")
    except DeviceSilent as exc:
        log.warning("remote editor: %s; the page will say so until it answers", exc)
        return
    running = hello.body.get("running") if isinstance(hello.body, dict) else None
    log.info("remote editor: device %s answers (%s)", link.device,
             f"fleet version {running['version']}" if running else "no fleet bundle yet")
