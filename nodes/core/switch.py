"""switch: route a message by its value, one output per rule (Node-RED's switch)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from portless.nodes.core.switch_rules import (
    OPERATORS,
    SEQUENCE_OPERATORS,
    TYPES,
    VALUE_OPERATORS,
    Previous,
    Test,
    compile_rule,
)
from portless.nodes.core.switch_sequences import Sequences
from portless.runtime import (
    MISSING,
    ExpressionError,
    Message,
    Node,
    TypedValue,
    clone_message,
    typed_value_schema,
)

MAX_RULES = 100
_VALUE_KINDS: Final = ("string", "number", "boolean", "msg", "flow", "global", "env", "jsonata")


def _rule_value(title: str) -> dict[str, Any]:
    """A rule's value: a typed value, or the property's previous value (``previous``)."""
    schema = typed_value_schema(title, kinds=_VALUE_KINDS,
                                default={"kind": "string", "value": ""})
    schema["x-typed-value"] = [*_VALUE_KINDS, "previous"]
    schema["properties"]["kind"]["enum"] = [*_VALUE_KINDS, "previous"]
    return schema


def _operator_in(*operators: str) -> dict[str, Any]:
    """A rule whose operator is one of these: the condition a field is required under
    and, for the editor's rule list (``x-show-if``), shown under."""
    return {"properties": {"operator": {"enum": list(operators)}}}


_TAKES_VALUE: Final = _operator_in(*VALUE_OPERATORS, *SEQUENCE_OPERATORS)
_TAKES_VALUE2: Final = _operator_in("between", "index")
_TAKES_TYPE: Final = _operator_in("is-type")
_TAKES_EXPRESSION: Final = _operator_in("jsonata")

RULE_SCHEMA: dict[str, Any] = {
    "title": "Rule",
    "type": "object",
    "additionalProperties": False,
    "required": ["operator"],
    "properties": {
        "operator": {
            "title": "Operator", "enum": list(OPERATORS),
            "description": (
                "`==` `!=` `<` `<=` `>` `>=`: compare with `value`; `between`: between "
                "`value` and `value2` (either order, ends included); `contains`: the text "
                "contains `value`; `regex`: the text matches the regular expression "
                "`value`; `has-key`: an object with the key (a list or text with the "
                "index) `value`; `true`, `false`, `null` (null or absent), `not-null`; "
                "`is-type`: of `type`; `is-empty` / `not-empty`: a text, list, buffer or "
                "object without / with content; for a message of a sequence (`msg.parts`): "
                "`head`: among the first `value`, `tail`: among the last `value` (the "
                "sequence is held until complete), `index`: its index from `value` to "
                "`value2`; `jsonata`: `expression` yields true (`$I` and `$N` are the "
                "index in the sequence and its length); "
                "`otherwise`: no rule before it matched (counting from an earlier "
                "`otherwise` that did not match, as in Node-RED).")},
        "value": {**_rule_value("Value"), "x-show-if": _TAKES_VALUE},
        "value2": {**_rule_value("Second value"), "x-show-if": _TAKES_VALUE2},
        "ignore_case": {"title": "Ignore case", "type": "boolean", "default": False,
                        "x-show-if": _operator_in("regex"),
                        "description": "`regex`: match upper and lower case alike."},
        "type": {"title": "Type", "enum": list(TYPES), "default": "string",
                 "x-show-if": _TAKES_TYPE,
                 "description": ("`is-type`: `json` is a text JSON can read, `undefined` "
                                 "an absent property, `number` excludes NaN.")},
        "expression": {"title": "Expression", "type": "string", "x-jsonata": True,
                       "x-show-if": _TAKES_EXPRESSION,
                       "description": "`jsonata`: a JSONata expression on the message."},
    },
    "allOf": [
        {"if": _TAKES_VALUE, "then": {"required": ["value"]}},
        {"if": _TAKES_VALUE2, "then": {"required": ["value2"]}},
        {"if": _TAKES_TYPE, "then": {"required": ["type"]}},
        {"if": _TAKES_EXPRESSION, "then": {"required": ["expression"]}},
        {"if": {"properties": {"operator": {"const": "regex"},
                               "value": {"properties": {"kind": {"const": "string"}}}},
                "required": ["value"]},  # a literal pattern is checked at load
         "then": {"properties": {"value": {"properties": {
             "value": {"type": "string", "x-regex": True}}}}}},
    ],
}


