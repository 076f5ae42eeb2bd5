"""The JSON Schema dialect portless checks flow files and node configs with.

Draft 2020-12, except that ``pattern`` is read as the spec says, as an ECMA-262 regular
expression, where ``$`` is the end of the text. Python's ``re`` also lets ``$`` match
before a final newline, so ``^[a-z]+$`` took ``"valve\\n"`` as a valid id (it made a
state directory with a newline in its name and split log lines). One keyword is added:
``x-property-path``, a message property path as Node-RED reads it, which no regular
expression can describe (``payload[msg.a[msg.b]]`` nests brackets).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from .properties import PROPERTY_PATH_KEYWORD, property_path_error


@lru_cache(maxsize=1024)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """Compile a schema pattern with ECMA-262's meaning of ``$`` (the end, only)."""
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Validator, pattern: str, instance: Any,
             schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _property_path(validator: Validator, wanted: Any, instance: Any,
                   schema: dict[str, Any]) -> Iterator[ValidationError]:
    if wanted is True and validator.is_type(instance, "string"):
        why = property_path_error(instance)
        if why is not None:
            yield ValidationError(why)


SchemaValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern, PROPERTY_PATH_KEYWORD: _property_path})
"""Draft 2020-12 with ECMA-262 ``$``; compile one per schema and reuse it."""
