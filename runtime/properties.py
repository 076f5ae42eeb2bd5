"""Message properties by Node-RED's property paths: ``payload.values[2].v``,
``payload["a b"]``, ``payload[msg.topic]``, read, written and deleted as Node-RED's
``RED.util`` reads, writes and deletes them.

A path is parsed once (``PropertyPath(text)``, at a node's start) into a list of steps;
its ``get``/``set``/``delete`` are plain closures chosen for the path's shape, so the
common one-key path costs one dict lookup per message. What differs from Node-RED, on
purpose, is listed in docs/plugins.md ("Message properties").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeAlias

from .message import MISSING, Message
from .property_syntax import Key, Reference, parse

PROPERTY_PATH_KEYWORD = "x-property-path"
"""Schema keyword (``"x-property-path": true``) on a string field holding a property path:
the config check parses it, so a bad path is an error naming the node and field."""

_INDEX = re.compile(r"0|[1-9][0-9]*")  # a JavaScript array index written as a key

Part: TypeAlias = "Key | PropertyPath"
"""A parsed step: a key, or a nested reference (``msg.topic`` in ``a[msg.topic]``)."""
_Step = tuple[str, int | None]
"""A key as it is looked up: (the object key, the list index it means or None)."""


def get_property(msg: Message, path: str) -> Any:
    """The value at ``path`` in ``msg``, or MISSING where any step is absent."""
    return compiled_path(path).get(msg)


def set_property(msg: Message, path: str, value: Any) -> bool:
    """Write ``value`` at ``path``, creating missing objects and lists on the way as
    Node-RED does; False (and ``msg`` unchanged) where the path cannot hold a value."""
    return compiled_path(path).set(msg, value)


def delete_property(msg: Message, path: str) -> bool:
    """Remove the value at ``path`` (a list item is cut out); True if there was one."""
    return compiled_path(path).delete(msg)


def property_getter(path: str) -> Callable[[Message], Any]:
    """A fast reader of ``path``: call it per message; MISSING where a step is absent."""
    return PropertyPath(path).get


@lru_cache(maxsize=1024)
def compiled_path(path: str) -> PropertyPath:
    """``PropertyPath(path)``, parsed once per distinct text."""
    return PropertyPath(path)


@lru_cache(maxsize=1024)
def property_path_error(text: str) -> str | None:
    """Why ``text`` is not a property path, or None if it is one."""
    try:
        PropertyPath(text)
    except ValueError as exc:
        return str(exc)
    return None


class PropertyPath:
    """A parsed property path with per-message ``get``, ``set`` and ``delete``.

    ``key`` is the message key when the path is one plain name (``payload``), else None:
    a hot path may then use ``msg[key]`` directly. ``name`` is that key when it is no
    list index as well ("payload", not "0"), so ``msg[name] = value`` writes what
    ``set`` would (for any value but MISSING). A leading ``msg.`` is dropped, as
    ``RED.util.getMessageProperty`` does. Raises ValueError for a text that is not a path.
    """

    get: Callable[[Message], Any]
    set: Callable[[Message, Any], bool]
    delete: Callable[[Message], bool]
    key: str | None
    name: str | None

    def __init__(self, text: str) -> None:
        self.text = text
        stripped = text[4:] if text.startswith("msg.") and len(text) > 4 else text
        self.parts: tuple[Part, ...] = tuple(
            PropertyPath(part.text) if isinstance(part, Reference) else part
            for part in parse(stripped))
        keys = [part for part in self.parts if not isinstance(part, PropertyPath)]
        if len(keys) < len(self.parts):  # a nested reference: keys depend on the message
            self.key = self.name = None
            self.get, self.set, self.delete = self._dynamic()
            return
        fixed = [_step(key) for key in keys]
        first = fixed[0][0]
        self.key = first if len(fixed) == 1 else None
        self.name = self.key if fixed[0][1] is None else None
        if len(fixed) == 1:
            self.get = lambda msg: msg.get(first, MISSING)
        elif len(fixed) == 2:
            self.get = _two_step_getter(first, fixed[1])
        else:
            self.get = _deep_getter(fixed)
        if self.name is not None:  # msg[name]: 0.1 us, not 0.5
            self.set = lambda msg, value: _set_top(msg, first, value)
        else:
            self.set = lambda msg, value: _write(msg, keys, value)
        self.delete = lambda msg: _write(msg, keys, MISSING)

    def _dynamic(self) -> tuple[Callable[[Message], Any], Callable[[Message, Any], bool],
                                Callable[[Message], bool]]:
        parts = self.parts

        def get(msg: Message) -> Any:
            keys = _resolve(parts, msg)
            return MISSING if keys is None else _read(msg, [_step(key) for key in keys])

        def set_(msg: Message, value: Any) -> bool:
            keys = _resolve(parts, msg)
            return keys is not None and _write(msg, keys, value)

        def delete(msg: Message) -> bool:
            return set_(msg, MISSING)

        return get, set_, delete

    def resolved(self, msg: Message) -> str | None:
        """The path with each nested reference replaced by its value in ``msg``
        (``lookup[msg.topic]`` -> ``lookup["b"]``), as Node-RED reads a context key
        that names message properties; None where a reference is missing."""
        keys = _resolve(self.parts, msg)
        if keys is None or not isinstance(keys[0], str):
            return None
        return keys[0] + "".join(f"[{key}]" if isinstance(key, int) else
                                 f"[{json.dumps(key)}]" for key in keys[1:])

    def __repr__(self) -> str:
        return f"PropertyPath({self.text!r})"


# --- reading and writing ---------------------------------------------------------------
def _step(key: Key) -> _Step:
    """How a key is looked up: a number is an object's key "2" and a list's index 2; a
    name that is a canonical number ("2", not "02") is a list index too, as in JS."""
    if isinstance(key, int):
        return str(key), key
    return key, int(key) if _INDEX.fullmatch(key) else None


def _resolve(parts: tuple[Part, ...], msg: Message) -> list[Key] | None:
    """The keys of a path with nested references, for this message (None: unresolved)."""
    keys: list[Key] = []
    for part in parts:
        if isinstance(part, PropertyPath):
            key = _reference_key(part.get(msg))
            if key is None:
                return None
            keys.append(key)
        else:
            keys.append(part)
    return keys


def _reference_key(value: Any) -> Key | None:
    """A nested reference's value as a key, as JavaScript turns it into one; None for a
    missing value (Node-RED throws) and for what JSON cannot name (objects, lists)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "null" if value is None else None


