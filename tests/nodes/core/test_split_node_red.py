"""split, differentially: test_split.py's table through Node-RED 4's own split node too
(tests/node_red.py), one run for the whole table; rows portless treats differently on
purpose (the bounds, bytes ending with the delimiter) are portless's alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.nodes.core.sequence_rows import agree_with_node_red
from tests.nodes.core.test_split import CASES

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

NODE_RED_SPLIT_BY = {"delimiter": "str", "bytes": "bin", "length": "len"}


def node_red_split(config: dict[str, Any]) -> dict[str, Any]:
    """A portless split config as Node-RED's split writes it (the importer's inverse)."""
    by = config.get("split_by", "delimiter")
    splt = {"delimiter": config.get("delimiter", "\n"),
            "bytes": json.dumps(config.get("delimiter_bytes", [10])),
            "length": str(config.get("length", 1))}[by]
    return {"type": "split", "property": config.get("property", "payload"),
            "spltType": NODE_RED_SPLIT_BY[by], "splt": splt,
            "arraySplt": config.get("array_length", 1), "arraySpltType": "len",
            "stream": config.get("stream", False),
            "addname": config.get("key_property") or ""}


def test_the_table_agrees_with_node_red() -> None:
    agree_with_node_red(CASES, node_red_split)

