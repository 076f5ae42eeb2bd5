"""The change node's cases, re-expressed from Node-RED's own test file
(test/nodes/core/function/15-change_spec.js) as table rows, plus portless's own.

A case is rules, a message in, the context before, and what comes out: the message (or
None for one dropped with an error), the context after, warnings and errors. The
``node_red`` column names the Node-RED test a row re-expresses ("" for portless's own).

Of Node-RED's 93 cases, 69 are here; the 24 left out test what portless does not have:
legacy configs (3: the pre-rules ``action``/``property`` fields, which the importer
maps), the per-key context store prefix ``#:(store)::`` (17), Buffers (1) and
environment variables of tabs and groups (3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Value = dict[str, Any]


def place(text: str) -> Value:
    """``payload`` is a message property, ``flow:key`` and ``global:key`` context."""
    kind, _, key = text.rpartition(":")
    return {"kind": kind or "msg", "value": key}


def string(value: str) -> Value:
    return {"kind": "string", "value": value}


def number(value: float) -> Value:
    return {"kind": "number", "value": value}


def boolean(value: bool) -> Value:
    return {"kind": "boolean", "value": value}


def json(value: Any) -> Value:
    return {"kind": "json", "value": value}


def env(name: str) -> Value:
    return {"kind": "env", "value": name}


def jsonata(text: str) -> Value:
    return {"kind": "jsonata", "value": text}


def set_(prop: str, value: Value | str, *, deep_copy: bool = False) -> Value:
    rule = {"action": "set", "property": place(prop),
            "value": place(value) if isinstance(value, str) else value}
    return {**rule, "deep_copy": True} if deep_copy else rule


def change(prop: str, search: Value | str, replace: Value | str, *,
           regex: bool = False) -> Value:
    return {"action": "change", "property": place(prop),
            "search": place(search) if isinstance(search, str) else search,
            "replace": place(replace) if isinstance(replace, str) else replace,
            **({"regex": True} if regex else {})}


def delete(prop: str) -> Value:
    return {"action": "delete", "property": place(prop)}


def move(prop: str, to: str) -> Value:
    return {"action": "move", "property": place(prop), "to": place(to)}


@dataclass
class Case:
    node_red: str
    rules: list[Value]
    msg: dict[str, Any]
    out: dict[str, Any] | None
    """The message sent (``_msgid``, ``ts`` and an empty ``topic`` left out), or None."""
    context: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``{"flow": {...}, "global": {...}}`` set before the message."""
    context_after: dict[str, dict[str, Any]] | None = None
    """The whole flow and global context after it (None: as before)."""
    warnings: int = 0
    errors: int = 0
    node_red_differs: str = ""
    """Why Node-RED's change node does otherwise with this row, where it does on purpose
    (test_change_node_red.py runs the table through both)."""


