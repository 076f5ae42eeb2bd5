"""A JSON Schema compiled once into a fast yes/no check, with jsonschema for the errors.

jsonschema walks the schema afresh for every instance (a validator object per keyword
and level, some 70 µs for a small node config), which made checking a flow of
thousands of nodes take a second. ``CompiledSchema`` turns the schema into nested
Python closures once; they answer only "valid?". Only when the answer is no does
jsonschema look for the errors, so every message still comes from one place. A
schema that uses a keyword the compiler does not implement gets no compiled check
and is always checked by jsonschema: the fast path may be missing, never wrong.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Iterator, Mapping, Sequence, Sized
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from .schema_dialect import TEXT_KEYWORDS, SchemaValidator, ecma_regex

Check = Callable[[Any], bool]

UNSUPPORTED = frozenset(Draft202012Validator.VALIDATORS) - {
    "$ref", "additionalProperties", "allOf", "anyOf", "const", "enum",
    "exclusiveMaximum", "exclusiveMinimum", "format", "if", "items", "maxItems",
    "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties",
    "minimum", "not", "oneOf", "pattern", "patternProperties", "properties", "required",
    "type"}
"""Keywords jsonschema asserts that the compiler leaves to it (a schema using one has
no compiled check). Keywords jsonschema does not know are annotations to both."""
_BASE_CHANGING = frozenset({"$id", "$anchor", "$dynamicAnchor"})
"""Below the root these change what a ``$ref`` means; such a schema is not compiled."""


class Unsupported(Exception):
    """The schema uses something the compiler does not implement."""


class CompiledSchema:
    """A schema's jsonschema validator, with a compiled check answering valid ones fast."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.validator = SchemaValidator(schema)
        try:
            self.check: Check | None = _Compiler(schema).compile(schema)
        except Unsupported:
            self.check = None

    def is_valid(self, instance: Any) -> bool:
        if self.check is not None:
            return self.check(instance)
        return bool(self.validator.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """jsonschema's errors for ``instance``; none, at once, when the check passes."""
        if self.check is not None and self.check(instance):
            return iter(())
        return iter(self.validator.iter_errors(instance))


# --- what jsonschema's draft 2020-12 type checker and keywords do, as plain checks -----
def _is_number(value: Any) -> bool:
    kind = type(value)
    if kind is int or kind is float:  # what JSON gives; the ABC check below is slow
        return True
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: (isinstance(value, int) and not isinstance(value, bool))
    or (isinstance(value, float) and value.is_integer()),
    "null": lambda value: value is None,
    "number": _is_number,
    "object": lambda value: isinstance(value, dict),
    "string": lambda value: isinstance(value, str),
}


