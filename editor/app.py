"""The editor's HTTP API and websocket (Quart), behind the Guard.

    GET  /                         the page (after the token exchange, see security.py)
    GET  /api/nodes                node types: schema, category, ports (plugins included)
    GET  /api/flow                 the flow (secrets masked), with an ETag
    PUT  /api/flow                 If-Match: ETAG; validate -> write -> deploy changed nodes
                                   (runtime/deploy.py); 409 if it rolled back
    POST /api/validate             the errors `portless validate` would print, nothing written
    POST /api/outputs              {"nodes": [{id, type, config}]}: each node's output count
                                   for that config, or why it cannot be told (outputs.py)
    POST /api/nodes/<id>/inject    trigger a node (an io-in reads now)
    GET  /api/tabs ...             the flow files (tabs): list, add, read, deploy, delete
                                   (editor/tabs.py)
    GET  /api/subflows/<name>      a subflow's file (secrets masked, ETag) and its running
                                   instances; PUT deploys an edit (editor/subflows.py)
    POST /api/import/node-red      {"export": TEXT}: a Node-RED export converted for the
                                   Import dialog, nothing written (node_red_import.py)
    WS   /api/ws                   node status, warnings, errors, debug, flow-changed,
                                   tab-changed

Every refusal is JSON ``{"error": sentence}`` (or the flow errors), never an HTML page
or a traceback. A request body may be at most MAX_BODY_BYTES (413 above it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from quart import Quart, Response, request, send_from_directory, websocket
from werkzeug.exceptions import HTTPException

from portless.editor.answers import (
    errors_answer,
    json_answer,
    read_answer,
    read_body,
    validate_answer,
    write_answer,
)
from portless.editor.connections import ConnectionBound
from portless.editor.flows import FlowService
from portless.editor.node_red_import import add_node_red_import_routes
from portless.editor.outputs import BadRequest, output_counts
from portless.editor.security import Guard
from portless.editor.stream import Hub, Page
from portless.editor.subflows import add_subflow_routes
from portless.editor.tabs import EditorTabs, add_tab_routes
from portless.runtime import FlowInvalid
from portless.runtime.deploy import CHECK_SECONDS

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest request body (a flow of some 40,000 nodes); Node-RED's default is 5 MB."""
log = logging.getLogger("portless.editor")


def create_app(service: FlowService, hub: Hub, *, port: int, token: str,
               connections: ConnectionBound | None = None,
               tabs: EditorTabs | None = None) -> Quart:
    """The editor app for a running flow (``service``: its first file, /api/flow);
    ``token`` is this start's secret; ``connections`` is the server's connection bound,
    told which connections spoke; ``tabs``: every file (None: made from ``service``)."""
    app = page_app()
    registry, engine = service.registry, service.engine

    @app.get("/api/nodes")
    async def nodes() -> Response:
        return json_answer([registry.describe(cls) for cls in registry])

    @app.get("/api/flow")
    async def get_flow() -> Response:
        return await read_answer(service)

    @app.put("/api/flow")
    async def put_flow() -> Response:
        return await write_answer(service)

    @app.post("/api/validate")
    async def validate() -> Response:
        return await validate_answer(service)

    @app.post("/api/outputs")
    async def outputs() -> Response:
        try:
            body = await read_body(service.path)
            if isinstance(body, Response):
                return body
            # A plugin's output_count runs off the loop, and a slow one is cut short.
            return json_answer(await asyncio.wait_for(asyncio.to_thread(
                output_counts, registry, str(service.path), body), CHECK_SECONDS))
        except FlowInvalid as exc:
            return errors_answer(exc)
        except BadRequest as exc:
            return json_answer({"error": str(exc)}, 400)
        except TimeoutError:
            return json_answer({"error": f"counting the outputs took longer than "
                                         f"{CHECK_SECONDS:g} s"}, 503)

    @app.post("/api/nodes/<node_id>/inject")
    async def inject(node_id: str) -> Response:
        if node_id not in engine.nodes:
            return json_answer({"error": f"no running node {node_id!r}"}, 404)
        engine.inject(node_id)
        return Response("", 204)

    @app.websocket("/api/ws")
    async def events() -> None:
        page = hub.open()
        try:
            await send_events(_frames(hub, page))
        finally:
            hub.close(page)

    add_tab_routes(app, tabs or EditorTabs(service.deploys, service.allowed_paths, service))
    add_subflow_routes(app, service)
    add_node_red_import_routes(app)

    # Composed by wrapping, so the Quart test client goes through the guard as well.
    guard = Guard(app.asgi_app, port=port, token=token, connections=connections)
    app.asgi_app = guard  # type: ignore[method-assign,assignment]
    return app


def page_app() -> Quart:
    """A Quart app with the page and its static files, a body limit, and JSON for every
    refusal: what the local and the remote editor (fleet/remote_editor.py) share."""
    app = Quart(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.get("/")
    async def index() -> Response:
        response = await send_from_directory(STATIC, "index.html")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        return json_answer({"error": _HTTP_ERRORS.get(exc.code or 500, exc.description)},
                           exc.code or 500)

    @app.errorhandler(Exception)
    async def internal_error(exc: Exception) -> Response:
        log.exception("editor: %s %s failed", request.method, request.path)
        return json_answer(
            {"error": "the editor failed on this request; the log has the details"}, 500)

    return app


async def send_events(frames: AsyncIterator[str]) -> None:
    """Accept the websocket and send it ``frames`` until it closes; a page that sends
    anything is closed (1008)."""
    await websocket.accept()
    sending = asyncio.ensure_future(_send(frames))
    receiving = asyncio.ensure_future(websocket.receive())
    try:
        await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sending.cancel()
        receiving.cancel()
    if receiving.done() and not receiving.cancelled():
        # The page never sends; what does is not the page, and unread messages would
        # pile up in memory.
        await websocket.close(1008, "this socket only sends events")


async def _send(frames: AsyncIterator[str]) -> None:
    async for frame in frames:
        await websocket.send(frame)


async def _frames(hub: Hub, page: Page) -> AsyncIterator[str]:
    async for frame in hub.frames(page):
        yield json.dumps(frame, default=str)


_HTTP_ERRORS = {
    400: "this endpoint does not understand the request (/api/ws needs a websocket "
         "upgrade)",
    404: "no such page or API endpoint",
    405: "this endpoint does not take that method",
    413: f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
}
