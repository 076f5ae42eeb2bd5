"""csv in legacy mode: Node-RED's 70-CSV_spec.js, "CSV node (Legacy Mode)", as table rows.
Most read the inputs of test_csv.py's RFC rows of the same name, and many come out the
same; where legacy mode differs (column names trimmed and unquoted, odd quotes, a list
written whole, the header not quoted, a number payload only warned about) the row says
what it gives. test_csv_legacy_node_red.py runs them through Node-RED 4's own node."""

from __future__ import annotations

from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.nodes.core.parser_table import Table
from tests.nodes.core.test_csv import CASES as RFC_CASES
from tests.nodes.core.test_csv import TYPE, check_row, one

TABLE = Table()
PORTLESS_ONLY = TABLE.portless_only
row = TABLE.row
SAME = object()
_RFC = {case.id: case.values for case in RFC_CASES}
LEGACY = {"mode": "legacy"}
NL = {"line_end": "\n"}


def like(name: str, sent: Any = SAME, problem: Any = SAME, **config: Any) -> Any:
    """The RFC row ``name``'s config (in legacy mode, with ``config`` on top) and input;
    what it sends and reports as that row says unless given."""
    rfc_config, msgs, rfc_sent, rfc_problem = _RFC[name]
    return row(f"legacy-{name}", {**rfc_config, **LEGACY, **config}, msgs,
               rfc_sent if sent is SAME else sent,
               rfc_problem if problem is SAME else problem)


D = {"d": 1, "b": 3, "c": 2, "a": 4}
DCOMMA = {"a": 1, "b b": 2, "c,c": 3, "d, d": 4}
READING = [
    like("simple-text-to-object"),
    like("bar-separator-no-columns"),
    like("tab-separator-dropped-column"),
    like("space-separator-spaced-columns", [one({"A": 1, "B": 2, "D": 4}, "A,B,D")]),
    row("legacy-column-names-trimmed-and-unquoted",
        {**LEGACY, "columns": '"a",  "b" , " c "," d  " '}, [{"payload": "1,2,3,4\n"}],
        [one({"a": 1, "b": 2, "c": 3, "d": 4}, "a,b,c,d")]),
    like("no-columns-makes-col-names"),
    like("dropped-columns"),
    like("commas-and-spaces-in-columns", [one(DCOMMA, 'a,b b,"c,c","d, d"')]),
    like("columns-from-first-row", [one(DCOMMA, 'a,b b,"c,c","d, d"')]),
    like("columns-from-first-row-semicolon",
         [one({"a": 1, "b b": 2, "c;c": 3, "d, d": 4}, 'a,b b,c;c,"d, d"')]),
    like("columns-from-first-row-slash",
         [one({"a": 1, "b b": 2, "c/c": 3, "d, d": 4}, 'a,b b,c/c,"d, d"')]),
    like("columns-from-first-row-backslash",
         [one({"a": 1, "b b": 2, "c\\c": 3, "d, d": 4}, 'a,b b,c\\c,"d, d"')]),
    like("numbers-starting-with-0-or-plus-stay-text"),
    like("numbers-not-parsed"),
    like("numbers-parsed"),
    like("scientific-notation"),
    like("quotes-and-blank-strings-dropped"),
    like("blank-strings-kept", [  # the empty last line is a row too, {a: ""}
        {"payload": {"a": 1, "b": "", "c": "", "d": "", "e": "-05", "f": 'ab"cd',
                     "g": "with,a,comma"}, "columns": "a,b,c,d,e,f,g",
         "parts": {"id": "<input>", "index": 0, "count": 2}},
        {"payload": {"a": ""}, "columns": "a,b,c,d,e,f,g",
         "parts": {"id": "<input>", "index": 1, "count": 2}}]),
    like("nulls-kept"),
    like("line-breaks-in-quotes"),
    like("odd-quotes-recovered",
         [one({"a": "with,an", "b": "odd,number", "c": "ofquotes\n"}, "a,b,c,d,e,f,g"),
          {"payload": {"a": "this is", "b": "a normal", "c": "line"},
           "columns": "a,b,c,d,e,f,g", "parts": {"id": "in-1", "index": 0, "count": 1}}],
         "warning: Odd number of quote characters"),
    row("legacy-odd-quotes-recovered-over-lines", {**LEGACY, "columns": "a,b,c,d,e,f,g"},
        [{"payload": '"with,a"n,odd","num"ber","of"qu"ot"es"\n"this is","a normal","line"\n'},
         {"payload": '"this is","another","line"'}],
        [one({"a": "with,an", "b": "odd,number", "c": "ofquotes\nthis is,a normal,line\n"},
             "a,b,c,d,e,f,g"),
         {"payload": {"a": "this is", "b": "another", "c": "line"},
          "columns": "a,b,c,d,e,f,g", "parts": {"id": "in-1", "index": 0, "count": 1}}],
        "warning: Odd number of quote characters"),
    like("first-row-overrides-columns"),
    like("rows-as-array"),
    like("array-from-parts"),
    like("array-from-a-part-of-many-lines"),
    like("ip-addresses-stay-text"),
    like("parts-kept"),
    like("first-part-names-columns"),
    like("skip-lines"),
    like("skip-then-first-row-names"),
    like("skip-and-correct-parts"),
    like("skip-parts-then-first-part-names"),
]

