"""join, differentially: test_join.py's table through Node-RED 4's own join node too
(tests/node_red.py), one run for the whole table; rows portless treats differently on
purpose (the bounds, forged indexes) are portless's alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.nodes.core.sequence_rows import agree_with_node_red
from tests.nodes.core.test_join import CASES

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

NODE_RED_MODES = {"auto": "auto", "manual": "custom", "reduce": "reduce"}
NODE_RED_KINDS = {"string": "str", "number": "num", "boolean": "bool", "json": "json",
                  "jsonata": "jsonata", "env": "env", "flow": "flow", "global": "global"}


def node_red_join(config: dict[str, Any]) -> dict[str, Any]:
    """A portless join config as Node-RED's join writes it (the importer's inverse)."""
    initial = config.get("reduce_initial", {"kind": "number", "value": 0})
    value = initial.get("value")
    by_bytes = config.get("join_with", "string") == "bytes"
    return {
        "type": "join", "mode": NODE_RED_MODES[config.get("mode", "auto")],
        "build": config.get("build", "array"),
        "property": "" if config.get("whole_message") else config.get("property", "payload"),
        "propertyType": "full" if config.get("whole_message") else "msg",
        "key": config.get("key_property", "topic"),
        "joiner": json.dumps(config.get("joiner_bytes", [])) if by_bytes
        else config.get("joiner", "\n"),
        "joinerType": "bin" if by_bytes else "str",
        "useparts": config.get("use_parts", False),
        "accumulate": config.get("accumulate", False),
        "timeout": str(config.get("timeout", 0) or ""),
        "count": str(config.get("count", 0) or ""),
        "reduceRight": config.get("reduce_right", False),
        "reduceExp": config.get("reduce_expression", "$A"),
        "reduceInit": json.dumps(value) if initial["kind"] == "json" else str(value)
        if not isinstance(value, bool) else str(value).lower(),
        "reduceInitType": NODE_RED_KINDS[initial["kind"]],
        "reduceFixup": config.get("reduce_fixup") or "",
    }


def test_the_table_agrees_with_node_red() -> None:
    agree_with_node_red(CASES, node_red_join)

