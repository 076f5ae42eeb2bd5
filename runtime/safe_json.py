"""JSON from people and other programs, read so that no value can wedge the runtime.

Python's json accepts what would hang or crash later: NaN and Infinity (an io-in interval
of NaN emits in a tight loop), 1e309 (infinity), integers of thousands of digits (a
ValueError, or a traceback in every tool), duplicate keys (silently the last wins),
nesting deep enough to exhaust the recursion of every later walk, and lone UTF-16
surrogates (text that cannot be written or sent). ``loads`` refuses all of them, and
``problems`` finds them in a document parsed elsewhere (a request body), each with the
path of the value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

MAX_NESTING = 32
"""Deepest nesting of objects and lists accepted (a flow needs a handful of levels)."""
SAFE_INTEGER = 2**53 - 1
"""Largest integer accepted: JavaScript (the editor) holds integers exactly up to here."""
_HUGE = SAFE_INTEGER + 1
"""Stands in for an integer literal too long to convert; it fails the range check."""
_LONGEST_INTEGER_LITERAL = 20
_SURROGATE = re.compile("[\ud800-\udfff]")

Path = tuple[str | int, ...]


class JsonProblems(ValueError):
    """Values a document must not hold: (path, sentence) for each, or a syntax error."""

    def __init__(self, found: list[tuple[Path, str]], document: Any = None) -> None:
        self.found = found
        self.document = document
        """What was parsed (None if nothing was), to name the place of each problem."""
        super().__init__("; ".join(sentence for _, sentence in found))


class _Duplicated(dict[str, Any]):
    """An object that had a key twice; it never leaves ``loads``, which refuses it."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    marked = _Duplicated(value)
    marked.duplicates = []
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def _integer(text: str) -> int:
    # Python refuses to convert more than 4,300 digits (a ValueError mid-parse); a
    # literal this long is out of range anyway, so it need not be converted at all.
    return int(text) if len(text) <= _LONGEST_INTEGER_LITERAL else _HUGE


class _DuplicateKey(Exception):
    """Raised by ``parse``'s object hook: a duplicate leaves no trace in the parsed value."""


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKey
    return value


def parse(text: str | bytes) -> Any:
    """Parse JSON for a caller that runs ``problems`` on the result later (check_flow
    does): as fast as json.loads, and a problem that leaves no trace in the parsed value
    (a duplicate key, an integer too long to convert, nesting beyond the parser) raises
    JsonProblems as ``loads`` does."""
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicates,
                          parse_constant=float)
    except json.JSONDecodeError:
        raise
    except (_DuplicateKey, ValueError, RecursionError):
        return loads(text)  # raises JsonProblems naming every problem and its place


def loads(text: str | bytes) -> Any:
    """Parse JSON; raises json.JSONDecodeError for bad syntax and JsonProblems for a
    document that parses but holds a value listed in this module's docstring."""
    try:
        try:
            document = json.loads(text, object_pairs_hook=_object, parse_constant=float)
        except json.JSONDecodeError:
            raise
        except ValueError:  # an integer too long to convert; find it (rare, so slower)
            document = json.loads(text, object_pairs_hook=_object, parse_constant=float,
                                  parse_int=_integer)
    except RecursionError:  # the C parser's own limit, far beyond MAX_NESTING
        raise JsonProblems([((), f"nested deeper than {MAX_NESTING} levels")]) from None
    found = list(problems(document))
    if found:
        raise JsonProblems(found, document)
    return document


def problems(document: Any) -> Iterator[tuple[Path, str]]:
    """(path, sentence) for every value in a parsed document that ``loads`` refuses.

    Iterative, so a document nested thousands deep is measured, not recursed into; only
    objects and lists carry a path (the walk runs on every load and check)."""
    if not isinstance(document, dict | list):  # a document may be one lone value
        sentence = _other_problem(document)
        if sentence:
            yield (), sentence
        return
    stack: list[tuple[Any, Path]] = [(document, ())]
    while stack:
        container, path = stack.pop()
        if len(path) >= MAX_NESTING:
            yield path, (f"nested deeper than {MAX_NESTING} levels; a flow needs a few, "
                         f"so this is a mistake or an attack")
            continue
        is_object = isinstance(container, dict)
        if is_object:
            for key in getattr(container, "duplicates", ()):
                yield (*path, key), ("this key appears more than once in its object; keep "
                                     "one (JSON readers disagree on which one wins)")
        nested = []
        for key, value in container.items() if is_object else enumerate(container):
            kind = type(value)
            if kind is str:
                if not value.isascii() and _SURROGATE.search(value):
                    yield (*path, key), _SURROGATE_SENTENCE
            elif kind is float:
                if not math.isfinite(value):
                    yield (*path, key), _NOT_FINITE
            elif kind is int:
                if not -SAFE_INTEGER <= value <= SAFE_INTEGER:
                    yield (*path, key), _OUT_OF_RANGE
            elif kind is bool or value is None:
                pass
            elif isinstance(value, dict | list):
                nested.append((value, (*path, key)))
            else:  # a subclass of str, int or float: from code, not from JSON
                sentence = _other_problem(value)
                if sentence:
                    yield (*path, key), sentence
            if is_object and isinstance(key, str) and not key.isascii() \
                    and _SURROGATE.search(key):
                yield (*path, key), _SURROGATE_SENTENCE
        stack.extend(reversed(nested))  # report in document order


_SURROGATE_SENTENCE = ("holds a lone UTF-16 surrogate (an escape such as \\ud800 without "
                       "its pair), which is not text and cannot be written or sent")


_NOT_FINITE = ("must be a finite number: NaN, Infinity and numbers beyond 1.8e308 "
               "(such as 1e309) are not allowed")
_OUT_OF_RANGE = (f"integer out of range: it must be between -{SAFE_INTEGER} and "
                 f"{SAFE_INTEGER} (2^53 - 1, what the editor's JavaScript holds exactly)")


def _other_problem(value: Any) -> str | None:
    if isinstance(value, str) and _SURROGATE.search(value):
        return _SURROGATE_SENTENCE
    if isinstance(value, float) and not math.isfinite(value):
        return _NOT_FINITE
    if isinstance(value, int) and not -SAFE_INTEGER <= value <= SAFE_INTEGER:
        return _OUT_OF_RANGE
    return None
