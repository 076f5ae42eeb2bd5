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
    WS   /api/ws                   node status, warnings, errors, debug, flow-changed

Every refusal is JSON ``{"error": sentence}`` (or the flow errors), never an HTML page
or a traceback. A request body may be at most MAX_BODY_BYTES (413 above it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from quart import Quart, Response, request, send_from_directory, websocket
from werkzeug.exceptions import HTTPException

from portless.editor.connections import ConnectionBound
from portless.editor.flows import UNREADABLE, Conflict, Deployed, FlowService
from portless.editor.outputs import BadRequest, output_counts
from portless.editor.security import Guard
from portless.editor.stream import Hub, Page
from portless.runtime import FlowInvalid, safe_json
from portless.runtime.deploy import CHECK_SECONDS
from portless.runtime.flow import placed_problems

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest request body (a flow of some 40,000 nodes); Node-RED's default is 5 MB."""
log = logging.getLogger("portless.editor")


def create_app(service: FlowService, hub: Hub, *, port: int, token: str,
               connections: ConnectionBound | None = None) -> Quart:
    """The editor app for one running flow; ``token`` is this start's secret;
    ``connections`` is the server's connection bound, told which connections spoke."""
    app = Quart(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    registry, engine = service.registry, service.engine

    @app.get("/")
    async def index() -> Response:
        response = await send_from_directory(STATIC, "index.html")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/api/nodes")
    async def nodes() -> Response:
        return _json([registry.describe(cls) for cls in registry])

    @app.get("/api/flow")
    async def get_flow() -> Response:
        try:
            document, etag = await asyncio.to_thread(service.read)  # a big flow: off the loop
        except FlowInvalid as exc:
            response = _errors(exc, 409)
            response.headers["ETag"] = f'"{UNREADABLE}"'
            return response
        response = _json(document)
        response.headers["ETag"] = f'"{etag}"'
        return response

    @app.put("/api/flow")
    async def put_flow() -> Response:
        try:
            document = await _body(service.path)
            if isinstance(document, Response):
                return document
            deployed = await service.write(document, request.headers.get("If-Match"))
        except FlowInvalid as exc:
            return _errors(exc)
        except Conflict as exc:
            text = ("the flow file changed since this page read it" if exc.status == 412
                    else "send the ETag of GET /api/flow in If-Match")
            return _json({"error": text, "etag": f'"{exc.etag}"'}, exc.status)
        response = _json(*_deploy_answer(deployed))
        response.headers["ETag"] = f'"{deployed.etag}"'
        return response

    @app.post("/api/validate")
    async def validate() -> Response:
        try:
            document = await _body(service.path)
            if isinstance(document, Response):
                return document
            await service.validate(document)
        except FlowInvalid as exc:
            return _errors(exc, 200)
        return _json({"errors": [], "details": []})

    @app.post("/api/outputs")
    async def outputs() -> Response:
        try:
            body = await _body(service.path)
            if isinstance(body, Response):
                return body
            # A plugin's output_count runs off the loop, and a slow one is cut short.
            return _json(await asyncio.wait_for(asyncio.to_thread(
                output_counts, registry, str(service.path), body), CHECK_SECONDS))
        except FlowInvalid as exc:
            return _errors(exc)
        except BadRequest as exc:
            return _json({"error": str(exc)}, 400)
        except TimeoutError:
            return _json({"error": f"counting the outputs took longer than "
                                   f"{CHECK_SECONDS:g} s"}, 503)

    @app.post("/api/nodes/<node_id>/inject")
    async def inject(node_id: str) -> Response:
        if node_id not in engine.nodes:
            return _json({"error": f"no running node {node_id!r}"}, 404)
        engine.inject(node_id)
        return Response("", 204)

    @app.websocket("/api/ws")
    async def events() -> None:
        page = hub.open()
        try:
            await websocket.accept()
            sending = asyncio.ensure_future(_send_frames(hub, page))
            receiving = asyncio.ensure_future(websocket.receive())
            try:
                await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sending.cancel()
                receiving.cancel()
            if receiving.done() and not receiving.cancelled():
                # The page never sends; what does is not the page, and unread messages
                # would pile up in memory.
                await websocket.close(1008, "this socket only sends events")
        finally:
            hub.close(page)

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        return _json({"error": _HTTP_ERRORS.get(exc.code or 500, exc.description)},
                     exc.code or 500)

    @app.errorhandler(Exception)
    async def internal_error(exc: Exception) -> Response:
        log.exception("editor: %s %s failed", request.method, request.path)
        return _json({"error": "the editor failed on this request; the log has the details"},
                     500)

    # Composed by wrapping, so the Quart test client goes through the guard as well.
    guard = Guard(app.asgi_app, port=port, token=token, connections=connections)
    app.asgi_app = guard  # type: ignore[method-assign,assignment]
    return app


async def _send_frames(hub: Hub, page: Page) -> None:
    async for frame in hub.frames(page):
        await websocket.send(json.dumps(frame, default=str))


_HTTP_ERRORS = {
    400: "this endpoint does not understand the request (/api/ws needs a websocket "
         "upgrade)",
    404: "no such page or API endpoint",
    405: "this endpoint does not take that method",
    413: f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
}


async def _body(file: Path) -> dict[str, Any] | Response:
    """The request's JSON object (a flow document), or the 400 answer saying why not.

    Parsed as the flow file is (a duplicate key or a 5,000-digit integer is a flow
    error naming node and field, raised as FlowInvalid), except that the checks of the
    values are left to check_flow, which makes them anyway."""
    data = await request.get_data()
    try:  # parsing a few MB takes a while: off the event loop, so the flow keeps running
        document = await asyncio.to_thread(safe_json.parse, data)
    except safe_json.JsonProblems as exc:
        raise placed_problems(exc, str(file)) from None
    except ValueError as exc:
        return _json({"error": f"the request body is not JSON: {exc}"}, 400)
    if not isinstance(document, dict):
        return _json({"error": f"the request body must be a flow document (a JSON object "
                               f"with 'version' and 'nodes'), not a JSON "
                               f"{_JSON_NAMES.get(type(document), 'value')}"}, 400)
    return document


def _deploy_answer(deployed: Deployed) -> tuple[dict[str, Any], int]:
    """The PUT's JSON and status: 200 with the report, or 409 when the deploy rolled
    back (the flow before runs again and its file is back; the page keeps its edit)."""
    outcome = deployed.outcome
    report = outcome.report
    answer: dict[str, Any] = {
        "etag": f'"{deployed.etag}"', "started": report.started, "stopped": report.stopped,
        "unchanged": report.unchanged,
        "failed": [{"node": node_id, "reason": reason}
                   for node_id, reason in report.failed.items()]}
    if outcome.rollback is None:
        return answer, 200
    return {**answer, "rolled_back": True, "error": outcome.sentence()}, 409


_JSON_NAMES = {list: "array", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}


def _errors(exc: FlowInvalid, status: int = 400) -> Response:
    return _json({"errors": [str(error) for error in exc.errors],
                  "details": [{"node": e.node_id, "pointer": e.pointer, "message": e.message}
                              for e in exc.errors]}, status)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, content_type="application/json")

