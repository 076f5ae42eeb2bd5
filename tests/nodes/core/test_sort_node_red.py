"""sort, differentially: test_sort.py's table through Node-RED 4's own sort node too
(tests/node_red.py), one run for the whole table; the bound is portless's alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.nodes.core.sequence_rows import agree_with_node_red
from tests.nodes.core.test_sort import CASES

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess


def node_red_sort(config: dict[str, Any]) -> dict[str, Any]:
    """A portless sort config as Node-RED's sort writes it (the importer's inverse)."""
    by_expression = config.get("key_by", "value") == "jsonata"
    expression = config.get("key_expression", "$")
    sequence = config.get("target", "property") == "sequence"
    return {"type": "sort", "order": config.get("order", "ascending"),
            "as_num": config.get("as_number", False),
            "target": config.get("property", "payload"),
            "targetType": "seq" if sequence else "msg",
            "msgKey": expression if by_expression else "payload",
            "msgKeyType": "jsonata" if by_expression else "elem",
            "seqKey": expression if by_expression else config.get("key_property", "payload"),
            "seqKeyType": "jsonata" if by_expression else "msg"}


def test_the_table_agrees_with_node_red() -> None:
    agree_with_node_red(CASES, node_red_sort)
