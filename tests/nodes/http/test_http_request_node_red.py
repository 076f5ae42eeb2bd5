"""http-request, differentially: the rows of cases.py marked node_red, through Node-RED
4's own http request node against the same real server (tests/http_server.py on
127.0.0.1), in one Node-RED run; what Node-RED sends on must hold what the row expects,
as portless's does (test_http_request.py).

The config is turned into Node-RED's by ``node_red_node``: the same mapping the
importer of Node-RED flows uses, the other way round."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.http_server import Server
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.http.cases import CASES, Case
from tests.nodes.http.test_http_request import filled, holds

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [case for case in CASES if case.node_red]
RETURN = {"text": "txt", "bytes": "bin", "json": "obj"}
SOURCE = {"text": "other", "msg": "msg"}


def node_red_node(config: dict[str, Any]) -> dict[str, Any]:
    """Node-RED's http request node for a portless http-request config (no
    credentials, TLS or proxy: those are config nodes of Node-RED's)."""
    method = config.get("method", "GET")
    return {
        "type": "http request",
        "method": "use" if method == "msg.method" else method,
        "url": config.get("url", ""),
        "ret": RETURN[config.get("response_as", "text")],
        "paytoqs": config.get("get_payload", "ignore"),
        "persist": config.get("keep_alive", False),
        "senderr": config.get("errors_to_catch_only", False),
        "authType": "",
        "headers": [{"keyType": SOURCE[h.get("name_from", "text")], "keyValue": h["name"],
                     "valueType": SOURCE[h.get("value_from", "text")],
                     "valueValue": h["value"]} for h in config.get("headers", [])],
    }


def to_node_red(value: Any) -> Any:
    """bytes as a Node.js Buffer's JSON (the runner makes a Buffer of it again)."""
    if isinstance(value, bytes):
        return {"type": "Buffer", "data": list(value)}
    if isinstance(value, dict):
        return {key: to_node_red(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_node_red(item) for item in value]
    return value


def from_node_red(value: Any) -> Any:
    """A Buffer's JSON from Node-RED as bytes."""
    if isinstance(value, dict):
        if value.keys() == {"type", "data"} and value["type"] == "Buffer":
            return bytes(value["data"])
        return {key: from_node_red(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_node_red(item) for item in value]
    return value


def node_red_case(case: Case, server: Server) -> NodeRedCase:
    return NodeRedCase(node_red_node(filled(case.config, server)),
                       [to_node_red(filled(case.msg, server))])


async def test_node_red_agrees_with_the_table(server: Server) -> None:
    cases = [node_red_case(case, server) for case in ROWS]
    # the server answers on this loop while Node-RED runs in its subprocess
    theirs = await asyncio.to_thread(run_in_node_red, cases, quiet_ms=1500)
    wrong = {}
    for case, [port] in zip(ROWS, theirs, strict=True):
        sent = [from_node_red(msg) for msg in port]
        if case.error:
            if sent:
                wrong[case.id] = f"sent {sent}"
            continue
        if len(sent) != 1:
            wrong[case.id] = f"sent {len(sent)} messages"
            continue
        problems = holds(sent[0], filled(case.expect, server))
        if problems:
            wrong[case.id] = "; ".join(problems)
    assert not wrong, wrong
