"""The converted nodes do what the originals do: each Node-RED node here (a table written
for these tests, and every node of Node-RED's own example flows that answers without a
timer: change, switch, range, json, yaml, sort, split, join, batch by count) runs in
Node-RED 4 (tests/node_red.py) and, as the importer converted it, in portless, on the
same messages (the example's own inject messages and a few readings); what each output
port sends must agree, shown as the sequence tables show it (sequence ids in order of
appearance, no _msgid, ts or empty topic)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

import pytest

from portless.node_red_import.export import parse_export
from portless.node_red_import.source import Source
from portless.node_red_import.table import MAPPINGS
from portless.testing import run_node
from tests.node_red import NodeRedCase, run_in_node_red
from tests.node_red_import.node_red_examples import example_paths, example_text
from tests.nodes.core.sequence_rows import shown

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

READINGS = [{"payload": value, "topic": topic} for value, topic in [
    (20, "a"), (20.2, "a"), (21, "b"), (25, "a"), ("30", "b"), (24.6, "a"), (100, "a"),
    (-5, "b"), (55, "a")]]
TEXTS = [{"payload": text} for text in ["hello world", "Temp high", '{"a": 1, "b": [2]}',
                                        "42", "temperature/line-4"]]
VALUES = [{"payload": value} for value in [{"a": 1, "b": [2]}, [1, 2, 3], True, None, 7.5]]


def change(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"type": "change", "rules": list(rules)}


def switch(*rules: dict[str, Any], checkall: str = "true", prop: str = "payload"
           ) -> dict[str, Any]:
    return {"type": "switch", "property": prop, "propertyType": "msg",
            "rules": list(rules), "checkall": checkall, "outputs": len(rules)}


TABLE: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    (change({"t": "set", "p": "payload", "pt": "msg", "to": "done", "tot": "str"},
            {"t": "set", "p": "n", "pt": "msg", "to": "3.5", "tot": "num"},
            {"t": "set", "p": "flag", "pt": "msg", "to": "true", "tot": "bool"},
            {"t": "set", "p": "obj", "pt": "msg", "to": '{"x": [1, 2]}', "tot": "json"},
            {"t": "set", "p": "copy", "pt": "msg", "to": "topic", "tot": "msg"}),
     READINGS[:3]),
    (change({"t": "change", "p": "payload", "pt": "msg", "from": "o", "fromt": "str",
             "to": "0", "tot": "str"},
            {"t": "change", "p": "payload", "pt": "msg", "from": "(\\w+) (\\w+)",
             "fromt": "re", "to": "$2-$1", "tot": "str"}), TEXTS),
    (change({"t": "move", "p": "payload", "pt": "msg", "to": "value", "tot": "msg"},
            {"t": "delete", "p": "topic", "pt": "msg"}), READINGS[:3]),
    (change({"t": "set", "p": "payload", "pt": "msg", "to": "payload * 2", "tot": "jsonata"}),
     READINGS[:4]),
    ({"type": "change", "action": "replace", "property": "payload", "to": "legacy"},
     READINGS[:2]),
    (switch({"t": "gt", "v": "24", "vt": "num"}, {"t": "btwn", "v": "20", "vt": "num",
                                                  "v2": "22", "v2t": "num"},
            {"t": "else"}), READINGS),
    (switch({"t": "lte", "v": "21", "vt": "num"}, {"t": "eq", "v": "a", "vt": "str"},
            checkall="false", prop="payload"), READINGS),
    (switch({"t": "cont", "v": "high", "vt": "str"}, {"t": "regex", "v": "^TEMP",
                                                      "vt": "str", "case": True},
            {"t": "istype", "v": "string", "vt": "string"}), TEXTS),
    (switch({"t": "istype", "v": "object", "vt": "object"}, {"t": "istype", "v": "array",
                                                             "vt": "array"},
            {"t": "true"}, {"t": "null"}, {"t": "nnull"}, {"t": "hask", "v": "a",
                                                           "vt": "str"}), VALUES),
    (switch({"t": "eq", "v": "topic", "vt": "msg"}, {"t": "neq", "v": "a", "vt": "str"},
            prop="topic"), READINGS[:4]),
    ({"type": "range", "minin": "0", "maxin": "100", "minout": "0", "maxout": "1000",
      "action": "scale", "round": False, "property": "payload"}, READINGS),
    ({"type": "range", "minin": "0", "maxin": "50", "minout": "32", "maxout": "122",
      "action": "clamp", "round": True, "property": "payload"}, READINGS),
    ({"type": "range", "minin": "0", "maxin": "24", "minout": "0", "maxout": "360",
      "action": "roll", "round": False, "property": "payload"}, READINGS),
    ({"type": "range", "minin": "0", "maxin": "50", "minout": "0", "maxout": "1",
      "action": "drop", "round": False, "property": "payload"}, READINGS),
    ({"type": "json", "action": "", "property": "payload", "pretty": False},
     [*TEXTS[2:4], *VALUES[:2]]),
    ({"type": "json", "action": "str", "property": "payload", "pretty": True}, VALUES[:3]),
    ({"type": "json", "action": "obj", "property": "payload", "pretty": False}, TEXTS[2:4]),
    ({"type": "rbe", "func": "rbe", "gap": "", "start": "", "inout": "out",
      "septopics": True, "property": "payload", "topi": "topic"}, READINGS + READINGS[:3]),
    ({"type": "rbe", "func": "rbei", "gap": "", "start": "", "inout": "out",
      "septopics": False, "property": "payload", "topi": "topic"}, READINGS + READINGS[:3]),
    ({"type": "rbe", "func": "deadband", "gap": "2", "start": "", "inout": "out",
      "septopics": True, "property": "payload", "topi": "topic"}, READINGS),
    ({"type": "rbe", "func": "deadbandEq", "gap": "10%", "start": "", "inout": "in",
      "septopics": True, "property": "payload", "topi": "topic"}, READINGS),
    ({"type": "rbe", "func": "narrowband", "gap": "5", "start": "20", "inout": "out",
      "septopics": False, "property": "payload", "topi": "topic"}, READINGS),
    ({"type": "rbe", "func": "narrowbandEq", "gap": "4", "start": "", "inout": "in",
      "septopics": True, "property": "payload", "topi": "topic"}, READINGS),
]


def converted(node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    made = MAPPINGS[node["type"]](Source({"id": "n", **node}))
    return made.type, made.config




def outputs_of(node: dict[str, Any]) -> int:
    return int(node.get("outputs", 1)) if node["type"] == "switch" else 1


Case = tuple[str, dict[str, Any], list[dict[str, Any]]]
"""(a name, the Node-RED node, the messages in)."""


def disagreements(cases: list[Case]) -> dict[str, str]:
    """name -> how portless and Node-RED differ, for the cases where they do."""
    theirs = run_in_node_red([NodeRedCase(node, inputs, outputs=outputs_of(node))
                              for _, node, inputs in cases])
    found = {}
    for (name, node, inputs), ports in zip(cases, theirs, strict=True):
        node_type, config = converted(node)
        ours = run_node(node_type, config, [json.loads(json.dumps(m)) for m in inputs])
        mine = [shown(port, inputs) for port in ours.outputs]
        node_red = [shown(port, inputs) for port in ports]
        if mine != node_red:
            found[name] = f"{node}: portless {mine} != Node-RED {node_red}"
    return found


def test_the_table_of_options_agrees_with_node_red() -> None:
    assert disagreements([(str(i), node, inputs) for i, (node, inputs) in
                          enumerate(TABLE)]) == {}


RUNNABLE = ("change", "switch", "range", "json", "rbe", "yaml", "sort", "split", "template",
            "csv")


def runnable(node: dict[str, Any]) -> bool:
    """A node whose answer to a list of messages does not hang on a timer (which the two
    runs would time differently): the stateless ones, and join and batch without one."""
    if node["type"] == "join":
        return node.get("mode") != "custom" or not node.get("timeout")
    if node["type"] == "batch":
        return node.get("mode") == "count"
    return node["type"] in RUNNABLE


def literal_messages(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the example's inject nodes send, where it is literal (no time, context or
    expression): the example's own inputs."""
    found = []
    for node in nodes:
        if node["type"] != "inject":
            continue
        msg: dict[str, Any] = {}
        for prop in node.get("props") or [{"p": "payload"}, {"p": "topic", "vt": "str"}]:
            value = prop.get("v", node.get("payload") if prop.get("p") == "payload"
                             else node.get("topic", ""))
            kind = prop.get("vt") or (node.get("payloadType") if prop.get("p") == "payload"
                                      else "str")
            if kind in ("str", None):
                msg[prop["p"]] = value or ""
            elif kind == "num":
                msg[prop["p"]] = float(value) if "." in str(value) else int(value)
            elif kind == "json":
                msg[prop["p"]] = json.loads(value)
            elif kind == "bool":
                msg[prop["p"]] = value in (True, "true")
            else:
                break
        else:
            found.append(msg)
    return found


KNOWN = {
    "function/change/05 - Set flow context.json: abaee298.2d77e":
        "a message property set from an absent flow value: Node-RED leaves it out, "
        "portless's change sets null",
}
"""Where a converted example node and Node-RED's differ: not the importer (its mapping
is checked above), but the node or the expression library; each must still differ, so
a fix shows up here."""


def test_the_example_flows_nodes_agree_with_node_red() -> None:
    cases = []
    for path in example_paths():
        nodes = parse_export(example_text(path), PurePosixPath(path).name)
        inputs = literal_messages(nodes) + READINGS[:3]
        for node in nodes:
            if runnable(node):
                plain = {k: v for k, v in node.items() if k not in ("id", "z", "x", "y",
                                                                      "wires", "g")}
                cases.append((f"{path}: {node['id']}", plain, inputs))
    assert len(cases) >= 50
    assert sorted(disagreements(cases)) == sorted(KNOWN)