WRITING = [
    like("object-to-text", **NL, sent=[
        {"payload": '4,foo,true,,0,"Hello\nWorld",,,undefined,null,null\n',
         "columns": "a,b,c,,e,f,g,h,i,j,k"}]),
    row("legacy-object-to-text-blank-columns", {**LEGACY, **NL, "columns": " "},
        [{"payload": {"d": 1, "b": "foo", "c": 'ba"r', "a": "di,ng", "f": "undefined",
                      "g": None, "h": "null"}}],
        [{"payload": '1,foo,"ba""r","di,ng",undefined,null\n', "columns": ""}],
        "warning: No columns template specified"),
    like("object-to-tsv", sent=[{"payload": '1\tfoo\t"ba""r"\tdi,ng\n', "columns": ""}]),
    like("spaces-in-column-names", sent=[{"payload": "4,foo,true,,0\n",
                                          "columns": "a,b o,c p,,e"}]),
    like("quotes-in-column-names", sent=[{"payload": 'a"a,b\'b\nA1,B1\nA2,B2\n',
                                          "columns": 'a"a,b\'b'}]),
    like("objects-to-lines"),
    like("objects-to-lines-with-header"),
    like("objects-to-lines-no-columns", sent=[{"payload": "1,3,2,4\n4,2,3,1\n",
                                               "columns": ""}]),
    like("objects-to-lines-no-columns-with-header"),
    like("list-to-a-line", sent=[{"payload": ',0,1,foo,"ba""r","di,ng","fa\nba"\n',
                                  "columns": "a,b,c,d"}]),
    like("lists-to-lines", sent=[{"payload": "0,1,2,3,4\n4,3,2,1,0\n",
                                  "columns": "a,b,c,d"}]),
    like("header-row-first"),
    like("header-row-and-missing-properties"),
    like("column-names-from-msg-once", sent=[
        {"payload": "a,,b,a\r\n4,,3,4\r\n", "columns": "a,,b,a", "parts": {"index": 0}},
        {"payload": "4,,3,4\r\n", "columns": "a,,b,a", "parts": {"index": 1}},
        {"payload": "4,,3,4\r\n", "columns": "a,,b,a", "parts": {"index": 2}}]),
    like("column-names-from-msg-list", sent=[
        {"payload": "a,,b,a\r\n4,,3,4\r\n4,,3,4\r\n4,,3,4\r\n", "columns": "a,,b,a"}]),
    like("quotes-and-sub-properties"),
    like("no-payload-passes"),
    like("number-is-an-error", problem="warning: msg.payload must be"),
    like("boolean-is-an-error", problem="warning: msg.payload must be"),
]
DIFFERENT = [  # on purpose: the schema lists them
    row("legacy-text-starting-with-a-separator", {**LEGACY, "columns": "a,b"},
        [{"payload": ",1\n"}], [one({"b": 1}, "a,b")], node_red=False),
    row("legacy-newline-in-a-value-quoted-without-columns", {**LEGACY, **NL},
        [{"payload": {"a": "l\nm", "b": 1}}], [{"payload": '"l\nm",1\n', "columns": ""}],
        "warning: No columns template specified", node_red=False),
    row("legacy-header-over-plain-values", {**LEGACY, **NL, "header_out": "all"},
        [{"payload": ["ab", 1]}], [{"payload": "0,1\nab,1\n", "columns": "0,1"}],
        node_red=False),
]
"""The legacy spec's "should call done when message processing is completed" is
test_csv.py's, run in both modes; its "should be loaded with defaults" is not here: one
line end default (CRLF) serves both modes, and the importer keeps a flow's own."""

CASES = READING + WRITING + DIFFERENT


@pytest.mark.parametrize(("cfg", "msgs", "sent", "problem"), CASES)
def test_cases(cfg: dict[str, Any], msgs: list[dict[str, Any]], sent: list[Any],
               problem: str | None) -> None:
    check_row(cfg, msgs, sent, problem)


def test_table_counts() -> None:
    assert (len(READING), len(WRITING)) == (33, 19)


async def test_a_number_is_only_warned_about_and_complete() -> None:
    """Legacy mode's "should call done when input causes an error": warned, done."""
    flow = {"version": 1, "nodes": [
        {"id": "parse", "type": TYPE, "config": {**LEGACY, "columns": "a,b,c,d"}},
        {"id": "done", "type": "complete", "config": {"scope": "nodes", "nodes": ["parse"]}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("parse", {"payload": 1})
        [completed] = await harness.wait_for("done", 1)
    assert completed["payload"] == 1