def _read_other(value: Any, key: str, index: int | None) -> Any:
    """A step into anything but a dict: a list's, string's or bytes' item or length."""
    if isinstance(value, _SEQUENCES):
        if index is not None:
            return value[index] if index < len(value) else MISSING
        return len(value) if key == "length" else MISSING
    if isinstance(value, dict):
        return _dict_get(value, key, index)
    return MISSING  # a number, bool, None or MISSING has no own properties to read


_SEQUENCES = (list, str, bytes, bytearray, tuple)


def _dict_get(value: dict[Any, Any], key: str, index: int | None) -> Any:
    """A dict's key as text ("2"), or as a number where the dict has one (a msgpack map
    can): JSON's keys are text, msgpack's need not be."""
    found = value.get(key, MISSING)
    if found is MISSING and index is not None:
        return value.get(index, MISSING)
    return found


def _dict_key(value: dict[Any, Any], key: str, index: int | None) -> Any:
    """The key ``_dict_get`` reads, to write or delete: the number only where it is there."""
    if index is not None and key not in value and index in value:
        return index
    return key


def _two_step_getter(first: str, second: _Step) -> Callable[[Message], Any]:
    key, index = second

    def get(msg: Message) -> Any:
        value = msg.get(first, MISSING)
        if value.__class__ is dict and index is None:
            return value.get(key, MISSING)
        return _read_other(value, key, index)
    return get


def _deep_getter(steps: list[_Step]) -> Callable[[Message], Any]:
    """Three steps or more: plain subscripts, which take the common case (dicts by name,
    lists by number) at half the cost of checking each step; anything else raises and
    is read step by step."""
    subscripts = [key if index is None else index for key, index in steps]

    def get(msg: Message) -> Any:
        value: Any = msg
        try:
            for subscript in subscripts:
                value = value[subscript]
        except (KeyError, IndexError, TypeError):
            return _read(msg, steps)
        return value
    return get


def _read(msg: Message, steps: list[_Step]) -> Any:
    value: Any = msg
    for key, index in steps:
        kind = value.__class__
        if kind is dict:
            value = _dict_get(value, key, index)
        elif kind is list and index is not None:
            value = value[index] if index < len(value) else MISSING
        else:
            value = _read_other(value, key, index)
    return value


def _write(msg: Message, keys: list[Key], value: Any) -> bool:
    """Node-RED's setObjectProperty: set ``value``, creating missing containers on the
    way (a list where the next key is a number), or delete where ``value`` is MISSING,
    creating nothing. False: the path cannot hold a value here, and nothing changed."""
    deleting = value is MISSING
    container: Any = msg
    for position in range(len(keys) - 1):
        name, index = _step(keys[position])
        child = _own(container, name, index)
        if child is MISSING:
            if deleting:
                return False
            child = [] if isinstance(keys[position + 1], int) else {}
            if not _store(container, name, index, child):
                return False
        elif not isinstance(child, dict | list):
            return False  # a string, number, bool or null holds no properties
        container = child
    name, index = _step(keys[-1])
    if deleting:
        return _remove(container, name, index, isinstance(keys[-1], int))
    return _store(container, name, index, value)


def _set_top(msg: Message, name: str, value: Any) -> bool:
    """``_write`` of a value at a top-level name that is no list index."""
    if value is MISSING:
        return _write(msg, [name], value)
    msg[name] = value
    return True


def _own(container: Any, name: str, index: int | None) -> Any:
    if isinstance(container, dict):
        return _dict_get(container, name, index)
    if isinstance(container, list) and index is not None and index < len(container):
        return container[index]
    return MISSING


def _store(container: Any, name: str, index: int | None, value: Any) -> bool:
    if isinstance(container, dict):
        container[_dict_key(container, name, index)] = value
        return True
    if not isinstance(container, list) or index is None:
        return False  # a list's named properties (JS has them) do not survive as JSON
    if index >= len(container):  # what JavaScript leaves as holes, JSON shows as null
        container.extend([None] * (index - len(container) + 1))
    container[index] = value
    return True


def _remove(container: Any, name: str, index: int | None, numbered: bool) -> bool:
    """A dict's key goes; a list's item written as a number (``a[1]``) is cut out, one
    named by a quoted number (``a["1"]``) is left as a hole (null), as in Node-RED."""
    if isinstance(container, dict):
        return container.pop(_dict_key(container, name, index), MISSING) is not MISSING
    if not isinstance(container, list) or index is None or index >= len(container):
        return False
    if numbered:
        del container[index]
    else:
        container[index] = None
    return True
