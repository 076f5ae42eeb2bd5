"""yaml: Node-RED's 70-YAML_spec.js case by case as table rows, then YAML 1.2 as js-yaml
reads it, hostile YAML (refused with a catchable error) and what a user relies on."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import run_node
from tests.nodes.core.parser_table import Table, assert_problem, caught, shown

TYPE = "yaml"
EMPLOYEES = {"employees": [{"firstName": "John", "lastName": "Smith"}]}
EMPLOYEES_TEXT = "employees:\n  - firstName: John\n    lastName: Smith\n"

TABLE = Table()
PORTLESS_ONLY = TABLE.portless_only
row = TABLE.row


# --- Node-RED's 70-YAML_spec.js -----------------------------------------------------------
NODE_RED_CASES = [
    row("text-to-object", {}, {"payload": EMPLOYEES_TEXT, "topic": "bar"},
        [{"payload": EMPLOYEES, "topic": "bar"}]),
    row("text-to-object-other-property", {"property": "foo"},
        {"foo": EMPLOYEES_TEXT, "topic": "bar"}, [{"foo": EMPLOYEES, "topic": "bar"}]),
    row("object-to-text", {}, {"payload": EMPLOYEES}, [{"payload": EMPLOYEES_TEXT}]),
    row("object-to-text-other-property", {"property": "foo"}, {"foo": EMPLOYEES},
        [{"foo": EMPLOYEES_TEXT}]),
    row("list-to-text", {}, {"payload": [1, 2, 3]}, [{"payload": "- 1\n- 2\n- 3\n"}]),
    row("not-yaml-is-an-error", {},
        {"payload": "employees:\n-firstName: John\n- lastName: Smith\n", "topic": "bar"},
        [], "error: msg.payload is not YAML this node reads: while parsing a block mapping"),
    row("boolean-is-dropped", {}, {"payload": True}, [], "warning: Dropped: msg.payload"),
    row("number-is-dropped", {}, {"payload": 1}, [], "warning: Dropped: msg.payload"),
    row("no-property-passes", {}, {"topic": "bar"}, [{"topic": "bar"}]),
]
"""Left out: "should be loaded" (a name is no config here); the Buffer of "not yaml or
js" is parsed as UTF-8 text on purpose (bytes-are-text below)."""

# --- beyond the spec: YAML 1.2 as js-yaml 4 reads it ---------------------------------------
READING = [
    row("yaml-1.1-booleans-are-texts", {}, {"payload": "a: yes\nb: on\nc: No\n"},
        [{"payload": {"a": "yes", "b": "on", "c": "No"}}]),
    row("core-schema-scalars", {},
        {"payload": "a: true\nb: ~\nc: 0x1F\nd: 0o17\ne: 012\nf: 1e3\ng: .5\nk: -.5\nh: +7\n"
                    "i: 1_000\nj: 0b101\n"},
        [{"payload": {"a": True, "b": None, "c": 31, "d": 15, "e": 12, "f": 1000,
                      "g": 0.5, "k": "-.5", "h": 7, "i": "1_000",
                      "j": 5}}]),
    row("integer-keys-are-texts", {}, {"payload": "1: one\ntrue: yes\nnull: x\n"},
        [{"payload": {"1": "one", "true": "yes", "null": "x"}}]),
    row("dates-are-iso-texts", {},
        {"payload": "day: 2001-12-14\nat: 2001-12-14 21:59:43.10 -5\nz: 2001-12-14t21:59:43Z\n"},
        [{"payload": {"day": "2001-12-14T00:00:00.000Z", "at": "2001-12-15T02:59:43.100Z",
                      "z": "2001-12-14T21:59:43.000Z"}}]),
    row("anchors-aliases-and-merge", {},
        {"payload": "base: &b {x: 1, y: 2}\nuse: *b\nmore:\n  <<: *b\n  y: 3\n"},
        [{"payload": {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 2},
                      "more": {"x": 1, "y": 3}}}]),
    row("merge-sign-as-a-value-is-text", {}, {"payload": "a: <<\n"}, [{"payload": {"a": "<<"}}]),
    row("set-omap-pairs", {}, {"payload": "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\n"
                                          "p: !!pairs [a: 1, a: 2]\n"},
        [{"payload": {"s": {"a": None, "b": None}, "o": [{"a": 1}, {"b": 2}],
                      "p": [["a", 1], ["a", 2]]}}]),
    row("a-lone-value", {}, {"payload": "'hello'"}, [{"payload": "hello"}]),
    row("empty-text-removes-the-property", {}, {"payload": "", "topic": "t"},
        [{"topic": "t"}]),
    row("blank-text-removes-the-property", {}, {"payload": " \n", "topic": "t"},
        [{"topic": "t"}]),
    row("comment-only-is-null", {}, {"payload": "# nothing\n"}, [{"payload": None}]),
    row("two-documents-are-an-error", {}, {"payload": "a: 1\n---\nb: 2\n"}, [],
        "error: msg.payload is not YAML this node reads: expected a single document"),
    row("binary-is-bytes", {}, {"payload": "x: !!binary aGk=\n"}, [{"payload": {"x": b"hi"}}],
        node_red=False),
    row("bytes-are-text", {}, {"payload": EMPLOYEES_TEXT.encode()}, [{"payload": EMPLOYEES}],
        node_red=False),
]

