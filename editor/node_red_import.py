"""POST /api/import/node-red: the Import dialog's conversion of a pasted Node-RED export.

The body is ``{"export": TEXT}``; the answer is the importer's report (as JSON and as
the CLI's text) and the converted nodes, ready to be added to the open tab. Nothing is
written or deployed: the page adds the nodes undeployed, as any import. Two things the
editor cannot take are left out and said in the report: ``${ENV}`` references (the
editor never adds one, security.md; so a broker's login placeholder becomes empty) and
subflows (files of their own; the CLI writes them).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from quart import Quart, Response, request

from portless.editor.answers import errors_answer, json_answer
from portless.node_red_import.convert import SUBFLOWS, Conversion, convert
from portless.node_red_import.export import parse_export
from portless.node_red_import.report import Entry
from portless.runtime import FlowInvalid
from portless.runtime.deploy import CHECK_SECONDS

SOURCE = "the pasted export"
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def add_node_red_import_routes(app: Quart) -> None:
    """The route, behind the app's guard like every route."""

    @app.post("/api/import/node-red")
    async def import_node_red() -> Response:
        body = await request.get_data(as_text=True)
        try:
            text = json.loads(body).get("export")
        except (ValueError, AttributeError):
            text = None
        if not isinstance(text, str):
            return json_answer({"error": "the request body must be {\"export\": TEXT}, the "
                                         "Node-RED export as text"}, 400)
        try:  # converting checks the result as portless does: off the loop, bounded
            answer = await asyncio.wait_for(asyncio.to_thread(editor_import, text),
                                            CHECK_SECONDS)
        except FlowInvalid as exc:
            return errors_answer(exc)
        except TimeoutError:
            return json_answer({"error": f"the conversion took longer than "
                                         f"{CHECK_SECONDS:g} s"}, 503)
        return json_answer(answer)


def editor_import(text: str) -> dict[str, Any]:
    """The conversion as the page takes it: {report, text, nodes}."""
    conversion = convert(parse_export(text, SOURCE), SOURCE)
    nodes = _nodes_for_the_page(conversion)
    report = conversion.report
    report.files = []
    report.environment = []
    return {"report": report.as_json(), "text": report.text(), "nodes": nodes}


def _nodes_for_the_page(conversion: Conversion) -> list[dict[str, Any]]:
    """Every tab's nodes and the connections, in one list for the open tab; subflows and
    ${ENV} references left out, each said in the report."""
    report = conversion.report
    nodes: list[dict[str, Any]] = []
    for path, document in conversion.files.items():
        if path.startswith(SUBFLOWS + "/"):
            report.refused.append(Entry("", "subflow", document.get("name", ""),
                                        "subflows are files of their own, which the "
                                        "editor's import does not write; its instances "
                                        "are unknown types here: convert the export with "
                                        "'portless import-node-red' instead"))
            continue
        for node in document["nodes"]:
            if _without_references(node.get("config", {})):
                report.approximated.append(Entry(
                    node["id"], node["type"], node.get("name", ""),
                    "its ${ENV} references are left empty: the editor cannot add one (a "
                    "deploy would send the value somewhere new); write them into the "
                    "file, or convert with 'portless import-node-red'"))
            nodes.append(node)
    return nodes


def _without_references(config: Any) -> bool:
    """Empty every ${NAME} in the config's strings, in place; whether there was one."""
    found = False
    items = config.items() if isinstance(config, dict) else enumerate(config) \
        if isinstance(config, list) else ()
    for key, value in list(items):
        if isinstance(value, str) and _REFERENCE.search(value):
            config[key] = _REFERENCE.sub("", value)
            found = True
        elif isinstance(value, dict | list):
            found = _without_references(value) or found
    return found
