"""csv: Node-RED 4's 70-CSV_spec.js (its RFC 4180 mode) as table rows, then hostile
input. Rows re-express the spec's cases in their shape; each runs through Node-RED 4's
own csv node too (test_csv_node_red.py) unless portless differs on purpose."""

from __future__ import annotations

from typing import Any

import pytest

from portless.nodes.core.csv import Csv
from portless.testing import FlowHarness, run_node
from tests.nodes.core.parser_table import Table, assert_problem, shown

TYPE = "csv"
TABLE = Table()
PORTLESS_ONLY = TABLE.portless_only
row = TABLE.row


def one(payload: Any, columns: str, **more: Any) -> dict[str, Any]:
    """A row message as a text of one line sends it: part 0 of 1 of the input."""
    return {"payload": payload, "columns": columns,
            "parts": {"id": "<input>", "index": 0, "count": 1}, **more}


NL = {"line_end": "\n"}
ABCDEFG = "a,b,c,d,e,f,g"
W = {"payload": {"w": 1, "x": 2, "y": 3, "z": 4}, "columns": "w,x,y,z"}
W2 = {"payload": {"w": 5, "x": 6, "y": 7, "z": 8}, "columns": "w,x,y,z"}
D = {"d": 1, "b": 3, "c": 2, "a": 4}