class Switch(Node):
    type = "switch"
    category = "function"
    color = "#e2d96e"
    icon = "switch"
    outputs_rule = "one per rule"
    schema = {
        "title": "Switch",
        "description": (
            "Routes each message by a value (`property`: a message property, flow or "
            "global context, an environment variable or a JSONata expression) through "
            "its rules, in order; output N gets the message when rule N matches. With "
            "`check_all` every matching rule's output gets it (a copy after the first), "
            "otherwise only the first's. A rule's value may be a literal, another message "
            "property, context, env, JSONata, or `previous`: the property's value in the "
            "message before (null at first).\n\n"
            "Comparisons follow JavaScript's loose rules as Node-RED's do: `\"5\" == 5`, "
            "`true == 1`, `[5] == 5`; `<` compares two texts as texts (by code point; "
            "JavaScript by UTF-16 unit, which differs only beyond U+FFFF) and anything "
            "else as numbers (`\"10\" > 9`, `\"10\" < \"9\"`). Differences on purpose: two objects "
            "or lists are equal when their contents are (Node-RED: only the same object); "
            "an empty text and null are no numbers, so `\"\" == 0` and `null < 1` do not "
            "match (JavaScript reads both as 0), nor does the first message against "
            "`previous` (null then); an absent property contains and matches "
            "nothing (Node-RED tests the text \"undefined\"); `regex` is Python's "
            "regular expression syntax, searched anywhere in the text (as JavaScript's "
            "match); `has-key` of a list or text is a valid index only (not `length`); a "
            "failing JSONata expression or bad regular expression is an error with the "
            "message, for a catch node (Node-RED only warns for the property's). "
            "A sequence rule never matches a message of no sequence (Node-RED errors), "
            "and at most `max_held` messages wait for their sequences (Node-RED: no "
            "bound unless set)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": typed_value_schema(
                "Property", "The value the rules test.",
                kinds=("msg", "flow", "global", "env", "jsonata"),
                default={"kind": "msg", "value": "payload"}),
            "rules": {"title": "Rules", "type": "array", "items": RULE_SCHEMA,
                      "maxItems": MAX_RULES, "default": [], "x-port-per-item": True,
                      "description": "One output per rule, in this order."},
            "check_all": {"title": "Check all rules", "type": "boolean", "default": True,
                          "description": ("Send on every matching rule's output; false "
                                          "stops at the first match.")},
            "recreate_sequences": {
                "title": "Recreate message sequences", "type": "boolean", "default": False,
                "description": (
                    "For messages of a sequence (`msg.parts`, as from split): hold each "
                    "sequence until all of it arrived, route it, and give what each output "
                    "sends a `parts` of its own (a new id, index 0.., count), so a join "
                    "after an output sees a whole sequence.")},
            "max_held": {
                "title": "Most messages held", "type": "integer", "minimum": 1,
                "default": 10000,
                "description": (
                    "With `tail` rules or recreated sequences: the most messages held for "
                    "sequences to complete; past it all are dropped with an error (Node-RED's "
                    "nodeMessageBufferMaxLength), so an incomplete sequence cannot exhaust "
                    "memory.")},
        },
    }

    _tests: list[Test | None]

    @classmethod
    def output_count(cls, config: Mapping[str, Any]) -> int:
        return len(config["rules"])

    async def start(self) -> None:
        self._previous = Previous()
        value = TypedValue(self.config["property"], self)
        self._property, self._name = value.get, value.name
        # None stands for otherwise, which depends on the rules before it.
        self._tests = [None if rule["operator"] == "otherwise" else
                       compile_rule(rule, self, self._previous)
                       for rule in self.config["rules"]]
        self._check_all: bool = self.config["check_all"]
        recreate = self.config["recreate_sequences"]
        if recreate or any(rule["operator"] == "tail" for rule in self.config["rules"]):
            self._sequences = Sequences(self._route, self.send, self.error,
                                        len(self._tests), recreate, self.config["max_held"])
            self.on_input = self._held_input  # type: ignore[method-assign]
        elif len(self._tests) == 1 and self._tests[0] is not None:
            self._test = self._tests[0]
            self.on_input = self._one_rule_input  # type: ignore[method-assign]

    def on_input(self, msg: Message) -> None:
        matched = self._route(msg)
        if not matched:
            return
        if len(self._tests) == 1:
            self.send(msg)
            return
        out: list[Message | None] = [None] * len(self._tests)
        out[matched[0]] = msg
        for port in matched[1:]:
            out[port] = clone_message(msg)
        self.send(out)

    def _one_rule_input(self, msg: Message) -> None:
        """on_input of a switch of one rule (no otherwise, no sequences held): what
        ``_route`` does, for the one test and port."""
        name = self._name  # a plain message property: read here, without a call
        try:
            value = msg.get(name, MISSING) if name is not None else self._property(msg)
            hit = self._test(value, msg)
        except (ExpressionError, ValueError) as exc:
            self.error(str(exc), msg)
            return
        self._previous.value = value
        if hit:
            self.send(msg)

    def _held_input(self, msg: Message) -> None:
        """on_input of a switch that holds sequences (tail rules, recreate)."""
        if not self._sequences.hold(msg):
            Switch.on_input(self, msg)

    def _route(self, msg: Message) -> list[int]:
        """The ports ``msg`` goes to; an error (with the message) matches none."""
        try:
            value = self._property(msg)
            matched = self._match(value, msg)
        except (ExpressionError, ValueError) as exc:
            self.error(str(exc), msg)
            return []
        self._previous.value = value
        return matched

    def _match(self, value: Any, msg: Message) -> list[int]:
        """The ports of the rules that match, in order."""
        matched = []
        no_match_yet = True  # since the last otherwise
        for port, test in enumerate(self._tests):
            hit = no_match_yet if test is None else test(value, msg)
            if hit:
                matched.append(port)
                if not self._check_all:
                    break
                no_match_yet = False
            elif test is None:
                no_match_yet = True
        return matched
