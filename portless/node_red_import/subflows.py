"""Node-RED subflows as portless subflow files: the declaration (input, outputs,
parameters from the subflow's env) and the parameters an instance sets."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .source import NotConvertible, Source
from .values import json_of, number_of

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMAS = {"str": "string", "num": "number", "bool": "boolean"}


def parameter(source: Source, entry: Any) -> tuple[str, dict[str, Any]]:
    """One env entry of a subflow (or of an instance) as (name, JSON Schema with the value
    as its default); NotConvertible names what portless cannot take."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise NotConvertible("env: an entry without a name")
    name, kind, value = entry["name"], entry.get("type") or "str", entry.get("value", "")
    if not _NAME.match(name):
        raise NotConvertible(f"env {name!r}: a parameter name is letters, digits and _")
    if kind in _SCHEMAS:
        schema: dict[str, Any] = {"type": _SCHEMAS[kind]}
        if kind == "num":
            value = number_of(value, f"env {name}")
        elif kind == "bool":
            value = value is True or value == "true"
        elif not isinstance(value, str):
            value = str(value)
        return name, {**schema, "default": value}
    if kind == "json":
        return name, {"default": json_of(value if isinstance(value, str) else "null",
                                         f"env {name}")}
    if kind == "env":
        return name, {"type": "string", "default": "${" + str(value) + "}"}
    if kind == "cred":
        source.note(f"env {name}: a credential is not copied; give it as ${{ENV}} in the "
                    f"instance")
        return name, {"type": "string", "default": ""}
    raise NotConvertible(f"env {name!r}: a parameter of type {kind!r} is not offered")


def declaration(source: Source, definition: Mapping[str, Any],
                inner: Callable[[str, bool], str | None]) -> dict[str, Any]:
    """The ``subflow`` declaration of a portless subflow file; ``inner(id, as_input)``
    maps a Node-RED id to the portless id of a converted inner node (one with an input
    when ``as_input``), else None."""
    declared: dict[str, Any] = {}
    inputs = definition.get("in") or []
    if inputs:
        wires = inputs[0].get("wires", []) if isinstance(inputs[0], dict) else []
        declared["input"] = [found for wire in wires if isinstance(wire, dict)
                             and (found := inner(str(wire.get("id")), True)) is not None]
    outputs = []
    for port in definition.get("out") or []:
        sources: list[dict[str, Any]] = []
        for wire in (port.get("wires", []) if isinstance(port, dict) else []):
            if not isinstance(wire, dict):
                continue
            if wire.get("id") == definition["id"]:
                sources.append({"input": True})
            elif (found := inner(str(wire.get("id")), False)) is not None:
                sources.append({"node": found, "port": int(wire.get("port", 0))})
        outputs.append(sources)
    if outputs:
        declared["outputs"] = outputs
    properties = {}
    for entry in definition.get("env") or []:
        try:
            name, schema = parameter(source, entry)
        except NotConvertible as exc:
            source.note(f"{exc}: left out")
            continue
        properties[name] = schema
    title = str(definition.get("name") or definition["id"])
    declared["parameters"] = {"title": title, "description": str(
        definition.get("info") or f"{title} (imported from Node-RED)"),
        "properties": properties}
    if isinstance(definition.get("category"), str) and definition["category"]:
        declared["category"] = definition["category"]
    if definition.get("status"):
        source.note("its status output is not converted: an instance shows the worst "
                    "status of its nodes")
    return declared