# --- Node-RED's 70-CSV_spec.js, "CSV node (RFC Mode)": csv to json ----------------------
READING = [
    row("simple-text-to-object", {"columns": "a,b,c,d"}, [{"payload": "1,2,3,4\n"}],
        [one({"a": 1, "b": 2, "c": 3, "d": 4}, "a,b,c,d")]),
    row("bar-separator-no-columns", {"separator": "|"}, [{"payload": "1|2|3|4\n"}],
        [one({"col1": 1, "col2": 2, "col3": 3, "col4": 4}, "col1,col2,col3,col4")]),
    row("tab-separator-dropped-column", {"separator": "\t", "columns": "A,B,,D"},
        [{"payload": "1\t2\t3\t4\n"}], [one({"A": 1, "B": 2, "D": 4}, "A,B,D")]),
    row("space-separator-spaced-columns", {"separator": " ", "columns": "A, B, , D"},
        [{"payload": "1 2 3 4\n"}], [one({"A": 1, " B": 2, " ": 3, " D": 4}, "A, B, , D")]),
    row("no-columns-makes-col-names", {"columns": ""}, [{"payload": "1,2,3,4\n"}],
        [one({"col1": 1, "col2": 2, "col3": 3, "col4": 4}, "col1,col2,col3,col4")]),
    row("dropped-columns", {"columns": "a,,,d"}, [{"payload": "1,2,3,4\n"}],
        [one({"a": 1, "d": 4}, "a,d")]),
    row("commas-and-spaces-in-columns", {"columns": 'a,b b,"c,c"," d, d "'},
        [{"payload": "1,2,3,4\n"}],
        [one({"a": 1, "b b": 2, "c,c": 3, " d, d ": 4}, 'a,b b,"c,c"," d, d "')]),
    row("columns-from-first-row", {"columns_from_first_row": True},
        [{"payload": 'a,b b,"c,c"," d, d "\n1,2,3,4\n'}],
        [one({"a": 1, "b b": 2, "c,c": 3, " d, d ": 4}, 'a,b b,"c,c"," d, d "')]),
    row("columns-from-first-row-semicolon", {"columns_from_first_row": True, "separator": ";"},
        [{"payload": 'a;b b;"c;c";" d, d "\n1;2;3;4\n'}],
        [one({"a": 1, "b b": 2, "c;c": 3, " d, d ": 4}, 'a,b b,c;c," d, d "')]),
    row("columns-from-first-row-slash", {"columns_from_first_row": True, "separator": "/"},
        [{"payload": 'a/b b/"c/c"/" d, d "\n1/2/3/4\n'}],
        [one({"a": 1, "b b": 2, "c/c": 3, " d, d ": 4}, 'a,b b,c/c," d, d "')]),
    row("columns-from-first-row-backslash", {"columns_from_first_row": True, "separator": "\\"},
        [{"payload": 'a\\b b\\"c\\c"\\" d, d "\n1\\2\\3\\4\n'}],
        [one({"a": 1, "b b": 2, "c\\c": 3, " d, d ": 4}, 'a,b b,c\\c," d, d "')]),
    row("numbers-starting-with-0-or-plus-stay-text", {"columns": ABCDEFG},
        [{"payload": "123,0123,+123,e123,E123,-123\n"}],
        [one({"a": 123, "b": "0123", "c": "+123", "d": "e123", "e": "E123", "f": -123},
             ABCDEFG)]),
    row("numbers-not-parsed", {"columns": ABCDEFG, "parse_numbers": False},
        [{"payload": "1.23,0123,+123,e123,0,-123,1e3\n"}],
        [one({"a": "1.23", "b": "0123", "c": "+123", "d": "e123", "e": "0", "f": "-123",
              "g": "1e3"}, ABCDEFG)]),
    row("numbers-parsed", {"columns": ABCDEFG}, [{"payload": " 1.23 ,  -123,1e3 ,    0  \n"}],
        [one({"a": 1.23, "b": -123, "c": 1000, "d": 0}, ABCDEFG)]),
    row("scientific-notation", {"columns": ABCDEFG}, [{"payload": "12E3,12e-3,-12e3,-12E-3\n"}],
        [one({"a": 12000, "b": 0.012, "c": -12000, "d": -0.012}, ABCDEFG)]),
    row("quotes-and-blank-strings-dropped", {"columns": "a,b,c,d,e,f,g,h"},
        [{"payload": '"1","-2","+3","04","","-05","ab""cd","with,a,comma"\n'}],
        [one({"a": 1, "b": -2, "c": "+3", "d": "04", "f": "-05", "g": 'ab"cd',
              "h": "with,a,comma"}, "a,b,c,d,e,f,g,h")]),
    row("blank-strings-kept", {"columns": ABCDEFG, "include_empty_strings": True},
        [{"payload": '"1","","","","-05","ab""cd","with,a,comma"\n'}],
        [one({"a": 1, "b": "", "c": "", "d": "", "e": "-05", "f": 'ab"cd',
              "g": "with,a,comma"}, ABCDEFG)]),
    row("nulls-kept", {"columns": ABCDEFG, "include_null_values": True},
        [{"payload": '"1",,"+3",,"-05","ab""cd","with,a,comma"\n'}],
        [one({"a": 1, "b": None, "c": "+3", "d": None, "e": "-05", "f": 'ab"cd',
              "g": "with,a,comma"}, ABCDEFG)]),
    row("line-breaks-in-quotes", {"columns": ABCDEFG},
        [{"payload": '"with a\nnew line","and a\rcarriage return","and why\r\nnot both"\n'}],
        [one({"a": "with a\nnew line", "b": "and a\rcarriage return",
              "c": "and why\r\nnot both"}, ABCDEFG)]),
    row("odd-quotes-recovered", {"columns": ABCDEFG},
        [{"payload": '"with,a"n,odd","num"ber","of"qu"ot"es"\n'},
         {"payload": '"this is","a normal","line"'}],
        [one({"a": 'with,a"n', "b": "odd", "c": 'num"ber', "d": 'of"qu"ot"es'}, ABCDEFG),
         {"payload": {"a": "this is", "b": "a normal", "c": "line"}, "columns": ABCDEFG,
          "parts": {"id": "in-1", "index": 0, "count": 1}}]),
    row("newlines-in-data", {"columns": ABCDEFG},
        [{"payload": 'ay,be,"c has 2\nnew\nlines",dee,eee,eff,gee'}],
        [one({"a": "ay", "b": "be", "c": "c has 2\nnew\nlines", "d": "dee", "e": "eee",
              "f": "eff", "g": "gee"}, ABCDEFG)]),
    row("first-row-overrides-columns", {"columns": "a,b,c,d", "columns_from_first_row": True},
        [{"payload": "w,x,y,z\n1,2,3,4\n\n5,6,7,8"}],
        [{**W, "parts": {"id": "<input>", "index": 0, "count": 2}},
         {**W2, "parts": {"id": "<input>", "index": 1, "count": 2}}]),
    row("rows-as-array", {"columns": "a,b,c,d", "rows_as": "array"},
        [{"payload": "1,2,3,4\n5,-6,07,+8\n9,0,a,b\nc,d,e,f"}],
        [{"payload": [{"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 5, "b": -6, "c": "07", "d": "+8"},
                      {"a": 9, "b": 0, "c": "a", "d": "b"}, {"a": "c", "b": "d", "c": "e",
                                                             "d": "f"}],
          "columns": "a,b,c,d"}]),
    row("array-from-parts", {"columns_from_first_row": True, "rows_as": "array"},
        [{"payload": "a,b,c", "parts": {"index": 0, "ch": "\n", "type": "string", "id": "1"}},
         {"payload": "1,2,3", "parts": {"index": 1, "ch": "\n", "type": "string", "id": "1"}},
         {"payload": "4,5,6", "parts": {"index": 2, "ch": "\n", "type": "string", "id": "1"}},
         {"payload": "7,8,9", "parts": {"index": 3, "count": 4, "ch": "\n", "type": "string",
                                        "id": "1"}}],
        [{"payload": [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6},
                      {"a": 7, "b": 8, "c": 9}], "columns": "a,b,c"}]),
    row("array-from-a-part-of-many-lines", {"columns_from_first_row": True, "rows_as": "array"},
        [{"payload": "Col1,Col2\nV1,V2\nV3,V4\nV5,V6",
          "parts": {"id": "3af07e18.865652", "type": "array", "count": 2, "len": 1,
                    "index": 0}}],
        [{"payload": [{"Col1": "V1", "Col2": "V2"}, {"Col1": "V3", "Col2": "V4"},
                      {"Col1": "V5", "Col2": "V6"}], "columns": "Col1,Col2",
          "parts": {"id": "3af07e18.865652", "type": "array", "count": 2, "len": 1,
                    "index": 0}}]),
    row("ip-addresses-stay-text", {"columns": "a,b,c,d,e"},
        [{"payload": "a,127.0.0.1,56.7,-32.8,+76.22C"}],
        [one({"a": "a", "b": "127.0.0.1", "c": 56.7, "d": -32.8, "e": "+76.22C"},
             "a,b,c,d,e")]),
    row("parts-kept", {"columns": "a,b,c,d"},
        [{"payload": "1,2,3,4\n", "parts": {"id": "X", "index": 3, "count": 4}}],
        [{"payload": {"a": 1, "b": 2, "c": 3, "d": 4}, "columns": "a,b,c,d",
          "complete": True, "parts": {"id": "X", "index": 3, "count": 4}}]),
    row("first-part-names-columns", {"columns_from_first_row": True},
        [{"payload": "w,x,y,z\n", "parts": {"id": "X", "index": 0, "count": 3}},
         {"payload": "1,2,3,4\n", "parts": {"id": "X", "index": 1, "count": 3}},
         {"payload": "5,6,7,8\n", "parts": {"id": "X", "index": 2, "count": 3}}],
        [{**W, "parts": {"id": "X", "index": 0, "count": 2}},
         {**W2, "complete": True, "parts": {"id": "X", "index": 1, "count": 2}}]),
    row("skip-lines", {"columns": "a,b,c,d", "skip": 2},
        [{"payload": "1,2,3,4\n5,6,7,8\n9,0,A,B\n"}],
        [one({"a": 9, "b": 0, "c": "A", "d": "B"}, "a,b,c,d")]),
    row("skip-then-first-row-names", {"columns": "a,b,c,d", "columns_from_first_row": True,
                                      "skip": 2},
        [{"payload": "1,2,3,4\n5,6,7,8\n9,0,A,B\nC,D,E,F\n"}],
        [one({"9": "C", "0": "D", "A": "E", "B": "F"}, "9,0,A,B")]),
    row("skip-and-correct-parts", {"columns": "a,b,c,d", "skip": 2},
        [{"payload": "1,2,3,4\n5,6,7,8\n9,0,A,B\nC,D,E,F\n"}],
        [{"payload": {"a": 9, "b": 0, "c": "A", "d": "B"}, "columns": "a,b,c,d",
          "parts": {"id": "<input>", "index": 0, "count": 2}},
         {"payload": {"a": "C", "b": "D", "c": "E", "d": "F"}, "columns": "a,b,c,d",
          "parts": {"id": "<input>", "index": 1, "count": 2}}]),
    row("skip-parts-then-first-part-names", {"columns_from_first_row": True, "skip": 2},
        [{"payload": text, "parts": {"id": "X", "index": index, "count": 5}}
         for index, text in enumerate(["foo\n", "bar\n", "w,x,y,z\n", "1,2,3,4\n",
                                       "5,6,7,8\n"])],
        [{**W, "parts": {"id": "X", "index": 0, "count": 2}},
         {**W2, "complete": True, "parts": {"id": "X", "index": 1, "count": 2}}]),
]

