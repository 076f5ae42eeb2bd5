"""Typed values: a config field that says where a value comes from, as Node-RED's
TypedInput does — a literal (string, number, boolean, JSON), the time, a message
property, flow or global context, an environment variable, or a JSONata expression.

In a flow file a typed value is ``{"kind": "msg", "value": "payload.level"}``. A node
type puts ``typed_value_schema(...)`` in its schema (checked at load like any field;
the ``x-typed-value`` keyword lists the kinds, for the editor's picker) and compiles the
field once at start, ``TypedValue(config["value"], self)``; then ``get(msg)`` per
message, and ``set(msg, value)`` where the field names a place to write (msg, flow or
global), as the change node does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .expressions import JSONATA_KEYWORD, Expression
from .message import MISSING, Message, clone_message
from .properties import PROPERTY_PATH_KEYWORD, PropertyPath

if TYPE_CHECKING:
    from .context import Context
    from .node import Node

Kind = Literal["string", "number", "boolean", "json", "timestamp", "msg", "flow",
               "global", "env", "jsonata"]
KINDS: tuple[Kind, ...] = ("string", "number", "boolean", "json", "timestamp", "msg",
                           "flow", "global", "env", "jsonata")
PLACES: tuple[Kind, ...] = ("msg", "flow", "global")
"""The kinds that name a place a value can be written to."""
TYPED_VALUE_KEYWORD = "x-typed-value"
"""Schema keyword on a typed value's object: the kinds it may take, in the picker's order."""

_VALUE_SCHEMAS: dict[Kind, dict[str, Any]] = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "json": {},
    "timestamp": {"enum": ["milliseconds", "iso"],
                  "description": "milliseconds since 1970 (Node-RED's timestamp), or an "
                                 "ISO 8601 text in UTC"},
    "msg": {"type": "string", PROPERTY_PATH_KEYWORD: True},
    "flow": {"type": "string", PROPERTY_PATH_KEYWORD: True},
    "global": {"type": "string", PROPERTY_PATH_KEYWORD: True},
    "env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
            "x-error": "must be the name of an environment variable, such as LINE_ID"},
    "jsonata": {"type": "string", JSONATA_KEYWORD: True},
}
_DEFAULT_VALUES: dict[Kind, Any] = {"string": "", "number": 0, "boolean": False,
                                    "json": None, "timestamp": "milliseconds",
                                    "msg": "payload", "flow": "", "global": "",
                                    "env": "", "jsonata": ""}


def typed_value_schema(title: str, description: str = "", *,
                       kinds: Sequence[Kind] = KINDS,
                       default: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The schema of a typed-value field taking ``kinds`` (``value`` is checked by kind:
    a number for ``number``, a property path for ``msg``, an expression for ``jsonata``)."""
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"typed value kinds are some of {', '.join(KINDS)}, not {unknown}")
    schema: dict[str, Any] = {
        "title": title, "type": "object", TYPED_VALUE_KEYWORD: list(kinds),
        "required": ["kind"], "additionalProperties": False,
        "properties": {"kind": {"title": "Kind", "enum": list(kinds)},
                       "value": {"title": "Value"}},
        "allOf": [{"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                   "then": {"properties": {"value": _VALUE_SCHEMAS[kind]}}}
                  for kind in kinds],
    }
    if description:
        schema["description"] = description
    if default is not None:
        schema["default"] = dict(default)
    return schema


class TypedValue:
    """A typed value compiled for one node: ``get(msg)`` per message (MISSING where a
    property or context key is absent), ``set(msg, value)`` for the places."""

    get: Callable[[Message], Any]

    def __init__(self, spec: Mapping[str, Any], node: Node,
                 env: Mapping[str, str] | None = None) -> None:
        self.kind: Kind = spec["kind"]
        self.value = spec.get("value", _DEFAULT_VALUES[self.kind])
        self._node = node
        self._path: PropertyPath | None = None
        self.name: str | None = None
        """A ``msg`` value that is one plain name (``payload``): that name, so a hot path
        may read and write ``msg[name]`` directly (PropertyPath.name)."""
        self.expression: Expression | None = None
        """The compiled expression of a ``jsonata`` value, to evaluate with bindings."""
        kind, value = self.kind, self.value
        if kind in ("string", "number", "boolean"):
            self.get = lambda msg: value
        elif kind == "json":
            self.get = (lambda msg: clone_message(value)) if isinstance(value, dict | list) \
                else (lambda msg: value)
        elif kind == "timestamp":
            self.get = _iso_now if value == "iso" else _milliseconds_now
        elif kind == "env":
            found = (os.environ if env is None else env).get(value, "")
            self.get = lambda msg: found
        elif kind == "jsonata":
            self.expression = Expression(
                value, env=env,
                flow_context=lambda key: _context_value(node.flow_context, key),
                global_context=lambda key: _context_value(node.global_context, key))
            self.get = self.expression.evaluate
        elif kind == "msg":
            self._path = PropertyPath(value)
            self.name = self._path.name
            self.get = self._path.get
        else:
            self._path = PropertyPath(value)
            self._nested = any(isinstance(part, PropertyPath) for part in self._path.parts)
            """A key like ``lookup[msg.topic]``: its references are read from the message."""
            self.get = self._context_get

    def set(self, msg: Message, value: Any) -> bool:
        """Write ``value`` where this typed value points (a message property, or a flow
        or global context key path). False where a message cannot hold it there; a
        context that cannot (a name on a list, a value the persistent store refuses)
        raises ValueError naming the node and key."""
        if self._path is None:
            raise TypeError(f"a typed value of kind {self.kind!r} names no place to write")
        if self.kind == "msg":
            return self._path.set(msg, value)
        key = self._key(msg)
        if key is None:
            raise ValueError(f"node {self._node.id}: the {self.kind} context key "
                             f"{self.value!r} names a message property the message lacks")
        self._context().set(key, value)
        return True

    def delete(self, msg: Message) -> bool:
        """Remove what this typed value points at; True if there was something."""
        if self._path is None:
            raise TypeError(f"a typed value of kind {self.kind!r} names no place to delete")
        if self.kind == "msg":
            return self._path.delete(msg)
        context, key = self._context(), self._key(msg)
        if key is None:
            return False
        had = context.get(key, MISSING) is not MISSING
        context.delete(key)
        return had

    def _context_get(self, msg: Message) -> Any:
        key = self._key(msg)
        return MISSING if key is None else self._context().get(key, MISSING)

    def _key(self, msg: Message) -> str | None:
        """The context key for this message (None: a property it names is missing)."""
        return self._path.resolved(msg) if self._nested and self._path else self.value

    def _context(self) -> Context:
        return self._node.flow_context if self.kind == "flow" else self._node.global_context

    def __repr__(self) -> str:
        return f"<TypedValue {self.kind} {self.value!r}>"


def _context_value(context: Context, path: str) -> Any:
    """``$flowContext(key)`` and ``$globalContext(key)``: a key path into a context
    (None where absent, which JSONata reads as nothing)."""
    try:
        return context.get(path)
    except (TypeError, ValueError):  # not a key path: nothing there
        return None


def _milliseconds_now(msg: Message) -> int:
    return int(time.time() * 1000)


def _iso_now(msg: Message) -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
        f".{int(now * 1000) % 1000:03d}Z"
