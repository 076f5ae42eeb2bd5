"""Reading a Node-RED export: the file, its JSON and its shape, checked before anything
is converted so hostile input is an error naming the file and the node, never a crash
or a half-written result."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from portless.runtime import FlowError, FlowInvalid, JsonProblems, safe_json_loads
from portless.runtime.flow import MAX_FLOW_BYTES

ExportInvalid = FlowInvalid
"""Raised with every problem found (FlowError: file, node id, field, sentence)."""
MAX_EXPORT_BYTES = MAX_FLOW_BYTES
_ID = re.compile(r"^[^\u0000-\u001f\u007f-\u009f]{1,200}$")
_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f]")


def read_export(path: str | Path) -> list[dict[str, Any]]:
    """The nodes of a Node-RED export file (a regular file of UTF-8 JSON, at most
    MAX_EXPORT_BYTES); raises ExportInvalid."""
    file = str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise _invalid(file, "not a regular file; give a Node-RED export (.json)")
            with open(descriptor, "rb", closefd=False) as stream:
                data = stream.read(MAX_EXPORT_BYTES + 1)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise _invalid(file, f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_EXPORT_BYTES:
        raise _invalid(file, f"larger than {MAX_EXPORT_BYTES} bytes, the most an export "
                             f"may hold")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid(file, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                             f"{exc.start})") from None
    return parse_export(text, file)


def parse_export(text: str, file: str = "<export>") -> list[dict[str, Any]]:
    """The nodes of an export's text: an array of nodes, or ``{"flows": [...]}`` (with
    ``rev``, as Node-RED's runtime API gives it); raises ExportInvalid."""
    if len(text) > MAX_EXPORT_BYTES:
        raise _invalid(file, f"larger than {MAX_EXPORT_BYTES} bytes, the most an export "
                             f"may hold")
    try:
        document = safe_json_loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid(file, f"line {exc.lineno}, column {exc.colno}: not valid JSON: "
                             f"{exc.msg}") from None
    except JsonProblems as exc:
        raise FlowInvalid([_placed(file, exc.document, list(path), sentence)
                           for path, sentence in exc.found]) from None
    nodes = document.get("flows") if isinstance(document, dict) else document
    if not isinstance(nodes, list):
        raise _invalid(file, "not a Node-RED export: it is an array of nodes, or an object "
                             "with such an array under \"flows\"")
    errors = list(_shape_errors(nodes, file))
    if errors:
        raise FlowInvalid(errors)
    return nodes


def _shape_errors(nodes: list[Any], file: str) -> list[FlowError]:
    errors: list[FlowError] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            errors.append(FlowError(file, f"entry {index} is not an object (a node)"))
            continue
        node_id, node_type = node.get("id"), node.get("type")
        if not isinstance(node_id, str) or not _ID.match(node_id):
            errors.append(FlowError(file, f"entry {index}: 'id' must be a text of 1 to 200 "
                                          f"characters without control characters"))
            continue
        if node_id in seen:
            errors.append(FlowError(file, "duplicate id: another node has the same id",
                                    node_id, "/id"))
        seen.add(node_id)
        if not isinstance(node_type, str) or not _ID.match(node_type):
            errors.append(FlowError(file, "'type' must be a text without control "
                                          "characters", node_id, "/type"))
        errors.extend(_node_errors(node, file))
    ids = {node["id"] for node in nodes if isinstance(node, dict) and "id" in node}
    for node in nodes:
        if isinstance(node, dict) and isinstance(node.get("wires"), list):
            for port, targets in enumerate(node["wires"]):
                for place, target in enumerate(targets if isinstance(targets, list) else []):
                    if target not in ids:
                        errors.append(FlowError(file, f"wire to missing node {target!r}",
                                                str(node.get("id")), f"/wires/{port}/{place}"))
    return errors


def _node_errors(node: dict[str, Any], file: str) -> list[FlowError]:
    errors = []
    wires = node.get("wires", [])
    if not isinstance(wires, list) or not all(
            isinstance(port, list) and all(isinstance(target, str) for target in port)
            for port in wires):
        errors.append(FlowError(file, "'wires' must be a list of lists of node ids",
                                node["id"], "/wires"))
    for key in ("x", "y"):
        if key in node and (isinstance(node[key], bool)
                            or not isinstance(node[key], int | float)):
            errors.append(FlowError(file, f"'{key}' must be a number", node["id"], f"/{key}"))
    for key in ("name", "z", "label"):
        value = node.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(FlowError(file, f"'{key}' must be a text", node["id"], f"/{key}"))
        elif isinstance(value, str) and _CONTROL.search(value):
            errors.append(FlowError(file, f"'{key}' must not hold control characters (such "
                                          f"as a newline): portless shows it on one line",
                                    node["id"], f"/{key}"))
    return errors


def _placed(file: str, document: Any, path: list[Any], sentence: str) -> FlowError:
    """A problem the JSON reader found, named by the node it is in."""
    if path[:1] == ["flows"] and isinstance(document, dict):
        document, path = document.get("flows"), path[1:]
    if path and isinstance(path[0], int) and isinstance(document, list) \
            and path[0] < len(document) and isinstance(document[path[0]], dict) \
            and isinstance(document[path[0]].get("id"), str):
        pointer = "".join(f"/{part}" for part in path[1:])
        return FlowError(file, sentence, document[path[0]]["id"], pointer)
    return FlowError(file, sentence, None, "".join(f"/{part}" for part in path))


def _invalid(file: str, sentence: str) -> FlowInvalid:
    return FlowInvalid([FlowError(file, sentence)])
