"""POST /api/outputs: how many outputs each node has with its config as the page holds it.

The page asks rather than working it out: the answer is the node type's own
``output_count`` (Python), the one the flow checker and the engine use. A config the
server cannot check gets a sentence instead of a count, and the page keeps the count
the node had.
"""

from __future__ import annotations

from typing import Any

from portless.editor.flows import MAX_NODES
from portless.runtime import FlowInvalid, Registry, config_outputs

SHAPE = 'send {"nodes": [{"id": ID, "type": TYPE, "config": {...}}, ...]}'


class BadRequest(ValueError):
    """The body is not a list of nodes to count (a 400, in words)."""


def output_counts(registry: Registry, file: str, body: dict[str, Any]) -> dict[str, Any]:
    """``{"outputs": {id: count}, "errors": {id: sentence}, "details": [{node, pointer,
    message}]}``: a node is in ``outputs`` or in ``errors``, never both."""
    nodes = body.get("nodes")
    if not isinstance(nodes, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("id"), str)
            and isinstance(entry.get("type"), str) for entry in nodes):
        raise BadRequest(SHAPE)
    if len(nodes) > MAX_NODES:
        raise BadRequest(f"more than {MAX_NODES:,} nodes to count at once")
    outputs: dict[str, int] = {}
    errors: dict[str, str] = {}
    details: list[dict[str, Any]] = []
    for entry in nodes:
        node_id = entry["id"]
        try:
            outputs[node_id] = config_outputs(registry, entry["type"], entry.get("config", {}),
                                              file=file, node_id=node_id)
        except FlowInvalid as exc:
            errors[node_id] = "; ".join(f"{error.pointer}: {error.message}"
                                        for error in exc.errors)
            details.extend({"node": node_id, "pointer": error.pointer,
                            "message": error.message} for error in exc.errors)
    return {"outputs": outputs, "errors": errors, "details": details}
