"""The common group's mappings: inject (props and the older payload/topic fields,
repeats, cron, once), debug, comment, catch/status/complete scopes and the links."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node_red_import.mapping import mapped, same_config
from tests.nodes.core.test_change_node_red import typed
from tests.nodes.core.test_inject_node_red import ROWS as INJECT_ROWS


def prop(name: str, value: Any, kind: str) -> dict[str, Any]:
    return {"property": name, "value": {"kind": kind, "value": value}}


INJECT = [
    ({"props": [{"p": "payload"}, {"p": "topic", "vt": "str"}], "payload": "",
      "payloadType": "date", "topic": "", "repeat": "", "crontab": "", "once": False},
     {"properties": [prop("payload", "milliseconds", "timestamp"), prop("topic", "", "string")]}),
    ({"payload": "42", "payloadType": "num", "topic": "t"},  # before props
     {"properties": [prop("payload", 42, "number"), prop("topic", "t", "string")]}),
    ({"props": [{"p": "payload", "v": "true", "vt": "bool"},
                {"p": "msg.count", "v": "[1,2]", "vt": "json"},
                {"p": "site", "v": "SITE", "vt": "env"},
                {"p": "limit", "v": "#:(file)::limit", "vt": "flow"},
                {"p": "when", "v": "iso", "vt": "date"},
                {"p": "calc", "v": "$now()", "vt": "jsonata"}],
      "repeat": "2.5", "once": True, "onceDelay": "3"},
     {"properties": [prop("payload", True, "boolean"), prop("count", [1, 2], "json"),
                     prop("site", "SITE", "env"), prop("limit", "limit", "flow"),
                     prop("when", "iso", "timestamp"), prop("calc", "$now()", "jsonata")],
      "repeat": "interval", "interval": 2.5, "once": True, "once_delay": 3}),
    ({"props": [{"p": "payload", "v": "${SITE}", "vt": "env"}], "crontab": "00 12 * * 1,5"},
     {"properties": [prop("payload", "SITE", "env")], "repeat": "cron",
      "cron": "00 12 * * 1,5"}),
]


@pytest.mark.parametrize(("node_red", "portless"), INJECT)
def test_inject(node_red: dict[str, Any], portless: dict[str, Any]) -> None:
    assert same_config({"type": "inject", **node_red}, "inject", portless)


def test_a_context_store_in_a_key_is_noted() -> None:
    _, notes = mapped({"type": "inject", "props": [
        {"p": "payload", "v": "#:(file)::limit", "vt": "global"}]})
    assert notes == ["props/0: the context store 'file' named in the key is not used; the "
                     "flow file's store is (\"context\" in the file)"]


def test_the_inject_table_measured_against_node_red_comes_back() -> None:
    """test_inject_node_red's rows: portless properties that give, through Node-RED 4,
    the same message as Node-RED's (v, vt) pairs; converted back, they are the same."""
    assert len(INJECT_ROWS) > 5
    for _, properties, _, _ in INJECT_ROWS:
        props = [dict(zip(("v", "vt"), typed(item["value"]), strict=True),
                      p=item["property"]) for item in properties]
        assert same_config({"type": "inject", "props": props}, "inject",
                           {"properties": properties}), properties


DEBUG = [
    ({"active": True, "complete": "false"}, {}),
    ({"active": False, "complete": "true"}, {"active": False, "whole_message": True}),
    ({"complete": "payload.temp"}, {"property": "payload.temp"}),
    ({"complete": "msg.topic", "targetType": "msg"}, {"property": "topic"}),
]


@pytest.mark.parametrize(("node_red", "portless"), DEBUG)
def test_debug(node_red: dict[str, Any], portless: dict[str, Any]) -> None:
    assert same_config({"type": "debug", **node_red}, "debug", portless)


def test_debug_options_portless_lacks_are_noted() -> None:
    made, notes = mapped({"type": "debug", "complete": "$string(payload)",
                          "targetType": "jsonata", "tostatus": True, "console": True})
    assert made.config == {"whole_message": True}
    assert len(notes) == 3


def test_comment_keeps_its_text() -> None:
    assert mapped({"type": "comment", "info": "# Notes"})[0].config == {"text": "# Notes"}


@pytest.mark.parametrize("kind", ["catch", "status"])
def test_catch_and_status_scopes(kind: str) -> None:
    assert mapped({"type": kind, "scope": None})[0].config == {}
    assert mapped({"type": kind, "scope": ["a"]})[0].config == {
        "scope": "nodes", "nodes": ["a"]}
    made, notes = mapped({"type": kind, "scope": "group"})
    assert made.config == {}
    assert "groups are flattened" in notes[0]


def test_catch_uncaught() -> None:
    assert mapped({"type": "catch", "uncaught": True})[0].config == {"uncaught": True}


def test_a_complete_node_naming_no_node_is_written_disabled() -> None:
    made, notes = mapped({"type": "complete", "scope": []})
    assert made.disabled
    assert "hears of none" in notes[0]
    assert mapped({"type": "complete", "scope": ["x"]})[0].config == {
        "scope": "nodes", "nodes": ["x"]}


def test_links() -> None:
    assert mapped({"type": "link in", "links": ["o"]})[0].config == {}
    assert mapped({"type": "link out", "links": ["i1", "i2"]})[0].config == {
        "links": ["i1", "i2"]}
    assert mapped({"type": "link out", "mode": "return", "links": []})[0].config == {
        "mode": "return"}
    assert mapped({"type": "link call", "links": ["i1"], "timeout": "5",
                   "linkType": "static"})[0].config == {"links": ["i1"], "timeout": 5}
    assert mapped({"type": "link call", "links": ["i1"], "timeout": "30"})[0].config == {
        "links": ["i1"]}


def test_a_dynamic_link_call_calls_the_link_in_msg_target_names() -> None:
    assert mapped({"type": "link call", "links": [], "linkType": "dynamic",
                   "timeout": "2"})[0].config == {"link_type": "dynamic", "timeout": 2}