# --- beyond the spec: writing as js-yaml lays it out --------------------------------------
WRITING = [
    row("null-to-text", {}, {"payload": None}, [{"payload": "null\n"}]),
    row("empty-containers", {}, {"payload": {"a": [], "b": {}}},
        [{"payload": "a: []\nb: {}\n"}]),
    row("ambiguous-texts-quoted", {},
        {"payload": {"a": "yes", "b": "012", "c": "1e5", "d": "true", "e": "", "f": "~"}},
        [{"payload": "a: 'yes'\nb: '012'\nc: '1e5'\nd: 'true'\ne: ''\nf: '~'\n"}]),
    row("old-booleans-and-signed-fractions-quoted", {},
        {"payload": {"a": "y", "b": "No", "c": "-.5", "d": "yes please"}},
        [{"payload": "a: 'y'\nb: 'No'\nc: '-.5'\nd: yes please\n"}]),
    row("numbers-as-javascript-writes-them", {},
        {"payload": {"a": 2.0, "b": 1.5, "c": 1e-7, "d": -3}},
        [{"payload": "a: 2\nb: 1.5\nc: 1.e-7\nd: -3\n"}]),
    row("negative-zero", {}, {"payload": [-0.0]}, [{"payload": "- -0.0\n"}]),
    row("nested-lists", {}, {"payload": [[1, 2], {"a": [True]}]},
        [{"payload": "- - 1\n  - 2\n- a:\n    - true\n"}]),
    row("lines-as-a-block", {}, {"payload": {"text": "one\ntwo"}},
        [{"payload": "text: |-\n  one\n  two\n"}]),
    row("unicode-kept", {}, {"payload": {"name": "Zoë ☃"}}, [{"payload": "name: Zoë ☃\n"}]),
]

# --- hostile YAML: refused with a catchable error ------------------------------------------
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 10)}]\n"
    for level in range(8))
