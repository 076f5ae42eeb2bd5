"""The node reference in Markdown, generated from the node types' own schemas."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .config import REF_KEYWORD
from .node import Node, default_outputs, follows_config
from .properties import PROPERTY_PATH_KEYWORD

NO_LISTENERS = ("There is no http-in, websocket-in, tcp-in or udp-in node: those would "
                "open a port, and portless opens none (http-request is outbound only).")
"""Said by `portless nodes` and the reference, so nobody looks for them."""

HEADER = f"""# Node reference

Generated from the node schemas by `portless docs -o docs/nodes.md`; do not edit by hand.
A test fails when this file no longer matches the schemas.

{NO_LISTENERS}
"""


def node_reference(classes: Iterable[type[Node]]) -> str:
    """One section per node type: what it does, its ports, and a table of its config."""
    sections = [HEADER]
    for cls in sorted(classes, key=lambda c: (c.category, c.type)):
        schema = cls.schema
        sections.append(f"\n## `{cls.type}` — {schema.get('title', cls.type)}\n")
        if schema.get("description"):
            sections.append(f"\n{schema['description']}\n")
        kind = "shared connection" if cls.shared else f"{cls.inputs} input, {_outputs(cls)}"
        sections.append(f"\nCategory: {cls.category}; {kind}.\n")
        rows = list(_rows(schema))
        if rows:
            sections.append("\n| field | type | default | description |\n|---|---|---|---|\n")
            sections.extend(f"| `{name}` | {kind} | {default} | {text} |\n"
                            for name, kind, default, text in rows)
    return "".join(sections)


def _outputs(cls: type[Node]) -> str:
    """ "2 outputs", or for outputs that follow the config "outputs from the config
    (one per rule; 1 with the defaults)"."""
    if not follows_config(cls):
        return f"{cls.outputs} output{'s' if cls.outputs != 1 else ''}"
    rule = f"{cls.outputs_rule}; " if cls.outputs_rule else ""
    return f"outputs from the config ({rule}{default_outputs(cls)} with the defaults)"


def _rows(schema: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str, str, str]]:
    for name, field in schema.get("properties", {}).items():
        default = f"`{json.dumps(field['default'])}`" if "default" in field else "required" \
            if name in schema.get("required", []) else "—"
        text = field.get("description", field.get("title", "")).replace("|", "\\|")
        if field.get("writeOnly"):
            text += " Secret: write-only, never shown back or logged."
        yield f"{prefix}{name}", _type_of(field), default, text
        for branch in [field, *field.get("oneOf", []), *field.get("anyOf", [])]:
            if branch.get("type") == "object" and "properties" in branch:
                yield from _rows(branch, f"{prefix}{name}.")


def _type_of(field: Mapping[str, Any]) -> str:
    if REF_KEYWORD in field:
        return f"id of a `{field[REF_KEYWORD]}`"
    if field.get(PROPERTY_PATH_KEYWORD) is True:
        return "message property path"
    if "enum" in field:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in field["enum"])
    if "const" in field:
        return f"`{json.dumps(field['const'])}`"
    for combinator in ("oneOf", "anyOf"):
        if combinator in field:
            return " or ".join(_type_of(branch) for branch in field[combinator])
    kind = field.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)
