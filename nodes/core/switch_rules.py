"""The switch node's rules: each compiled once, at start, into a test of the property's
value and the message (``Test``), with Node-RED's operators and JavaScript's loose
comparisons (nodes/js_values.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from operator import gt, lt
from typing import TYPE_CHECKING, Any

from portless.nodes.js_values import js_order, js_string, loose_equals, to_number
from portless.runtime import MISSING, Message, TypedValue, compile_regex

if TYPE_CHECKING:
    from portless.runtime import Node

Test = Callable[[Any, Message], bool]
"""A compiled rule: does the property's value (MISSING where absent) pass, for this msg."""
Getter = Callable[[Message], Any]

VALUE_OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "between", "contains", "regex",
                   "has-key")
"""The operators that compare with a value (``between`` with ``value2`` too)."""
SEQUENCE_OPERATORS = ("head", "tail", "index")
"""The operators on a message's place in its sequence (msg.parts), with a count or range."""
OPERATORS = (*VALUE_OPERATORS, "true", "false", "null", "not-null", "is-type",
             "is-empty", "not-empty", *SEQUENCE_OPERATORS, "jsonata", "otherwise")
TYPES = ("string", "number", "boolean", "array", "buffer", "object", "json", "null",
         "undefined")
_NUMBERS = (int, float)
_INDEX = re.compile(r"0|[1-9][0-9]*")  # an index as JavaScript writes it


class Previous:
    """The property's value of the message before (null before the first), which a
    rule's value of kind ``previous`` reads (Node-RED's "previous value")."""

    value: Any = None

    def get(self, msg: Message) -> Any:
        return self.value


def compile_rule(rule: Mapping[str, Any], node: Node, previous: Previous) -> Test:
    """The test of one rule (``otherwise`` is the switch's to judge: here always True)."""
    operator = rule["operator"]
    if operator in VALUE_OPERATORS:
        value = _getter(rule.get("value", {"kind": "string"}), node, previous)
        if operator == "between":
            value2 = _getter(rule.get("value2", {"kind": "string"}), node, previous)
            return lambda a, msg: _between(a, value(msg), value2(msg))
        if operator == "regex":
            return _regex_test(rule, value)
        compare = _COMPARISONS[operator]
        constant = getattr(value, "constant", MISSING)
        if constant.__class__ in _NUMBERS and operator in _NUMBER_ORDER:
            order = _NUMBER_ORDER[operator]  # a number against a number: compared here
            return lambda a, msg: (order(a, constant) if a.__class__ in _NUMBERS
                                   else compare(a, constant))
        if constant is not MISSING:
            return lambda a, msg: compare(a, constant)
        return lambda a, msg: compare(a, value(msg))
    if operator in SEQUENCE_OPERATORS:
        value = _getter(rule.get("value", {"kind": "number", "value": 0}), node, previous)
        value2 = _getter(rule.get("value2", {"kind": "number", "value": 0}), node, previous)
        return _sequence_test(operator, value, value2)
    if operator == "is-type":
        return _TYPE_TESTS[rule.get("type", "string")]
    if operator == "jsonata":
        return _expression_test(TypedValue({"kind": "jsonata",
                                            "value": rule.get("expression", "")}, node))
    return _PREDICATES[operator]


def sequence_place(msg: Message) -> tuple[float, float | None] | None:
    """A message's (index, count or None) in its sequence (Node-RED's msg.parts with an
    id and an index), or None for a message of no sequence."""
    parts = msg.get("parts")
    if not isinstance(parts, dict) or "id" not in parts:
        return None
    index, count = to_number(parts.get("index")), to_number(parts.get("count"))
    return None if index is None else (index, count)


def _getter(spec: Mapping[str, Any], node: Node, previous: Previous) -> Getter:
    """A rule value's reader; a literal's carries it as ``constant`` too, so the test
    can skip the call per message."""
    if spec["kind"] == "previous":
        return previous.get
    typed = TypedValue(spec, node)
    if spec["kind"] in ("string", "number", "boolean"):
        constant = typed.value

        def literal(msg: Message) -> Any:
            return constant
        literal.constant = constant  # type: ignore[attr-defined]
        return literal
    return typed.get


# --- the comparisons: a is the property's value, b the rule's --------------------------
def _eq(a: Any, b: Any) -> bool:
    if a.__class__ is b.__class__ and a.__class__ is not dict:  # the common case
        return bool(a == b)
    return loose_equals(None if a is MISSING else a, None if b is MISSING else b)


def _order(a: Any, b: Any) -> int | None:
    if a is MISSING or b is MISSING:
        return None
    if a.__class__ in _NUMBERS and b.__class__ in _NUMBERS:
        return (a > b) - (a < b)
    return js_order(a, b)


def _lt(a: Any, b: Any) -> bool:
    if a.__class__ in _NUMBERS and b.__class__ in _NUMBERS:
        return bool(a < b)
    order = _order(a, b)
    return order is not None and order < 0


def _lte(a: Any, b: Any) -> bool:
    order = _order(a, b)
    return order is not None and order <= 0