REFUSED = "error: msg.payload is not YAML this node reads: "
HOSTILE = [
    row("billion-laughs", {}, {"payload": BILLION_LAUGHS}, [],
        REFUSED + "the document holds more than 200,000 values", node_red=False),
    row("recursive-alias", {}, {"payload": "&a [*a]"}, [],
        REFUSED + "an alias refers to a value that holds it", node_red=False),
    row("deep-flow-nesting", {}, {"payload": "[" * 100_000 + "]" * 100_000}, [],
        REFUSED + "while increasing flow level exceeded maximum nesting depth",
        node_red=False),
    row("deep-block-nesting", {}, {"payload": "- " * 50_000 + "x"}, [],
        REFUSED + "while increasing block level exceeded maximum nesting depth",
        node_red=False),
    row("nesting-past-32", {}, {"payload": "[" * 33 + "]" * 33}, [],
        REFUSED + "the document nests deeper than 32 levels", node_red=False),
    row("huge-text", {}, {"payload": "a: " + "x" * 1_048_576}, [],
        REFUSED + "the text is 1,048,579 characters long", node_red=False),
    row("python-object-tag", {}, {"payload": "!!python/object/apply:os.system ['id']"}, [],
        REFUSED + "could not determine a constructor for the tag", node_red=False),
    row("custom-tag", {}, {"payload": "a: !secret x"}, [],
        REFUSED + "could not determine a constructor for the tag '!secret'"),
    row("nan", {}, {"payload": "a: .nan"}, [], REFUSED + "the document holds .nan",
        node_red=False),
    row("infinity", {}, {"payload": "a: -.inf"}, [], REFUSED + "the document holds -.inf",
        node_red=False),
    row("huge-integer", {}, {"payload": "a: 9007199254740992"}, [],
        REFUSED + "the integer 9007199254740992 is beyond 2^53 - 1", node_red=False),
    row("control-character", {}, {"payload": "a: b\x07"}, [],
        REFUSED + "unacceptable character #x0007"),
    row("not-utf8-bytes", {}, {"payload": b"\xff"}, [],
        "error: msg.payload is not UTF-8 text", node_red=False),
    row("list-as-key", {}, {"payload": "? [a, b]\n: c\n"}, [],
        REFUSED + "while constructing a mapping found a key that is list", node_red=False),
    row("key-twice", {}, {"payload": "a: 1\na: 2\n"}, [],
        REFUSED + "while constructing a mapping found the key 'a' twice"),
    row("merged-key-overridden", {}, {"payload": "x: &x {a: 1}\ny: {<<: *x, a: 2}\n"},
        [{"payload": {"x": {"a": 1}, "y": {"a": 2}}}]),
    row("python-object-to-text", {}, {"payload": {"a": object()}}, [],
        "error: Failed to convert msg.payload to YAML: a object is no value YAML holds",
        node_red=False),
]

CASES = NODE_RED_CASES + READING + WRITING + HOSTILE


@pytest.mark.parametrize(("cfg", "msg", "sent", "problem"), CASES)
def test_cases(cfg: dict[str, Any], msg: dict[str, Any], sent: list[Any],
               problem: str | None) -> None:
    run = run_node(TYPE, cfg, [msg])
    assert [shown(out) for out in run.outputs[0]] == sent
    assert_problem(run, problem)


def test_table_counts() -> None:
    assert len(NODE_RED_CASES) == 9
    assert len(CASES) == 49


def test_an_alias_becomes_a_copy() -> None:
    """Changing one place an alias was used does not change the other."""
    run = run_node(TYPE, {}, [{"payload": "a: &x [1]\nb: *x\n"}])
    [out] = run.outputs[0]
    out["payload"]["a"].append(2)
    assert out["payload"]["b"] == [1]


def test_a_text_round_trips() -> None:
    value = {"name": "pump 1", "on": "yes", "limits": [0.5, 12, None], "note": "a\nb",
             "nested": {"deep": [{"x": "012"}]}}
    written = run_node(TYPE, {}, [{"payload": value}]).outputs[0][0]["payload"]
    read = run_node(TYPE, {}, [{"payload": written}]).outputs[0][0]["payload"]
    assert read == value


async def test_a_refused_text_is_caught_with_the_message() -> None:
    got = await caught(TYPE, {}, {"payload": BILLION_LAUGHS, "topic": "config"})
    assert got["topic"] == "config"
    assert "more than 200,000 values" in got["error"]["message"]
