"""The JSON Schema dialect portless checks flow files and node configs with.

Draft 2020-12, except that ``pattern`` is read as the spec says, as an ECMA-262 regular
expression, where ``$`` is the end of the text. Python's ``re`` also lets ``$`` match
before a final newline, so ``^[a-z]+$`` took ``"valve\\n"`` as a valid id (it made a
state directory with a newline in its name and split log lines). Two keywords are added
for texts no regular expression can describe (``payload[msg.a[msg.b]]`` nests
brackets): ``x-property-path``, a message property path as Node-RED reads it,
``x-jsonata``, a JSONata expression, ``x-regex``, a regular expression, ``x-cron`` and
``x-time-zone`` (schedule.py), and ``x-python``/``x-python-script``, Python code; all
are in TEXT_KEYWORDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from .expressions import JSONATA_KEYWORD, expression_error
from .properties import PROPERTY_PATH_KEYWORD, property_path_error
from .python_code import PYTHON_KEYWORD, PYTHON_SCRIPT_KEYWORD, body_error, script_error
from .regex import REGEX_KEYWORD, regex_error
from .schedule import CRON_KEYWORD, TIME_ZONE_KEYWORD, cron_error, time_zone_error

TEXT_KEYWORDS: dict[str, Callable[[str], str | None]] = {
    PROPERTY_PATH_KEYWORD: property_path_error, JSONATA_KEYWORD: expression_error,
    REGEX_KEYWORD: regex_error, CRON_KEYWORD: cron_error, TIME_ZONE_KEYWORD: time_zone_error,
    PYTHON_KEYWORD: body_error, PYTHON_SCRIPT_KEYWORD: script_error}
"""Schema keywords (``"x-...": true``) whose string must pass a check: keyword -> the
function saying why a text fails it (None when it passes)."""


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


def _text_keyword(why_not: Callable[[str], str | None]) -> Callable[..., Iterator[
        ValidationError]]:
    def check(validator: Validator, wanted: Any, instance: Any,
              schema: dict[str, Any]) -> Iterator[ValidationError]:
        if wanted is True and validator.is_type(instance, "string"):
            why = why_not(instance)
            if why is not None:
                yield ValidationError(why)
    return check


SchemaValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern, **{
        keyword: _text_keyword(why_not) for keyword, why_not in TEXT_KEYWORDS.items()}})
"""Draft 2020-12 with ECMA-262 ``$``; compile one per schema and reuse it."""