# --- Node-RED's 70-CSV_spec.js, "CSV node (RFC Mode)": json object to csv --------------
WRITING = [
    row("object-to-text", {"columns": "a,b,c,,e,f,g,h,i,j,k"},
        [{"payload": {"e": 0, "d": 1, "b": "foo", "c": True, "a": 4, "f": "Hello\nWorld",
                      "i": "undefined", "j": None, "k": "null"}}],
        [{"payload": '4,foo,true,,0,"Hello\nWorld",,,undefined,null,null\r\n',
          "columns": "a,b,c,e,f,g,h,i,j,k"}]),
    row("object-to-text-no-columns", {},
        [{"payload": {"d": 1, "b": "foo", "c": 'ba"r', "a": "di,ng", "f": "undefined",
                      "g": None, "h": "null"}}],
        [{"payload": '1,foo,"ba""r","di,ng",undefined,null\r\n', "columns": "d,b,c,a,f,g,h"}],
        "warning: No columns template specified"),
    row("object-to-tsv", {"separator": "\t", **NL},
        [{"payload": {"d": 1, "b": "foo", "c": 'ba"r', "a": "di,ng"}}],
        [{"payload": '1\tfoo\t"ba""r"\tdi,ng\n', "columns": "d,b,c,a"}],
        "warning: No columns template specified"),
    row("object-to-tsv-with-header", {"separator": "\t", "header_out": "all", **NL},
        [{"payload": {"d": 1, "b": "foo", "c": 'ba"r', "a": "di,ng"}}],
        [{"payload": 'd\tb\tc\ta\n1\tfoo\t"ba""r"\tdi,ng\n', "columns": "d,b,c,a"}]),
    row("spaces-in-column-names", {"columns": "a,b o,c p,,e", **NL},
        [{"payload": {"e": 0, "d": 1, "b o": "foo", "c p": True, "a": 4}}],
        [{"payload": "4,foo,true,,0\n", "columns": "a,b o,c p,e"}]),
    row("quotes-in-column-names", {"header_out": "all", **NL},
        [{"payload": [{'a"a': "A1", "b'b": "B1"}, {'a"a': "A2", "b'b": "B2"}]}],
        [{"payload": '"a""a",b\'b\nA1,B1\nA2,B2\n', "columns": '"a""a",b\'b'}]),
    row("objects-to-lines", {"columns": "a,d,c,b", **NL},
        [{"payload": [D, {"d": 4, "a": 1, "c": 3, "b": 2}]}],
        [{"payload": "4,1,2,3\n1,4,3,2\n", "columns": "a,d,c,b"}]),
    row("objects-to-lines-with-header", {"columns": "a,b,c,d", "header_out": "all", **NL},
        [{"payload": [D, {"d": "a\nb", "a": 1, "c": 3, "b": 2}]}],
        [{"payload": 'a,b,c,d\n4,3,2,1\n1,2,3,"a\nb"\n', "columns": "a,b,c,d"}]),
    row("objects-to-lines-no-columns", {**NL}, [{"payload": [D, {"d": 4, "a": 1, "c": 3, "b": 2}]}],
        [{"payload": "1,3,2,4\n4,2,3,1\n", "columns": "d,b,c,a"}],
        "warning: No columns template specified"),
    row("objects-to-lines-no-columns-with-header", {"header_out": "all", **NL},
        [{"payload": [D, {"d": 4, "a": 1, "c": 3, "b": "f\ng"}]}],
        [{"payload": 'd,b,c,a\n1,3,2,4\n4,"f\ng",3,1\n', "columns": "d,b,c,a"}]),
    row("list-to-a-line", {"columns": "a,b,c,d", **NL},
        [{"payload": ["", 0, 1, "foo", 'ba"r', "di,ng", "fa\nba"]}],
        [{"payload": ",0,1,foo\n", "columns": "a,b,c,d"}]),
    row("lists-to-lines", {"columns": "a,b,c,d", **NL},
        [{"payload": [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]}],
        [{"payload": "0,1,2,3\n4,3,2,1\n", "columns": "a,b,c,d"}]),
    row("header-row-first", {"columns": "a,b,c,d", "header_out": "all", "line_end": "\r\n"},
        [{"payload": [D]}], [{"payload": "a,b,c,d\r\n4,3,2,1\r\n", "columns": "a,b,c,d"}]),
    row("header-row-and-missing-properties", {"header_out": "all", "line_end": "\r\n"},
        [{"payload": [{"col1": "H1", "col2": "H2", "col3": "H3", "col4": "H4"},
                      {"col1": "A", "col2": "B"}, {"col1": "A", "col3": "C"},
                      {"col1": "A", "col4": "D\nE"}]}],
        [{"payload": 'col1,col2,col3,col4\r\nH1,H2,H3,H4\r\nA,B,,\r\nA,,C,\r\nA,,,"D\nE"\r\n',
          "columns": "col1,col2,col3,col4"}]),
    row("column-names-from-msg-once", {"header_out": "once", "line_end": "\r\n"},
        [{"payload": [D], "columns": "a,,b,a", "parts": {"index": 0}},
         {"payload": [D], "parts": {"index": 1}}, {"payload": [D], "parts": {"index": 2}}],
        [{"payload": "a,,b,a\r\n4,,3,4\r\n", "columns": "a,b,a", "parts": {"index": 0}},
         {"payload": "4,,3,4\r\n", "columns": "a,b,a", "parts": {"index": 1}},
         {"payload": "4,,3,4\r\n", "columns": "a,b,a", "parts": {"index": 2}}]),
    row("column-names-from-msg-list", {"header_out": "once", "line_end": "\r\n"},
        [{"payload": [D, D, D], "columns": "a,,b,a"}],
        [{"payload": "a,,b,a\r\n4,,3,4\r\n4,,3,4\r\n4,,3,4\r\n", "columns": "a,b,a"}]),
    row("quotes-and-sub-properties", {"columns": "a,b,c,d", **NL},
        [{"payload": {"d": {"sub": "object"}, "b": "text,with,commas",
                      "c": 'This "is" a banana', "a": {}}}],
        [{"payload": '{},"text,with,commas","This ""is"" a banana","{""sub"":""object""}"\n',
          "columns": "a,b,c,d"}]),
    row("no-payload-passes", {"columns": "a,b,c,d"}, [{"topic": D}], [{"topic": D}]),
    row("number-is-an-error", {"columns": "a,b,c,d"}, [{"payload": 1}], [],
        "error: msg.payload must be a CSV text, an object or a list, not int"),
    row("boolean-is-an-error", {"columns": "a,b,c,d"}, [{"payload": True}], [],
        "error: msg.payload must be a CSV text, an object or a list, not bool"),
]
"""The spec's "should call done when ... completed" is the ordinary case here (a
synchronous node is done when it returns); "loaded with defaults" is the schema's."""