def _gt(a: Any, b: Any) -> bool:
    if a.__class__ in _NUMBERS and b.__class__ in _NUMBERS:
        return bool(a > b)
    order = _order(a, b)
    return order is not None and order > 0


def _gte(a: Any, b: Any) -> bool:
    order = _order(a, b)
    return order is not None and order >= 0


def _between(a: Any, low: Any, high: Any) -> bool:
    return (_gte(a, low) and _lte(a, high)) or (_lte(a, low) and _gte(a, high))


def _contains(a: Any, b: Any) -> bool:
    return a is not MISSING and b is not MISSING and js_string(b) in js_string(a)


def _has_key(a: Any, b: Any) -> bool:
    if b is None or b is MISSING or isinstance(b, dict | list):  # not a key in JavaScript
        return False
    key = js_string(b)
    if isinstance(a, dict):
        return key in a
    if isinstance(a, list | str | bytes):  # an index that is there
        return _INDEX.fullmatch(key) is not None and int(key) < len(a)
    return False


_NUMBER_ORDER: dict[str, Callable[[Any, Any], bool]] = {"<": lt, ">": gt}
"""What ``_lt`` and ``_gt`` do with two numbers, without the call."""
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _eq, "!=": lambda a, b: not _eq(a, b), "<": _lt, "<=": _lte, ">": _gt,
    ">=": _gte, "contains": _contains, "has-key": _has_key,
}


# --- regex ------------------------------------------------------------------------------
def _regex_test(rule: Mapping[str, Any], pattern: Getter) -> Test:
    prefix = "(?i)" if rule.get("ignore_case", False) else ""
    constant = getattr(pattern, "constant", MISSING)
    if constant is not MISSING:
        search = _compiled(prefix + js_string(constant)).search
        return lambda a, msg: a is not MISSING and search(js_string(a)) is not None

    def test(a: Any, msg: Message) -> bool:
        wanted = pattern(msg)
        return a is not MISSING and wanted is not MISSING and \
            _compiled(prefix + js_string(wanted)).search(js_string(a)) is not None
    return test


def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return compile_regex(pattern)  # cached: a pattern from the message compiles once
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


# --- the operators without a value -----------------------------------------------------
def _empty(a: Any) -> bool | None:
    """True or False for a text, list, buffer or object; None for anything else."""
    if isinstance(a, str | list | bytes | bytearray | dict):
        return len(a) == 0
    return None


_PREDICATES: dict[str, Test] = {
    "true": lambda a, msg: a is True,
    "false": lambda a, msg: a is False,
    "null": lambda a, msg: a is None or a is MISSING,
    "not-null": lambda a, msg: a is not None and a is not MISSING,
    "is-empty": lambda a, msg: _empty(a) is True,
    "not-empty": lambda a, msg: _empty(a) is False,
    "otherwise": lambda a, msg: True,
}


def _is_json(a: Any) -> bool:
    """Whether JSON.parse would read the value (its text, for what is not a text)."""
    if a is MISSING:
        return False
    try:
        json.loads(js_string(a), parse_constant=_no_constant)
    except ValueError:
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no JSON")


_TYPE_TESTS: dict[str, Test] = {
    "string": lambda a, msg: a.__class__ is str,
    "number": lambda a, msg: a.__class__ in _NUMBERS and a == a,  # NaN is no number
    "boolean": lambda a, msg: a.__class__ is bool,
    "array": lambda a, msg: isinstance(a, list | tuple),
    "buffer": lambda a, msg: isinstance(a, bytes | bytearray),
    "object": lambda a, msg: isinstance(a, dict),
    "json": lambda a, msg: _is_json(a),
    "null": lambda a, msg: a is None,
    "undefined": lambda a, msg: a is MISSING,
}


def _sequence_test(operator: str, value: Getter, value2: Getter) -> Test:
    """head: the first ``value`` messages; tail: the last ``value``; index: those from
    index ``value`` to ``value2``. A message of no sequence matches none of them."""
    def test(a: Any, msg: Message) -> bool:
        place, wanted = sequence_place(msg), to_number(value(msg))
        if place is None or wanted is None:
            return False
        index, count = place
        if operator == "head":
            return index < wanted
        if operator == "tail":
            return count is not None and count - wanted <= index
        last = to_number(value2(msg))
        return last is not None and wanted <= index <= last
    return test


def _expression_test(value: TypedValue) -> Test:
    """True where the expression yields true; $I and $N are the message's index in its
    sequence and the sequence's length (unbound for a message of no sequence)."""
    assert value.expression is not None
    evaluate = value.expression.evaluate

    def test(a: Any, msg: Message) -> bool:
        place = sequence_place(msg)
        if place is None:
            return evaluate(msg) is True
        index, count = place
        return evaluate(msg, {"I": _js_number(index), "N": _js_number(count)}) is True
    return test


def _js_number(number: float | None) -> Any:
    """A whole number as an int, as JSONata (and JSON) show it."""
    return int(number) if number is not None and number.is_integer() else number