def json_equal(one: Any, two: Any) -> bool:
    """Equality as JSON Schema means it: true is not 1, 1.0 is 1, recursively."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(map(json_equal, one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return one.keys() == two.keys() and all(json_equal(one[k], two[k]) for k in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return bool(one == two)


def _always(value: Any) -> bool:
    return True


def _all(checks: Sequence[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)

    def check(value: Any) -> bool:
        for each in every:  # noqa: SIM110 -- a loop: all() of a generator costs more here
            if not each(value):
                return False
        return True
    return check


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any, top: bool = True) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return lambda value: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema {schema!r}")
        used = UNSUPPORTED.intersection(schema)
        if used or (not top and _BASE_CHANGING.intersection(schema)):
            raise Unsupported(", ".join(sorted(used)) or "a nested base URI")
        checks = [self._keyword(schema, key) for key in schema]
        return _all([check for check in checks if check is not None])

    def _keyword(self, schema: Mapping[str, Any], key: str) -> Check | None:
        value = schema[key]
        if key == "type":
            tests = [_TYPES[name] for name in ([value] if isinstance(value, str) else value)]
            if len(tests) == 1:
                return tests[0]
            return lambda item: any(test(item) for test in tests)
        if key == "enum":
            return _enum(value)
        if key == "const":
            return lambda item: json_equal(item, value)
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return _limit(key, value)
        if key in ("minLength", "maxLength"):
            return _size(str, key == "minLength", value)
        if key in ("minItems", "maxItems"):
            return _size(list, key == "minItems", value)
        if key in ("minProperties", "maxProperties"):
            return _size(dict, key == "minProperties", value)
        if key == "pattern":
            search = ecma_regex(value).search  # '$' is the end, as in ECMA-262
            return lambda item: not isinstance(item, str) or search(item) is not None
        if key in TEXT_KEYWORDS and value is True:
            why_not = TEXT_KEYWORDS[key]
            return lambda item: not isinstance(item, str) or why_not(item) is None
        if key == "required":
            return lambda item: not isinstance(item, dict) or all(k in item for k in value)
        if key == "properties":
            return self._properties(value)
        if key == "patternProperties":
            return self._pattern_properties(value)
        if key == "additionalProperties":
            return self._additional(schema, value)
        if key == "items":
            each = self.compile(value, top=False)
            return lambda item: not isinstance(item, list) or all(map(each, item))
        if key in ("allOf", "anyOf", "oneOf"):
            branches = [self.compile(branch, top=False) for branch in value]
            if key == "allOf":
                return _all(branches)
            if key == "anyOf":
                return lambda item: any(branch(item) for branch in branches)
            return lambda item: sum(1 for branch in branches if branch(item)) == 1
        if key == "not":
            negated = self.compile(value, top=False)
            return lambda item: not negated(item)
        if key == "if":
            return self._if(schema, value)
        if key == "$ref":
            return self._ref(value)
        return None  # an annotation (title, default, format, x-ref, ...) or then/else

    def _properties(self, properties: Mapping[str, Any]) -> Check:
        compiled = [(name, self.compile(sub, top=False)) for name, sub in properties.items()]

        def check(item: Any) -> bool:
            if not isinstance(item, dict):
                return True
            for name, sub in compiled:  # noqa: SIM110 -- as in _all, a plain loop is faster
                if name in item and not sub(item[name]):
                    return False
            return True
        return check

    def _pattern_properties(self, patterns: Mapping[str, Any]) -> Check:
        compiled = [(re.compile(p).search, self.compile(sub, top=False))
                    for p, sub in patterns.items()]
        return lambda item: not isinstance(item, dict) or all(
            sub(v) for search, sub in compiled for k, v in item.items() if search(k))

    def _additional(self, schema: Mapping[str, Any], additional: Any) -> Check:
        known = frozenset(schema.get("properties", {}))
        joined = "|".join(schema.get("patternProperties", {}))
        matches = re.compile(joined).search if joined else None

        def extras(item: dict[str, Any]) -> Iterator[str]:
            return (k for k in item if k not in known
                    and not (matches is not None and matches(k)))
        if additional is False:
            return lambda item: not isinstance(item, dict) or next(extras(item), None) is None
        sub = self.compile(additional, top=False)
        return lambda item: not isinstance(item, dict) or all(sub(item[k]) for k in extras(item))

    def _if(self, schema: Mapping[str, Any], condition: Any) -> Check:
        test = self.compile(condition, top=False)
        then = self.compile(schema.get("then", True), top=False)
        otherwise = self.compile(schema.get("else", True), top=False)
        return lambda item: then(item) if test(item) else otherwise(item)

    def _ref(self, ref: str) -> Check:
        if not ref.startswith("#"):
            raise Unsupported(f"$ref {ref!r}")
        if ref in self.refs:
            return self.refs[ref]
        resolved: list[Check] = []
        self.refs[ref] = lambda item: resolved[0](item)  # what a recursive use gets
        resolved.append(self.compile(_resolve(self.root, ref[1:]), top=False))
        self.refs[ref] = resolved[0]
        return resolved[0]


def _enum(values: list[Any]) -> Check:
    strings = frozenset(value for value in values if isinstance(value, str))

    def check(item: Any) -> bool:
        if type(item) is str:  # a string equals only a string (json_equal's first rule)
            return item in strings
        return any(json_equal(each, item) for each in values)
    return check


def _limit(key: str, bound: Any) -> Check:
    compare: Callable[[Any], bool] = {
        "minimum": lambda item: not item < bound,
        "maximum": lambda item: not item > bound,
        "exclusiveMinimum": lambda item: not item <= bound,
        "exclusiveMaximum": lambda item: not item >= bound,
    }[key]
    return lambda item: not _is_number(item) or compare(item)


def _size(kind: type[Sized], at_least: bool, bound: int) -> Check:
    if at_least:
        return lambda item: not isinstance(item, kind) or len(item) >= bound
    return lambda item: not isinstance(item, kind) or len(item) <= bound


def _resolve(root: Any, pointer: str) -> Any:
    """A JSON pointer (RFC 6901) into the root schema."""
    node = root
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise Unsupported(f"$ref #{pointer} does not resolve") from None
    return node