NODE_RED_CASES = READING + WRITING

HOSTILE = [
    row("bytes-are-text", {"columns": "a"}, [{"payload": b"1\n"}], [one({"a": 1}, "a")],
        node_red=False),
    row("infinity-stays-text", {"columns": "a,b"}, [{"payload": "Infinity,1e999\n"}],
        [one({"a": "Infinity", "b": "1e999"}, "a,b")], node_red=False),
    row("spaces-stay-text", {"columns": "a,b"}, [{"payload": "  ,1\n"}],
        [one({"a": "  ", "b": 1}, "a,b")], node_red=False),
    row("too-many-rows", {"rows_as": "array"}, [{"payload": "1\n" * 100_001}], [],
        "error: msg.payload holds more than 100,000 rows", node_red=False),
    row("bad-header-row", {"columns_from_first_row": True}, [{"payload": 'a"b,c\n1,2\n'}], [],
        "error: The header row is not CSV: a quote in the middle", node_red=False),
]

CASES = NODE_RED_CASES + HOSTILE


def normal(msg: dict[str, Any], input_id: str) -> dict[str, Any]:
    """The message as a row writes it: a sequence id that is the input's own as <input>."""
    out = shown(msg)
    parts = out.get("parts")
    if isinstance(parts, dict) and parts.get("id") == input_id:
        out["parts"] = {**parts, "id": "<input>"}
    return out


