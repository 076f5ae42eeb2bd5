"""change: set, change (search and replace), delete and move message properties and
flow or global context, rule by rule on the same message (Node-RED's change node)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from portless.nodes.js_values import js_string
from portless.runtime import (
    MISSING,
    Message,
    Node,
    TypedValue,
    clone_message,
    compile_regex,
    typed_value_schema,
)

Rule = Callable[[Message], None]
"""A compiled rule: changes the message (or context) in place; raises ValueError to
drop the message with an error (a context that refuses a value, a failed expression)."""

PLACE_KINDS: tuple[Literal["msg", "flow", "global"], ...] = ("msg", "flow", "global")
SEARCH_KINDS: tuple[Literal["string", "number", "boolean", "msg", "flow", "global", "env"],
                    ...] = ("string", "number", "boolean", "msg", "flow", "global", "env")

def _action_is(action: str) -> dict[str, Any]:
    """A rule of this action: the condition a field is required under and, for the
    editor's rule list (``x-show-if``), shown under."""
    return {"properties": {"action": {"const": action}}}


_SET, _CHANGE, _MOVE = _action_is("set"), _action_is("change"), _action_is("move")

RULE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["action", "property"],
    "properties": {
        "action": {"title": "Action", "enum": ["set", "change", "delete", "move"],
                   "description": "`set` the property to a value; `change`: search and "
                                  "replace in it; `delete` it; `move` it elsewhere."},
        "property": typed_value_schema(
            "Property", "The message property, or flow or global context key, the rule "
                        "works on.",
            kinds=PLACE_KINDS, default={"kind": "msg", "value": "payload"}),
        "value": {**typed_value_schema(
            "Value", "`set`: the value to set (a `msg`, `flow` or `global` value that "
                     "is absent deletes the property, as in Node-RED)."), "x-show-if": _SET},
        "deep_copy": {"title": "Deep copy value", "type": "boolean", "default": False,
                      "x-show-if": _SET,
                      "description": "`set` from a property or context: set a copy, so "
                                     "later changes to either do not show in the other."},
        "search": {**typed_value_schema(
            "Search for", "`change`: what to find; a number or boolean also matches a "
                          "number or boolean property equal to it.", kinds=SEARCH_KINDS),
                   "x-show-if": _CHANGE},
        "regex": {"title": "Search is a regular expression", "type": "boolean",
                  "default": False, "x-show-if": _CHANGE,
                  "description": "`change` with a string search: read it as a regular "
                                 "expression (Python syntax; the replacement may use "
                                 "`$1`, `$<name>`, `$&` as in JavaScript)."},
        "replace": {**typed_value_schema(
            "Replace with", "`change`: the replacement; a whole match (the property "
                            "equals the search) takes its type, a partial one its text."),
                    "x-show-if": _CHANGE},
        "to": {**typed_value_schema("Move to", "`move`: where the value goes.",
                                    kinds=PLACE_KINDS), "x-show-if": _MOVE},
    },
    "allOf": [
        {"if": _SET, "then": {"required": ["value"]}},
        {"if": _CHANGE, "then": {"required": ["search", "replace"]}},
        {"if": _MOVE, "then": {"required": ["to"]}},
        {"if": {"properties": {"regex": {"const": True}}, "required": ["regex"]},
         "then": {"properties": {"search": {"properties": {
             "kind": {"const": "string", "x-error": "must be string for a regular "
                                                   "expression"},
             "value": {"x-regex": True}}}}}},
    ],
}


