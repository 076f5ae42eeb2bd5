"""The table of property paths and messages that tests/runtime/test_properties.py checks
portless against, and tests/runtime/test_properties_node_red.py checks Node-RED's own
``RED.util`` against: one table, so the two cannot drift apart.

Each case says what portless does. Where Node-RED does otherwise on purpose, ``node_red``
says what it does and ``why`` says why portless differs (docs/plugins.md lists them).
Two differences hold everywhere and are not repeated per case: where Node-RED throws
(reading below a missing or null value, writing below a string), portless reads MISSING
and a write returns False leaving the message as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portless.runtime import MISSING

ERROR = "error"
"""The expected ``parts`` of a text that is not a path."""
SAME = object()
"""``node_red`` of a case where Node-RED does what portless does."""


@dataclass(frozen=True)
class PathCase:
    """A text and the steps it parses into (nested references as ``["msg", ...]``)."""

    path: str
    parts: Any
    node_red: Any = SAME
    why: str = ""


@dataclass(frozen=True)
class GetCase:
    msg: dict[str, Any]
    path: str
    value: Any
    node_red: Any = SAME
    why: str = ""


@dataclass(frozen=True)
class SetCase:
    """``set_property(msg, path, value)``, or a delete where ``value`` is MISSING:
    what it returns (``result``) and the message after it (``after``)."""

    msg: dict[str, Any]
    path: str
    value: Any
    result: bool
    after: dict[str, Any]
    node_red: Any = SAME
    """What Node-RED's ``setMessageProperty`` returns and leaves, as (result, after);
    an ``after`` of None is the same message as portless leaves."""
    why: str = ""


PATHS = [
    # Node-RED's util_spec.js, normalisePropertyExpression
    PathCase("a.b.c", ["a", "b", "c"]),
    PathCase('a["b"]["c"]', ["a", "b", "c"]),
    PathCase('a["b"].c', ["a", "b", "c"]),
    PathCase("a['b'].c", ["a", "b", "c"]),
    PathCase("a[0].c", ["a", 0, "c"]),
    PathCase("a.0.c", ["a", 0, "c"]),
    PathCase("a['a.b[0]'].c", ["a", "a.b[0]", "c"]),
    PathCase("a[0][0][0]", ["a", 0, 0, 0]),
    PathCase("'1.2.3.4'", ["1.2.3.4"]),
    PathCase("'a.b'[1]", ["a.b", 1]),
    PathCase("'a.b'.c", ["a.b", "c"]),
    PathCase("a[msg.b]", ["a", ["msg", "b"]]),
    PathCase("a[msg[msg.b]]", ["a", ["msg", ["msg", "b"]]]),
    PathCase("a[msg['b]\"[']]", ["a", ["msg", "b]\"["]]),
    PathCase("a[msg['b][']]", ["a", ["msg", "b]["]]),
    PathCase("b[msg.a][2]", ["b", ["msg", "a"], 2]),
    PathCase("a.$b.c", ["a", "$b", "c"]),
    PathCase('a["$b"].c', ["a", "$b", "c"]),
    PathCase("a._b.c", ["a", "_b", "c"]),
    PathCase('a["_b"].c', ["a", "_b", "c"]),
    *(PathCase(text, ERROR) for text in [
        "a'b'.c", "a['b'.c", "a[]", "a]", "a[", "a[0d]", "a['", "a[']", "a[0']", "a.[0]",
        "[0]", "a[0", "a.", ".a", "a. b", " a.b", "a[0].[1]", "a['']", "'a.b'c", "",
        "a[b]", "a[msg.]", "a[msg[]", "a[msg.[]]", "a[msg['af]]"]),
    # what portless's nodes are given
    PathCase("payload", ["payload"]),
    PathCase("msg.payload", ["payload"]),
    PathCase("payload.values[2].v", ["payload", "values", 2, "v"]),
    PathCase('payload["a b"]', ["payload", "a b"]),
    PathCase("payload['x.y']", ["payload", "x.y"]),
    PathCase("payload.length", ["payload", "length"]),
    PathCase("payload[msg.topic]", ["payload", ["msg", "topic"]]),
    PathCase("payload.flow-rate", ["payload", "flow-rate"]),
    PathCase("payload.0", ["payload", "0"]),  # a final all-digit name stays a name
    PathCase("payload.07.x", ["payload", 7, "x"]),
    PathCase("payload[007]", ["payload", 7]),
    PathCase("msg", ["msg"]),
    PathCase("msg[0]", ["msg", 0]),
    PathCase('ünïcode["ключ"].a_ß', ["ünïcode", "ключ", "a_ß"]),
    # Node-RED's scanner takes these; so does portless, with the same steps
    PathCase("a[0]b", ["a", 0, "b"]),
    PathCase("a[0]'b'", ["a", 0, "b"]),
    PathCase("a[0.1]", ["a", 0, 1]),
    PathCase("a[0[1]", ["a", "0", 1]),
    PathCase("a[0[msg.b]", ["a", "0", ["msg", "b"]]),
    PathCase("a-b", ["a-b"]),
    PathCase("msg.-a", ["-a"]),  # a leading "msg." is dropped before parsing
    PathCase("a[msg.-a]", ERROR),  # ... but a nested reference is parsed as written
    *(PathCase(text, ERROR) for text in [
        "payload..x", "payload.", "payload[-1]", "payload[x]", "payload.[0]",
        "payload[0]]", "payload ", "payload. x", "a[0[msg.b]]", "msg.", "a.é",
        "payload[msg.missing.]"]),
    PathCase("payload\n", ERROR, node_red=["payload\n"],
             why="a control character is invisible in the editor; a trailing newline "
                 "from a paste would read a key no message has"),
    PathCase("pay\tload", ERROR, node_red=["pay\tload"],
             why="a control character is invisible in the editor"),
]

_VALUES = {"payload": {"values": [1, 2, {"v": 7}], "0": "zero", "a b": 1, "x.y": 2,
                       "t/1": "by topic", "n": None}, "topic": "t/1"}

GETS = [
    GetCase(_VALUES, "payload.values[2].v", 7),
    GetCase(_VALUES, "payload.values[5]", MISSING),
    GetCase(_VALUES, "payload.values.length", 3),
    GetCase(_VALUES, 'payload["a b"]', 1),
    GetCase(_VALUES, "payload['x.y']", 2),
    GetCase(_VALUES, "payload[0]", "zero"),  # an object's key "0"
    GetCase(_VALUES, 'payload["0"]', "zero"),
    GetCase(_VALUES, "payload[msg.topic]", "by topic"),
    GetCase(_VALUES, "payload[msg.nothing]", MISSING),  # Node-RED throws
    GetCase(_VALUES, "payload.n", None),
    GetCase(_VALUES, "payload.n.deeper", MISSING),  # Node-RED throws
    GetCase(_VALUES, "payload.missing", MISSING),
    GetCase(_VALUES, "payload.missing.deeper", MISSING),  # Node-RED throws
    GetCase(_VALUES, "msg.topic", "t/1"),
    GetCase(_VALUES, "topic.length", 3),
    GetCase(_VALUES, "topic[2]", "1"),  # a string's character
    GetCase(_VALUES, "topic.x", MISSING),
    GetCase({"payload": "abc"}, "payload.length", 3),
    GetCase({"payload": ""}, "payload.length", 0),
    GetCase({"payload": [4, 5, 6]}, "payload.length", 3),
    GetCase({"payload": [4, 5, 6]}, "payload[0]", 4),
    GetCase({"payload": [4, 5, 6]}, 'payload["1"]', 5),
    GetCase({"payload": [4, 5, 6]}, "payload[01]", 5),
    GetCase({"payload": [4, 5, 6]}, 'payload["01"]', MISSING),
    GetCase({"payload": [4, 5, 6]}, "payload.x", MISSING),
    GetCase({"payload": {"length": 9}}, "payload.length", 9),
    GetCase({"payload": {}}, "payload.length", MISSING),
    GetCase({"payload": 42}, "payload.length", MISSING),
    GetCase({"payload": True}, "payload.x", MISSING),
    GetCase({"payload": [[["deep"]]]}, "payload[0][0][0]", "deep"),
    GetCase({"a": "foo", "b": {"foo": 1, "bar": 2}}, "msg.b[msg.a]", 1),
    GetCase({"a": "bar", "b": {"foo": 1, "bar": 2}}, "b[msg.a]", 2),
    GetCase({"i": 1, "b": ["x", "y"]}, "b[msg.i]", "y"),
    GetCase({"i": 1.0, "b": ["x", "y"]}, "b[msg.i]", "y"),
    GetCase({"i": True, "b": {"true": "yes"}}, "b[msg.i]", "yes"),
    GetCase({"i": None, "b": {"null": "nil"}}, "b[msg.i]", "nil"),
    GetCase({"i": "k", "k": "j", "b": {"j": 5}}, "b[msg[msg.i]]", MISSING),  # msg.msg[..]
    GetCase({"msg": {"j": "k"}, "i": "j", "b": {"k": 5}}, "b[msg[msg.i]]", 5),
    GetCase({"payload": {"a": 1}}, "payload.toString", MISSING, node_red="a function",
            why="portless reads a message's own data, never JavaScript's prototype"),
    GetCase({"payload": "😀"}, "payload.length", 1, node_red=2,
            why="Python counts characters, JavaScript UTF-16 code units"),
    GetCase({"i": {"x": 1}, "b": {"[object Object]": 1}}, "b[msg.i]", MISSING, node_red=1,
            why="an object as a key is JavaScript's '[object Object]', never meant"),
]

SETS = [
    # Node-RED's util_spec.js, setMessageProperty
    SetCase({"a": "foo"}, "msg.a", "bar", True, {"a": "bar"}),
    SetCase({"a": {"b": {"c": "foo"}}}, "msg.a.b.c", "bar", True, {"a": {"b": {"c": "bar"}}}),
    SetCase({"a": {}}, "msg.a.b.c", "bar", True, {"a": {"b": {"c": "bar"}}}),
    SetCase({"a": "foo"}, "msg.a.b.c", "bar", False, {"a": "foo"}),
    SetCase({"a": "foo"}, "msg.a.b", "bar", False, {"a": "foo"}),
    SetCase({"a": 123}, "msg.a.b", "bar", False, {"a": 123}),
    SetCase({"a": True}, "msg.a.b.c", "bar", False, {"a": True}),
    SetCase({"a": {"b": {"c": "foo"}}}, "msg.a.b.c", MISSING, True, {"a": {"b": {}}}),
    SetCase({"a": {}}, "msg.a.b.c", MISSING, False, {"a": {}}),
    SetCase({"a": {"b": ["foo", {"c": ["", ""]}]}}, "msg.a.b[1].c[1]", "bar", True,
            {"a": {"b": ["foo", {"c": ["", "bar"]}]}}),
    SetCase({"a": []}, "msg.a[2]", "bar", True, {"a": [None, None, "bar"]}),
    SetCase({}, "msg.a[2].b", "bar", True, {"a": [None, None, {"b": "bar"}]}),
    SetCase({}, "msg.a[2][2]", "bar", True, {"a": [None, None, [None, None, "bar"]]}),
    SetCase({"a": [1, 2, 3]}, "msg.a[1]", MISSING, True, {"a": [1, 3]}),
    SetCase({"a": "foo", "b": {}}, "b[msg.a]", "bar", True, {"a": "foo", "b": {"foo": "bar"}}),
    SetCase({"a": "foo", "b": {"foo": [0, 0, 0]}}, "b[msg.a][2]", "bar", True,
            {"a": "foo", "b": {"foo": [0, 0, "bar"]}}),
    # what portless's nodes do with them
    SetCase({"payload": 1}, "payload", 2, True, {"payload": 2}),
    SetCase({"payload": 1}, "payload", None, True, {"payload": None}),
    SetCase({}, "payload.a.b", 1, True, {"payload": {"a": {"b": 1}}}),
    SetCase({}, "payload.values[1].v", 1, True, {"payload": {"values": [None, {"v": 1}]}}),
    SetCase({}, 'payload["1"]', 1, True, {"payload": {"1": 1}}),
    SetCase({}, "payload.0.x", 1, True, {"payload": [{"x": 1}]}),
    SetCase({"payload": {}}, "payload[0]", "a", True, {"payload": {"0": "a"}}),
    SetCase({"payload": [0]}, "payload[3]", 3, True, {"payload": [0, None, None, 3]}),
    SetCase({"payload": [0, 1]}, 'payload["1"]', "b", True, {"payload": [0, "b"]}),
    SetCase({"payload": [0]}, 'payload["3"].x', 1, True, {"payload": [0, None, None, {"x": 1}]}),
    SetCase({"payload": [0]}, "payload[0].x", 1, False, {"payload": [0]}),
    SetCase({"payload": [None]}, "payload[0].x", 1, False, {"payload": [None]}),
    SetCase({"payload": None}, "payload.x", 1, False, {"payload": None}),
    SetCase({"payload": "abc"}, "payload[0]", "x", False, {"payload": "abc"}),
    SetCase({"payload": "abc"}, "payload.length", 1, False, {"payload": "abc"}),
    SetCase({"topic": "k", "payload": {}}, "payload[msg.topic]", 1, True,
            {"topic": "k", "payload": {"k": 1}}),
    SetCase({"payload": {}}, "payload[msg.topic]", 1, False, {"payload": {}}),
    SetCase({"payload": [1]}, "payload.x", 2, False, {"payload": [1]}, node_red=(True, None),
            why="a list's named property is lost as JSON: refused rather than dropped"),
    SetCase({"payload": [1]}, "payload.x.y", 2, False, {"payload": [1]}, node_red=(True, None),
            why="a list's named property is lost as JSON: refused rather than dropped"),
    SetCase({"payload": [1, 2, 3]}, "payload.length", 1, False, {"payload": [1, 2, 3]},
            node_red=(True, {"payload": [1]}),
            why="a list is cut by deleting its items, not by writing its length"),
    # delete
    SetCase({"payload": 1, "topic": "t"}, "payload", MISSING, True, {"topic": "t"}),
    SetCase({"topic": "t"}, "payload", MISSING, False, {"topic": "t"}, node_red=(True, None),
            why="delete says whether it removed something, not whether the parent exists"),
    SetCase({"payload": {"a": 1}}, "payload.b", MISSING, False, {"payload": {"a": 1}},
            node_red=(True, None),
            why="delete says whether it removed something, not whether the parent exists"),
    SetCase({"payload": {"0": "a"}}, "payload[0]", MISSING, True, {"payload": {}}),
    SetCase({"payload": [0, 1, 2]}, "payload[1]", MISSING, True, {"payload": [0, 2]}),
    SetCase({"payload": [0, 1, 2]}, "payload[5]", MISSING, False, {"payload": [0, 1, 2]},
            node_red=(True, None),
            why="delete says whether it removed something, not whether the parent exists"),
    SetCase({"payload": [0, 1, 2]}, 'payload["1"]', MISSING, True, {"payload": [0, None, 2]}),
    SetCase({"payload": "abc"}, "payload[0]", MISSING, False, {"payload": "abc"}),
    SetCase({"payload": {"a": [{"b": 1, "c": 2}]}}, "payload.a[0].b", MISSING, True,
            {"payload": {"a": [{"c": 2}]}}),
    SetCase({"payload": {}}, "payload.a.b", MISSING, False, {"payload": {}}),
    SetCase({"topic": "k", "payload": {"k": 1, "j": 2}}, "payload[msg.topic]", MISSING, True,
            {"topic": "k", "payload": {"j": 2}}),
]
