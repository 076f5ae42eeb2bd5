"""The editor's answers: JSON bodies, flow errors, the request's flow document, and
reading and deploying one flow file, shared by /api/flow and /api/tabs/NAME."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from quart import Response, request

from portless.editor.flows import UNREADABLE, Conflict, Deployed, FlowService
from portless.runtime import FlowInvalid, safe_json
from portless.runtime.flow import placed_problems


async def read_answer(service: FlowService) -> Response:
    """GET: the flow file (secrets masked) with its ETag; 409 if it is broken on disk."""
    try:
        document, etag = await asyncio.to_thread(service.read)  # a big flow: off the loop
    except FlowInvalid as exc:
        response = errors_answer(exc, 409)
        response.headers["ETag"] = f'"{UNREADABLE}"'
        return response
    response = json_answer(document)
    response.headers["ETag"] = f'"{etag}"'
    return response


async def write_answer(service: FlowService) -> Response:
    """PUT with If-Match: validate, write, deploy (the deploy service); the report."""
    try:
        document = await read_body(service.path)
        if isinstance(document, Response):
            return document
        deployed = await service.write(document, request.headers.get("If-Match"))
    except FlowInvalid as exc:
        return errors_answer(exc)
    except Conflict as exc:
        return conflict_answer(exc)
    response = json_answer(*deploy_answer(deployed))
    response.headers["ETag"] = f'"{deployed.etag}"'
    return response


async def validate_answer(service: FlowService) -> Response:
    """POST: the errors a deploy of the body would get (200 either way), nothing written."""
    try:
        document = await read_body(service.path)
        if isinstance(document, Response):
            return document
        await service.validate(document)
    except FlowInvalid as exc:
        return errors_answer(exc, 200)
    return json_answer({"errors": [], "details": []})


def conflict_answer(exc: Conflict) -> Response:
    return json_answer(conflict_body(exc), exc.status)


def conflict_body(exc: Conflict) -> dict[str, Any]:
    """The JSON of ``conflict_answer``: why, and the ETag of the file as it is now."""
    text = ("the flow file changed since this page read it" if exc.status == 412
            else "send the ETag of the file's GET in If-Match")
    return {"error": text, "etag": f'"{exc.etag}"'}


async def read_body(file: Path) -> dict[str, Any] | Response:
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
        return json_answer({"error": f"the request body is not JSON: {exc}"}, 400)
    if not isinstance(document, dict):
        return json_answer({"error": f"the request body must be a flow document (a JSON "
                                     f"object with 'version' and 'nodes'), not a JSON "
                                     f"{_JSON_NAMES.get(type(document), 'value')}"}, 400)
    return document


def deploy_answer(deployed: Deployed) -> tuple[dict[str, Any], int]:
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


def errors_answer(exc: FlowInvalid, status: int = 400) -> Response:
    """Flow errors: each as `portless validate` prints it, and placed (node, pointer)."""
    return json_answer(errors_body(exc), status)


def errors_body(exc: FlowInvalid) -> dict[str, Any]:
    """The JSON of ``errors_answer`` (also a remote device's answer, fleet/remote_device.py)."""
    return {"errors": [str(error) for error in exc.errors],
            "details": [{"node": e.node_id, "inner": e.inner, "pointer": e.pointer,
                         "message": e.message} for e in exc.errors]}


def json_answer(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status, content_type="application/json")