NR = "15-change_spec: "
CASES = [
    Case(NR + "should no-op if there are no rules", [], {"payload": "leaveMeAlong"},
         {"payload": "leaveMeAlong"}),
    # --- set ---------------------------------------------------------------------------
    Case(NR + "sets the value of the message property", [set_("payload", string("changed"))],
         {"payload": "changeMe"}, {"payload": "changed"}),
    Case(NR + "sets the value of global context property",
         [set_("global:globalValue", string("changed"))], {"payload": ""}, {"payload": ""},
         {"global": {"globalValue": "changeMe"}}, {"global": {"globalValue": "changed"}}),
    Case(NR + "sets the value and type of the message property",
         [set_("payload", number(12345))], {"payload": "changeMe"}, {"payload": 12345}),
    Case(NR + "sets the value of an already set multi-level message property",
         [set_("foo.bar", string("bar"))], {"foo": {"bar": "foo"}}, {"foo": {"bar": "bar"}}),
    Case(NR + "sets the value of an empty multi-level message property",
         [set_("foo.bar", string("bar"))], {}, {"foo": {"bar": "bar"}}),
    Case(NR + "sets the value of a message property to another message property",
         [set_("foo", "fred")], {"fred": "bar"}, {"fred": "bar", "foo": "bar"}),
    Case(NR + "sets the value of a multi-level message property to another multi-level "
              "message property",
         [set_("foo.bar", "fred.red")], {"fred": {"red": "bar"}},
         {"fred": {"red": "bar"}, "foo": {"bar": "bar"}}),
    Case(NR + "doesn't set the value of a message property when the 'to' message property "
              "does not exist", [set_("foo.bar", "fred.red")], {}, {}),
    Case(NR + "overrides the value of a message property when the 'to' message property "
              "does not exist", [set_("payload", "foo")], {"payload": "Hello"}, {}),
    Case(NR + "sets the message property to null when the 'to' message property equals null",
         [set_("payload", "foo")], {"payload": "Hello", "foo": None},
         {"payload": None, "foo": None}),
    Case(NR + "does not set other properties using = inside to property",
         [set_("payload", "otherProp=10")], {"payload": "changeMe"}, {}),
    Case(NR + "splits dot delimited properties into objects",
         [set_("pay.load", string("10"))], {"pay": {"load": "changeMe"}},
         {"pay": {"load": "10"}}),
    Case(NR + "changes the value to flow context property",
         [set_("payload", "flow:flowValue")], {"payload": ""}, {"payload": "Hello World!"},
         {"flow": {"flowValue": "Hello World!"}}),
    Case(NR + "changes the value to global context property",
         [set_("payload", "global:globalValue")], {"payload": ""},
         {"payload": "Hello World!"}, {"global": {"globalValue": "Hello World!"}}),
    Case(NR + "changes the value to a number", [set_("payload", number(123))],
         {"payload": ""}, {"payload": 123}),
    Case(NR + "changes the value to a boolean value", [set_("payload", boolean(True))],
         {"payload": ""}, {"payload": True}),
    Case(NR + "changes the value to a js object", [set_("payload", json({"a": 123}))],
         {"payload": ""}, {"payload": {"a": 123}}),
    Case(NR + "sets the value using env property", [set_("payload", env("PORTLESS_TEST_A"))],
         {"payload": "123", "topic": "ABC"}, {"payload": "foo", "topic": "ABC"}),
    Case(NR + "changes the value using jsonata", [set_("payload", jsonata("$length(payload)"))],
         {"payload": "Hello World!"}, {"payload": 12}),
    Case(NR + "reports invalid jsonata expression",
         [set_("payload", jsonata("$invalid(payload)"))], {"payload": "Hello World!"}, None,
         errors=1),
    Case(NR + "changes the value using flow context with jsonata",
         [set_("payload", jsonata('$flowContext("foo")'))], {"payload": "Hello World!"},
         {"payload": "bar"}, {"flow": {"foo": "bar"}}),
    Case(NR + "changes the value using global context with jsonata",
         [set_("payload", jsonata('$globalContext("foo")'))], {"payload": "Hello World!"},
         {"payload": "bar"}, {"global": {"foo": "bar"}}),
    Case(NR + "sets the value of a message property using a nested property",
         [set_("payload", "lookup[msg.topic]")],
         {"payload": "", "lookup": {"a": 1, "b": 2}, "topic": "b"},
         {"payload": 2, "lookup": {"a": 1, "b": 2}, "topic": "b"}),
    Case(NR + "sets the value of a nested message property using a message property",
         [set_("lookup[msg.topic]", "payload")],
         {"payload": "newValue", "lookup": {"a": 1, "b": 2}, "topic": "b"},
         {"payload": "newValue", "lookup": {"a": 1, "b": "newValue"}, "topic": "b"}),
    Case(NR + "sets the value of a message property using a nested property in flow context",
         [set_("payload", "flow:lookup[msg.topic]")], {"payload": "", "topic": "b"},
         {"payload": 2, "topic": "b"}, {"flow": {"lookup": {"a": 1, "b": 2}}}),
    Case(NR + "sets the value of a message property using a nested property in flow context "
              "(its second case of that name)",
         [set_("payload", "flow:lookup[msg.topic]")], {"payload": "", "topic": "a"},
         {"payload": 1, "topic": "a"}, {"flow": {"lookup": {"a": 1, "b": 2}}}),
    Case(NR + "sets the value of a nested flow context property using a message property",
         [set_("flow:lookup[msg.topic]", "payload")], {"payload": "newValue", "topic": "b"},
         {"payload": "newValue", "topic": "b"}, {"flow": {"lookup": {"a": 1, "b": 2}}},
         {"flow": {"lookup": {"a": 1, "b": "newValue"}}}),
    Case("", [set_("flow:lookup[msg.line]", "payload")], {"payload": 1}, None,
         errors=1, node_red_differs="it ignores a context key it cannot resolve"),
    Case("", [delete("global:lookup[msg.topic].x")], {"payload": 1, "topic": "b"},
         {"payload": 1, "topic": "b"}, {"global": {"lookup": {"b": {"x": 1, "y": 2}}}},
         {"global": {"lookup": {"b": {"y": 2}}}}),
    # Node-RED changes the source object after the node ran; a second rule does it here.
    Case(NR + "deep copies the property if selected",
         [set_("payload", "source", deep_copy=True), set_("source.a.c", number(3))],
         {"source": {"a": {"b": 2}}},
         {"source": {"a": {"b": 2, "c": 3}}, "payload": {"a": {"b": 2}}}),
    Case("", [set_("payload", "source"), set_("source.a.c", number(3))],
         {"source": {"a": {"b": 2}}},
         {"source": {"a": {"b": 2, "c": 3}}, "payload": {"a": {"b": 2, "c": 3}}}),
    Case("", [set_("payload.level", number(1))], {"payload": "text"}, {"payload": "text"},
         warnings=1),
    Case("", [set_("flow:totals.line.a", number(1))], {"topic": "a"}, None,
         {"flow": {"totals": {"line": "text"}}}, errors=1,
         node_red_differs="it ignores a context key it cannot set, without a word"),
    # --- change ------------------------------------------------------------------------
    Case(NR + "changes the value of the message property",
         [change("payload", string("Hello"), string("Goodbye"))],
         {"payload": "Hello World!"}, {"payload": "Goodbye World!"}),
    Case(NR + "changes the value and doesnt change type of the message property for "
              "partial match", [change("payload", string("123"), number(456))],
         {"payload": "Change123Me"}, {"payload": "Change456Me"}),
    Case(NR + "changes the value and type of the message property if a complete match - "
              "number", [change("payload", string("123"), number(456))],
         {"payload": "123"}, {"payload": 456}),
    Case(NR + "changes the value and type of the message property if a complete match - "
              "boolean",
         [change("payload.a", string("123"), boolean(True)),
          change("payload.b", string("456"), boolean(False))],
         {"payload": {"a": "123", "b": "456"}}, {"payload": {"a": True, "b": False}}),
    Case(NR + "changes the value of a multi-level message property",
         [change("foo.bar", string("Hello"), string("Goodbye"))],
         {"foo": {"bar": "Hello World!"}}, {"foo": {"bar": "Goodbye World!"}}),
    Case(NR + "sends unaltered message if the changed message property does not exist",
         [change("foo", string("Hello"), string("Goodbye"))],
         {"payload": "Hello World!"}, {"payload": "Hello World!"}),
    Case(NR + "sends unaltered message if a changed multi-level message property does not "
              "exist", [change("foo.bar", string("Hello"), string("Goodbye"))],
         {"payload": "Hello World!"}, {"payload": "Hello World!"}),
    Case(NR + "changes the value of the message property based on a regex",
         [change("payload.a", string(r"\d+"), string("NUMBER"), regex=True),
          change("payload.b", string("on"), boolean(True), regex=True),
          change("payload.c", string("off"), boolean(False), regex=True)],
         {"payload": {"a": "Replace all numbers 12 and 14", "b": "on", "c": "off"}},
         {"payload": {"a": "Replace all numbers NUMBER and NUMBER", "b": True, "c": False}}),
    Case(NR + "supports regex groups",
         [change("payload", string("(Hello)"), string("$1-$1-$1"), regex=True)],
         {"payload": "Hello World"}, {"payload": "Hello-Hello-Hello World"}),
    Case(NR + "supports regex groups - new rule format",
         [change("payload", string("(Hello)"), string("$1-$1-$1"), regex=True)],
         {"payload": "Hello World"}, {"payload": "Hello-Hello-Hello World"}),
    Case("", [change("payload", string("(?<word>Hello)"), string("$<word>-$&-$$"),
                     regex=True)],
         {"payload": "Hello World"}, {"payload": "Hello-Hello-$ World"}),
    Case(NR + "changes the value - new rule format",
         [change("payload", string("ABC"), string("123"))],
         {"payload": "abcABCabc"}, {"payload": "abc123abc"}),
    Case(NR + "changes the value using msg property",
         [change("payload", "topic", string("123"))],
         {"payload": "abcABCabc", "topic": "ABC"}, {"payload": "abc123abc", "topic": "ABC"}),
    Case(NR + "changes the value using flow context property",
         [change("payload", "flow:topic", string("123"))], {"payload": "abcABCabc"},
         {"payload": "abc123abc"}, {"flow": {"topic": "ABC"}}),
    Case(NR + "changes the value using global context property",
         [change("payload", "global:topic", string("123"))], {"payload": "abcABCabc"},
         {"payload": "abc123abc"}, {"global": {"topic": "ABC"}}),
    Case(NR + "changes the number using global context property",
         [change("payload", "global:topic", string("ABC"))], {"payload": 123},
         {"payload": "ABC"}, {"global": {"topic": 123}}),
    Case(NR + "changes the value using number - string payload",
         [change("payload", number(123), string("456"))], {"payload": "123"},
         {"payload": "456"}),
    Case(NR + "changes the value using number - number payload",
         [change("payload", number(123), string("abc"))], {"payload": 123},
         {"payload": "abc"}),
    Case(NR + "changes the value using boolean - string payload",
         [change("payload", boolean(True), string("xxx"))], {"payload": "true"},
         {"payload": "xxx"}),
    Case(NR + "changes the value using boolean - boolean payload",
         [change("payload", boolean(True), string("xxx"))], {"payload": True},
         {"payload": "xxx"}),
    Case(NR + "changes the value of the global context",
         [change("global:payload", string("Hello"), string("Goodbye"))], {"payload": ""},
         {"payload": ""}, {"global": {"payload": "Hello World!"}},
         {"global": {"payload": "Goodbye World!"}}),
    Case(NR + "changes the value and doesnt change type of the flow context for partial match",
         [change("flow:payload", string("123"), number(456))], {"payload": ""},
         {"payload": ""}, {"flow": {"payload": "Change123Me"}},
         {"flow": {"payload": "Change456Me"}}),
    Case(NR + "changes the value and type of the flow context if a complete match",
         [change("flow:payload", string("123"), number(456))], {"payload": ""},
         {"payload": ""}, {"flow": {"payload": "123"}}, {"flow": {"payload": 456}}),
    Case(NR + "changes the value using number - number flow context",
         [change("flow:payload", number(123), string("abc"))], {"payload": ""},
         {"payload": ""}, {"flow": {"payload": 123}}, {"flow": {"payload": "abc"}}),
    Case(NR + "changes the value using boolean - boolean flow context",
         [change("flow:payload", boolean(True), string("abc"))], {"payload": ""},
         {"payload": ""}, {"flow": {"payload": True}}, {"flow": {"payload": "abc"}}),
    Case(NR + "reports invalid fromValue", [change("payload", "null", string("abc"))],
         {"payload": "", "null": None}, None, errors=1,
         node_red_differs="it reports the error and sends the message on unchanged too"),
    Case(NR + "changes the value using env property",
         [change("payload", "topic", env("PORTLESS_TEST_A"))],
         {"payload": "abcABCabc", "topic": "ABC"}, {"payload": "abcfooabc", "topic": "ABC"}),
    Case("", [change("payload", env("PORTLESS_TEST_A"), string("bar"))],
         {"payload": "a foo"}, {"payload": "a bar"},
         node_red_differs="it searches for the variable's name, not its value"),
    Case("", [change("payload", number(2.5), number(3))], {"payload": "2.5 mm"},
         {"payload": "3 mm"}),
    Case("", [change("payload", string("o"), json({"a": 1}))], {"payload": "go"},
         {"payload": "g[object Object]"}),
    Case("", [change("payload", string(""), string("-"))], {"payload": "ab"},
         {"payload": "-a-b-"}),
    Case("", [change("payload", string("a.c"), string("x"))], {"payload": "abc a.c"},
         {"payload": "abc x"}),
    Case("", [change("payload", string("(b)"), string("[$1$2$`$']"), regex=True)],
         {"payload": "abc"}, {"payload": "a[b$2ac]c"}),
    Case("", [change("payload", string("1"), string("one"))], {"payload": 1},
         {"payload": 1}),
    # --- delete ------------------------------------------------------------------------
    Case(NR + "deletes the value of the message property", [delete("payload")],
         {"payload": "This won't get through!"}, {}),
    Case(NR + "deletes the value of global context property", [delete("global:globalValue")],
         {"payload": ""}, {"payload": ""}, {"global": {"globalValue": "Hello World!"}},
         {"global": {}}),
    Case(NR + "deletes the value of a multi-level message property", [delete("foo.bar")],
         {"payload": "This won't get through!", "foo": {"bar": "This will be deleted!"}},
         {"payload": "This won't get through!", "foo": {}}),
    Case(NR + "sends unaltered message if the deleted message property does not exist",
         [delete("foo")], {"payload": "payload"}, {"payload": "payload"}),
    Case(NR + "sends unaltered message if a deleted multi-level message property does not "
              "exist", [delete("foo.bar")], {"payload": "payload"}, {"payload": "payload"}),
    # --- move --------------------------------------------------------------------------
    Case(NR + "moves the value of the message property", [move("topic", "payload")],
         {"topic": "You've got to move it move it.", "payload": {"foo": "bar"}},
         {"payload": "You've got to move it move it."}),
    Case(NR + "moves the value of a message property object", [move("topic", "payload")],
         {"topic": {"foo": {"bar": 1}}, "payload": "String"},
         {"payload": {"foo": {"bar": 1}}}),
    Case(NR + "moves the value of a message property object to itself",
         [move("payload", "payload")], {"payload": "bar"}, {"payload": "bar"}),
    Case(NR + "moves the value of a message property object to a sub-property",
         [move("payload", "payload.foo")], {"payload": "bar"}, {"payload": {"foo": "bar"}}),
    Case(NR + "moves the value of a message sub-property object to a property",
         [move("payload.foo", "payload")], {"payload": {"foo": "bar"}}, {"payload": "bar"}),
    Case("", [move("payload", "flow:last")], {"payload": 7}, {},
         context_after={"flow": {"last": 7}}),
    Case("", [move("flow:last", "payload")], {"payload": 7}, {"payload": 8},
         {"flow": {"last": 8}}, {"flow": {}}),
    Case("", [move("missing", "payload")], {"payload": 7}, {}),
    # --- several rules -----------------------------------------------------------------
    Case(NR + "handles multiple rules",
         [set_("payload", string("newValue")),
          change("changeProperty", string("this"), string("that")),
          delete("deleteProperty")],
         {"payload": "changeMe", "changeProperty": "change this value",
          "deleteProperty": "delete this value"},
         {"payload": "newValue", "changeProperty": "change that value"}),
    Case(NR + "applies multiple rules in order",
         [set_("payload", string("a this (hi)")),
          change("payload", string("this"), string("that")),
          change("payload", string(r"\(.*\)"), string("[new]"), regex=True)],
         {"payload": "changeMe"}, {"payload": "a that [new]"}),
]
