"""csv, differentially: test_csv.py's table through Node-RED 4's own csv node in its RFC
4180 mode (tests/node_red.py), one run for the whole table; rows where portless differs
on purpose are portless's alone."""

from __future__ import annotations

import random
from typing import Any

import pytest

from portless.testing import run_node
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


CHARACTERS = ["a", "1", "0", "-", ".", " ", ",", ";", '"', '"', "\n", "\r", "e5"]


def random_rows(rng: random.Random, mode: str, count: int) -> list[Any]:
    """Rows of random CSV texts read into one array, and random objects and lists
    written, with the options drawn too (a fixed seed). Left out of the draw is what the
    schema lists as legacy mode's differences: a text starting with a separator, a
    header over a list of plain values, a value with a newline written without columns."""
    rows = []
    for number in range(count):
        config = {"mode": mode, "rows_as": "array", "separator": rng.choice([",", ";"]),
                  "columns_from_first_row": rng.random() < 0.3,
                  "parse_numbers": rng.random() < 0.7,
                  "include_empty_strings": rng.random() < 0.3,
                  "include_null_values": rng.random() < 0.3,
                  "columns": rng.choice(["", "", "a,b,c", "a,,c", '"x,y",z']),
                  "header_out": rng.choice(["none", "all"]), "line_end": "\n"}
        if number % 3 == 2:
            values = ["", "a", 'q"', "1.5", "x,y", "l\nm", 7, True]
            if mode == "legacy" and not config["columns"]:
                values.remove("l\nm")
            cells = [rng.choice(values) for _ in "abc"]
            payload: Any = (dict(zip(rng.sample(["a", "b", "c", "d"], 3), cells, strict=True))
                            if rng.random() < 0.6 else cells)
            if mode == "legacy" and isinstance(payload, list) and not config["columns"]:
                config["header_out"] = "none"
        else:
            payload = "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(1, 24)))
            if mode == "legacy":  # a text starting with a separator fails Node-RED's
                payload = "x" + payload
        rows.append(pytest.param(config, [{"payload": payload}], None, None,
                                 id=f"random-{mode}-{number}"))
    return rows


def blank_as_zero(msg: dict[str, Any]) -> dict[str, Any]:
    """The difference the schema lists for RFC mode: a cell of spaces stays text here;
    Node-RED reads it as the number 0 (JavaScript's +" ")."""
    rows = msg["payload"]
    if isinstance(rows, list):
        msg["payload"] = [{key: 0 if isinstance(value, str) and value and not value.strip(" ")
                           else value for key, value in row.items()} for row in rows]
    return msg


@pytest.mark.parametrize("mode", ["rfc", "legacy"])
def test_random_csv_reads_and_writes_as_in_node_red(mode: str) -> None:
    """250 texts and values drawn at random per mode, through both: the same messages."""
    rows = random_rows(random.Random(20261201), mode, 250)
    theirs = run_in_node_red([NodeRedCase(node_red_config(row.values[0]), [
        {"_msgid": "in-0", **row.values[1][0]}]) for row in rows])
    differ = {}
    for row, [port] in zip(rows, theirs, strict=True):
        config, msgs, _, _ = row.values
        mine = run_node("csv", config, [{"_msgid": "in-0", **msgs[0]}]).outputs[0]
        if mode == "rfc" and config["parse_numbers"]:
            mine = [blank_as_zero(msg) for msg in mine]
        if [normal(msg, "in-0") for msg in mine] != [normal(msg, "in-0") for msg in port]:
            differ[row.id] = (config, msgs[0]["payload"], mine, port)
    assert differ == {}