def check_row(cfg: dict[str, Any], msgs: list[dict[str, Any]], sent: list[Any],
               problem: str | None) -> None:
    """Run a row's messages (with ids in-0, in-1...) and check what comes out."""
    msgs = [{"_msgid": f"in-{number}", **msg} for number, msg in enumerate(msgs)]
    run = run_node(TYPE, cfg, msgs)
    assert [normal(out, "in-0") for out in run.outputs[0]] == sent
    assert_problem(run, problem)


@pytest.mark.parametrize(("cfg", "msgs", "sent", "problem"), CASES)
def test_cases(cfg: dict[str, Any], msgs: list[dict[str, Any]], sent: list[Any],
               problem: str | None) -> None:
    check_row(cfg, msgs, sent, problem)


async def test_columns_that_do_not_parse_stop_the_node() -> None:
    """"should not remove quotes and whitespace from template": columns read strictly."""
    flow = {"version": 1, "nodes": [
        {"id": "parse", "type": TYPE, "config": {"columns": '"a",  "b" , " c "," d  " '}}]}
    async with FlowHarness(flow) as harness:
        assert "parse" not in harness.engine.nodes
    [error] = [event.data["text"] for event in harness.events if event.kind == "error"]
    assert error == ("failed to start: ValueError: columns do not parse: they must be one "
                     "row of names separated by commas")


