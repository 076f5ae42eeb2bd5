"""Node-RED's own example flows (all of those its core nodes ship, read from the
installed Node-RED 4: node_red_examples.py): each converts into files that validate, every node
accounted for in the report, each JavaScript function kept disabled with its code, each
node not converted left as a note where it was; and the totals are what portless's
palette gives today (update them as nodes land)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path, PurePosixPath

import pytest

from portless.node_red_import.convert import convert
from portless.node_red_import.export import parse_export
from tests.node_red_import.convert_helpers import accounted, written_and_valid
from tests.node_red_import.node_red_examples import example_paths, example_text, examples_dir

CONVERTED = {"batch": 5, "catch": 2, "change": 36, "comment": 274, "complete": 1,
             "csv": 14, "debug": 162, "delay": 7, "http request": 6, "inject": 174,
             "join": 24, "json": 3, "link call": 1, "link in": 3, "link out": 3, "range": 4,
             "sort": 12, "split": 26, "status": 1, "switch": 12, "template": 69,
             "trigger": 6, "yaml": 2}
"""Totals over Node-RED 4.1.15's 113 examples, by Node-RED type."""
NOT_CONVERTED = {"exec": 3, "file": 11, "file in": 7, "html": 4, "http in": 10,
                 "http response": 8, "tcp in": 3, "tcp out": 3, "tcp request": 1,
                 "udp in": 1, "udp out": 1, "watch": 2, "websocket in": 2,
                 "websocket out": 2, "websocket-client": 2, "websocket-listener": 2,
                 "xml": 3}
"""Not converted, each with its reason in the report: nodes that would open a port, run
commands, or that portless has not."""


@pytest.mark.slow  # 113 conversions, each checked as portless checks flows: about 5 s
def test_every_example_converts_validates_and_is_accounted_for(tmp_path: Path) -> None:
    paths = example_paths()
    assert len(paths) >= 100
    converted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for number, path in enumerate(paths):
        name = PurePosixPath(path).name
        nodes = parse_export(example_text(path), name)
        conversion = convert(nodes, name)
        accounted(nodes, conversion)
        files = written_and_valid(conversion, tmp_path / str(number))
        by_id = {node["id"]: node for document in files.values()
                 for node in document["nodes"]}
        for entry in conversion.report.kept_disabled:
            code = by_id[entry.node_id]["config"]["code"]
            original = next(node for node in nodes if node["id"] == entry.node_id)
            assert all(f"# {line}".rstrip() in code for line in original["func"].split("\n"))
            assert by_id[entry.node_id]["disabled"] is True
        for entry in conversion.report.refused:
            original = next(node for node in nodes if node["id"] == entry.node_id)
            if "x" in original:
                note = by_id[entry.node_id]
                assert (note["type"], note["x"], note["y"]) == (
                    "comment", original["x"], original["y"])
                assert entry.text in note["config"]["text"]
        converted.update(conversion.report.converted)
        refused.update(entry.type for entry in conversion.report.refused)
    assert dict(converted) == CONVERTED
    assert dict(refused) == NOT_CONVERTED


@pytest.mark.parametrize(("path", "complete"), [
    ("common/link/02 - Link across tabs.json", True),
    ("function/function/01 - Send message to output port.json", False),
])
def test_the_exit_status_follows_the_report(path: str, complete: bool) -> None:
    example_paths()  # or a skip
    text = example_text(path)
    assert convert(parse_export(text, path), path).report.complete is complete


def test_a_node_red_without_its_examples_is_a_skip_saying_why(tmp_path: Path) -> None:
    red_js = tmp_path / "node_modules/node-red/red.js"
    red_js.parent.mkdir(parents=True)
    with pytest.raises(pytest.skip.Exception, match="has no @node-red/nodes/examples"):
        examples_dir(red_js)


def test_the_examples_are_found_where_npm_puts_them(tmp_path: Path) -> None:
    red_js = tmp_path / "node_modules/node-red/red.js"
    hoisted = tmp_path / "node_modules/@node-red/nodes/examples"
    hoisted.mkdir(parents=True)
    assert examples_dir(red_js) == hoisted
