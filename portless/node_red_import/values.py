"""Node-RED's typed values (a value ``v`` with its type ``vt``, as its TypedInput writes
them) and durations with units, as portless's typed values and seconds."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from portless.runtime import JsonProblems, safe_json_loads

from .source import NotConvertible, Source, whole

KINDS = {"str": "string", "num": "number", "bool": "boolean", "json": "json",
         "date": "timestamp", "msg": "msg", "flow": "flow", "global": "global",
         "env": "env", "jsonata": "jsonata", "prev": "previous", "bin": "json",
         "string": "string"}
"""Node-RED's value types and the portless kinds they become ("string": some of its
examples write it, and Node-RED reads a type it does not know as the text)."""
_ENV_NAME = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$|^([A-Za-z_][A-Za-z0-9_]*)$")
_PLACEHOLDER = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
_STORE_PREFIX = re.compile(r"^#:\((?P<store>[^)]*)\)::")
SECONDS = {"milliseconds": 0.001, "ms": 0.001, "seconds": 1, "s": 1, "second": 1,
           "minutes": 60, "min": 60, "minute": 60, "hours": 3600, "hr": 3600, "hour": 3600,
           "days": 86400, "day": 86400}


def typed(source: Source, value: Any, value_type: str, allowed: Collection[str],
          field: str) -> dict[str, Any]:
    """``{"kind", "value"}`` for Node-RED's (value, type) pair; NotConvertible when
    portless's field takes no such kind (``allowed``)."""
    kind = KINDS.get(value_type or "str")
    if kind is None or kind not in allowed:
        raise NotConvertible(f"{field}: a value of type '{value_type}' has no equivalent "
                             f"here (it takes {', '.join(sorted(allowed))})")
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
    if kind == "string":
        return {"kind": kind, "value": text}
    if kind == "number":
        return {"kind": kind, "value": number_of(text, field)}
    if kind == "boolean":
        return {"kind": kind, "value": text.strip() == "true"}
    if kind == "json":
        if value_type == "bin":
            source.note(f"{field}: a Buffer value becomes the list of its byte values")
        return {"kind": kind, "value": json_of(text or "null", field)}
    if kind == "timestamp":
        if text == "object":
            source.note(f"{field}: a JavaScript Date object becomes milliseconds")
        return {"kind": kind, "value": "iso" if text == "iso" else "milliseconds"}
    if kind == "env":
        return {"kind": kind, "value": env_name(text, field)}
    if kind in ("flow", "global"):
        return {"kind": kind, "value": context_key(source, text, field)}
    return {"kind": kind, "value": text}


def number_of(text: Any, field: str) -> float | int | str:
    """A number, or a ``${NAME}`` placeholder (a subflow parameter, or the environment)
    left for portless to fill in, as Node-RED does."""
    if isinstance(text, str) and _PLACEHOLDER.match(text.strip()):
        return text.strip()
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise NotConvertible(f"{field}: {text!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise NotConvertible(f"{field}: {text!r} is not a finite number")
    return whole(number)


def json_of(text: str, field: str) -> Any:
    try:
        return safe_json_loads(text)
    except json.JSONDecodeError as exc:
        raise NotConvertible(f"{field}: not valid JSON ({exc.msg})") from None
    except JsonProblems as exc:
        raise NotConvertible(f"{field}: {exc}") from None


def env_name(text: str, field: str) -> str:
    found = _ENV_NAME.match(text.strip())
    if not found:
        raise NotConvertible(f"{field}: {text!r} is not an environment variable name")
    return found.group(1) or found.group(2)


def context_key(source: Source, text: str, field: str) -> str:
    """A flow or global key without Node-RED's store prefix (``#:(file)::``): a portless
    flow file picks one store for all its keys."""
    found = _STORE_PREFIX.match(text)
    if found:
        source.note(f"{field}: the context store '{found['store']}' named in the key is "
                    f"not used; the flow file's store is (\"context\" in the file)")
        return text[found.end():]
    return text


def seconds(source: Source, key: str, units_key: str, default: float,
            default_units: str) -> float | int:
    """A duration field with its unit field, in seconds."""
    units = source.text(units_key, default_units) or default_units
    if units not in SECONDS:
        raise NotConvertible(f"{units_key}: unknown unit {units!r}")
    return whole(round(source.number(key, default) * SECONDS[units], 9))
