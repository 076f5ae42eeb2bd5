"""csv, differentially: test_csv.py's table through Node-RED 4's own csv node in its RFC
4180 mode (tests/node_red.py), one run for the whole table; rows where portless differs
on purpose are portless's alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.test_csv import CASES, PORTLESS_ONLY, normal

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [case for case in CASES if case.id not in PORTLESS_ONLY]
MULTI = {"messages": "one", "array": "mult"}


def node_red_config(config: dict[str, object]) -> dict[str, object]:
    """The csv node of a Node-RED export that says what the portless config says."""
    return {"type": "csv", "spec": "" if config.get("mode") == "legacy" else "rfc",
            "temp": config.get("columns", ""),
            "sep": config.get("separator", ","),
            "hdrin": config.get("columns_from_first_row", False),
            "hdrout": config.get("header_out", "none"),
            "multi": MULTI[str(config.get("rows_as", "messages"))],
            "ret": config.get("line_end", "\r\n"), "skip": str(config.get("skip", 0)),
            "strings": config.get("parse_numbers", True),
            "include_empty_strings": config.get("include_empty_strings", False),
            "include_null_values": config.get("include_null_values", False)}


def differing(rows: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows Node-RED's csv node answers otherwise, with what it sent."""
    cases = []
    for case in rows:
        config, msgs, _, _ = case.values
        cases.append(NodeRedCase(node_red_config(config), [
            {"_msgid": f"in-{number}", **msg} for number, msg in enumerate(msgs)]))
    theirs = run_in_node_red(cases)
    return {case.id: [normal(msg, "in-0") for msg in port]
            for case, [port] in zip(rows, theirs, strict=True)
            if [normal(msg, "in-0") for msg in port] != case.values[2]}


def test_the_table_agrees_with_node_red() -> None:
    assert differing(ROWS) == {}
    assert len(ROWS) == 52
