"""Reading an export: the forms Node-RED writes, and hostile input refused with the file
and the node id, before anything is converted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from portless.node_red_import.export import (
    MAX_EXPORT_BYTES,
    ExportInvalid,
    parse_export,
    read_export,
)

NODES = [{"id": "t1", "type": "tab", "label": "Flow 1"},
         {"id": "a", "type": "inject", "z": "t1", "wires": [["b"]]},
         {"id": "b", "type": "debug", "z": "t1", "wires": []}]


@pytest.mark.parametrize("document", [NODES, {"flows": NODES}, {"rev": "abc", "flows": NODES}])
def test_the_forms_of_an_export(document: Any) -> None:
    assert parse_export(json.dumps(document), "f.json") == NODES


def errors(text: str) -> list[str]:
    with pytest.raises(ExportInvalid) as raised:
        parse_export(text, "f.json")
    return [str(error) for error in raised.value.errors]


@pytest.mark.parametrize(("text", "expected"), [
    ("[{", ["f.json: line 1, column 3: not valid JSON: Expecting property name enclosed "
            "in double quotes"]),
    ("{\"nodes\": []}", ["f.json: not a Node-RED export: it is an array of nodes, or an "
                         "object with such an array under \"flows\""]),
    ("[1]", ["f.json: entry 0 is not an object (a node)"]),
    ('[{"type": "debug"}]', ["f.json: entry 0: 'id' must be a text of 1 to 200 characters "
                             "without control characters"]),
    ('[{"id": "a\\nb", "type": "debug"}]',
     ["f.json: entry 0: 'id' must be a text of 1 to 200 characters without control "
      "characters"]),
    ('[{"id": "a", "type": "debug"}, {"id": "a", "type": "inject"}]',
     ["f.json: node a: /id: duplicate id: another node has the same id"]),
    ('[{"id": "a", "type": "inject", "wires": [["gone"]]}]',
     ["f.json: node a: /wires/0/0: wire to missing node 'gone'"]),
    ('[{"id": "a", "type": "inject", "wires": "b"}]',
     ["f.json: node a: /wires: 'wires' must be a list of lists of node ids"]),
    ('[{"id": "a", "type": "inject", "name": "line\\nbreak\\u0007"}]',
     ["f.json: node a: /name: 'name' must not hold control characters (such as a "
      "newline): portless shows it on one line"]),
    ('[{"id": "t", "type": "tab", "label": "\\u0000"}]',
     ["f.json: node t: /label: 'label' must not hold control characters (such as a "
      "newline): portless shows it on one line"]),
    ('[{"id": "a", "type": "inject", "x": "left"}]', ["f.json: node a: /x: 'x' must be a number"]),
    ('[{"id": "a", "type": "inject", "repeat": NaN}]',
     ["f.json: node a: /repeat: must be a finite number: NaN, Infinity and numbers beyond "
      "1.8e308 (such as 1e309) are not allowed"]),
    ('[{"id": "a", "type": "inject", "topic": "x", "topic": "y"}]',
     ["f.json: node a: /topic: this key appears more than once in its object; keep one "
      "(JSON readers disagree on which one wins)"]),
])
def test_hostile_input_is_an_error_naming_file_and_node(text: str, expected: list[str]) -> None:
    assert errors(text) == expected


def test_deep_nesting_is_refused() -> None:
    deep = "[" * 40 + "]" * 40
    text = '[{"id": "a", "type": "inject", "props": ' + deep + "}]"
    assert errors(text) == ["f.json: node a: /props" + "/0" * 30 + ": nested deeper than 32 "
                            "levels; a flow needs a few, so this is a mistake or an attack"]


def test_a_huge_export_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as stream:
        stream.truncate(MAX_EXPORT_BYTES + 10)
    with pytest.raises(ExportInvalid, match="larger than 16777216 bytes"):
        read_export(huge)


def test_a_fifo_or_a_missing_file_is_an_error(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ExportInvalid, match="not a regular file"):
        read_export(fifo)
    with pytest.raises(ExportInvalid, match="cannot read the file: No such file"):
        read_export(tmp_path / "nope.json")


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'[{"id": "\xff"}]')
    with pytest.raises(ExportInvalid, match=r"not UTF-8 text \(byte 0xff at offset 9\)"):
        read_export(bad)