def test_table_counts() -> None:
    assert (len(READING), len(WRITING), len(HOSTILE)) == (32, 20, 5)


def test_defaults_are_node_red_4s() -> None:  # "should be loaded with defaults"
    properties = Csv.schema["properties"]
    defaults = {name: spec["default"] for name, spec in properties.items()}
    assert defaults == {"mode": "rfc", "columns": "", "separator": ",",
                        "columns_from_first_row": False, "skip": 0, "parse_numbers": True,
                        "include_empty_strings": False,
                        "include_null_values": False, "rows_as": "messages",
                        "header_out": "none", "line_end": "\r\n"}


@pytest.mark.parametrize("mode", ["rfc", "legacy"])
async def test_a_converted_message_is_complete(mode: str) -> None:
    """"should call done when message processing is completed" (both modes' spec): a
    complete node hears of it."""
    flow = {"version": 1, "nodes": [
        {"id": "parse", "type": TYPE, "config": {"columns": "a,b,c,d", "mode": mode}},
        {"id": "done", "type": "complete", "config": {"scope": "nodes", "nodes": ["parse"]}}]}
    async with FlowHarness(flow) as harness:
        harness.inject("parse", {"payload": "1,2,3,4"})
        [completed] = await harness.wait_for("done", 1)
    assert completed["payload"] == "1,2,3,4"