class Change(Node):
    type = "change"
    category = "function"
    color = "#e2d96e"
    icon = "node"
    schema = {
        "title": "Change",
        "description": (
            "Applies its rules in order to each message, then sends it on: `set` a "
            "property (of the message, or flow or global context) to a value, `change` "
            "text in it (search and replace, plain or regular expression), `delete` it, "
            "`move` it. A rule whose expression fails or whose context refuses a value "
            "drops the message with an error; a property a message cannot hold (a field "
            "of a string) warns and the message goes on. Differences from Node-RED: a "
            "number or boolean searched for from a property, context or the environment "
            "is matched as one typed in (Node-RED replaces the text `undefined`, and "
            "searches for an environment variable's name, not its value); regular "
            "expressions are Python's; a `change` to `true`/`false` makes a boolean in "
            "context as it does in a message; a search that is no string, number or "
            "boolean (null, an object, an absent property), a context key path "
            "through a non-object and one naming an absent message property "
            "(`lookup[msg.line]`) drop the message with an error (Node-RED sends it on "
            "unchanged); the per-key context store prefix `#:(store)::` is not read (a "
            "flow file picks its store)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rules": {"title": "Rules", "type": "array", "items": RULE_SCHEMA,
                      "default": [{"action": "set",
                                   "property": {"kind": "msg", "value": "payload"},
                                   "value": {"kind": "string", "value": ""}}],
                      "description": (
                          "Applied in order, each to the message the one before left. A "
                          "rule has an `action` and a `property` (a typed value: `msg`, "
                          "`flow` or `global`); `set` takes a `value` (any typed value) "
                          "and `deep_copy`; `change` a `search` (string, number, boolean, "
                          "`msg`, `flow`, `global`, `env`), `regex` and a `replace`; "
                          "`move` a `to` (`msg`, `flow` or `global`).")},
        },
    }

    async def start(self) -> None:
        self._rules = [self._compile(rule) for rule in self.config["rules"]]

    def on_input(self, msg: Message) -> None:
        try:
            for rule in self._rules:
                rule(msg)
        except ValueError as exc:  # a context that refused a value, a failed expression
            self.error(str(exc), msg)
            return
        self.send(msg)

    def _compile(self, rule: Mapping[str, Any]) -> Rule:
        target = TypedValue(rule["property"], self)
        action = rule["action"]
        if action == "delete":
            return lambda msg: (target.delete(msg), None)[1]
        if action == "set":
            return self._setter(target, TypedValue(rule["value"], self),
                                bool(rule.get("deep_copy")))
        if action == "move":
            return self._mover(target, TypedValue(rule["to"], self))
        return self._changer(target, rule)

    def _put(self, target: TypedValue, msg: Message, value: Any) -> None:
        """Write a value (MISSING deletes, as Node-RED's undefined does); a message
        that cannot hold it there warns and goes on."""
        if value is MISSING:
            target.delete(msg)
        elif not target.set(msg, value):
            self.warn(f"cannot set msg.{target.value}: a part of the way is not an "
                      f"object or list")

    def _setter(self, target: TypedValue, source: TypedValue, deep_copy: bool) -> Rule:
        name, get = target.name, source.get
        if name is not None and source.kind in ("string", "number", "boolean"):
            constant = source.value

            def set_constant(msg: Message) -> None:  # the commonest: msg[name] = literal
                msg[name] = constant
            return set_constant
        if name is not None and not deep_copy:
            def set_name(msg: Message) -> None:  # the common case: msg[name], no copy
                value = get(msg)
                if value is MISSING:
                    target.delete(msg)
                else:
                    msg[name] = value
            return set_name

        def set_(msg: Message) -> None:
            value = source.get(msg)
            self._put(target, msg, clone_message(value) if deep_copy else value)
        return set_

    def _mover(self, source: TypedValue, target: TypedValue) -> Rule:
        def move(msg: Message) -> None:
            # read, delete, then write: a move to a child (payload -> payload.sub) or
            # from one (payload.sub -> payload) ends as Node-RED's two-step move does
            value = source.get(msg)
            source.delete(msg)
            self._put(target, msg, value)
        return move

    def _changer(self, target: TypedValue, rule: Mapping[str, Any]) -> Rule:
        search = TypedValue(rule["search"], self)
        replace = TypedValue(rule["replace"], self)
        if rule.get("regex"):
            fixed: Search | None = Search("regex", search.value, compile_regex(search.value))
        elif search.kind in ("string", "number", "boolean", "env"):
            fixed = Search.of(search.get({}))
        else:
            fixed = None

        def change(msg: Message) -> None:
            current = target.get(msg)
            found = fixed or Search.of(search.get(msg))
            value = replace.get(msg)
            if isinstance(current, str):
                if found.kind != "regex" and current == found.text:
                    self._put(target, msg, value)  # a whole match takes the value's type
                    return
                text = js_string(value) if value is not MISSING else "undefined"
                changed = js_replace(current, found.pattern, text)
                # Node-RED: a replacement that leaves only "true"/"false" makes a boolean
                self._put(target, msg, value if isinstance(value, bool) and changed == text
                          else changed)
            elif found.matches(current):
                self._put(target, msg, value)
        return change


class Search:
    """What a change rule looks for: its kind, its text form and the pattern matching it."""

    __slots__ = ("kind", "pattern", "text", "value")

    def __init__(self, kind: str, value: Any, pattern: re.Pattern[str]) -> None:
        self.kind = kind
        self.value = value
        self.text = value if kind in ("string", "regex") else js_string(value)
        self.pattern = pattern

    @classmethod
    def of(cls, value: Any) -> Search:
        """The search for a value (typed in, or read from the message or context)."""
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, int | float):
            kind = "number"
        elif isinstance(value, str):
            kind = "string"
        else:
            shown = "nothing" if value is MISSING else f"a {type(value).__name__}"
            raise ValueError(f"cannot search for {shown}: the search must be a string, "
                             f"number or boolean")
        search = cls(kind, value, re.compile(""))
        search.pattern = re.compile(re.escape(search.text))
        return search

    def matches(self, current: Any) -> bool:
        """A number or boolean property equal to a number or boolean search."""
        if self.kind == "boolean":
            return isinstance(current, bool) and current == self.value
        return (self.kind == "number" and isinstance(current, int | float)
                and not isinstance(current, bool) and current == self.value)


_TEMPLATE = re.compile(r"\$(\$|&|`|'|\d\d?|<[^>]*>)")
"""JavaScript's replacement patterns: $$, $&, $`, $', $1..$99, $<name>."""


def js_replace(text: str, pattern: re.Pattern[str], replacement: str) -> str:
    """Replace every match as JavaScript's ``text.replace(/pattern/g, replacement)``."""
    if "$" not in replacement:
        return pattern.sub(lambda match: replacement, text)

    def expand(match: re.Match[str]) -> str:
        def token(found: re.Match[str]) -> str:
            part = found.group(1)
            if part == "$":
                return "$"
            if part == "&":
                return match.group(0)
            if part == "`":
                return match.string[:match.start()]
            if part == "'":
                return match.string[match.end():]
            if part.startswith("<"):
                if not pattern.groupindex:
                    return found.group(0)
                return match.groupdict().get(part[1:-1]) or ""
            if 1 <= int(part) <= pattern.groups:
                return match.group(int(part)) or ""
            if len(part) == 2 and 1 <= int(part[0]) <= pattern.groups:
                return (match.group(int(part[0])) or "") + part[1]
            return found.group(0)
        return _TEMPLATE.sub(token, replacement)
    return pattern.sub(expand, text)
