"""The canonical text of a flow file, written so that ``git diff`` reads well.

2-space indent, the flow's own fields (version, name, context) before its nodes,
a fixed key order inside each node (id, type, name, disabled, config, wires,
then x/y), config keys sorted, integer positions, short lists on one line, a final
newline. Numbers are written as JavaScript writes them (``JSON.stringify``): the
browser cannot tell 1.0 from 1, so an integral float is written ``1``, and a deploy
from the editor rewrites no number of a node it did not touch. The editor's own
writer (editor/static/canonical.js) produces the same bytes; a test runs both.

Each node's text is remembered for the next call, so rewriting a large flow after a
one-node change costs one node's formatting, not the whole file's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

NODE_KEY_ORDER = ("id", "type", "name", "disabled", "config", "wires", "x", "y")
_HEAD_KEYS = ("version", "name", "context")
_NODE_INDENT = "    "
_encode_string = json.encoder.encode_basestring
"""Strings exactly as ``json.dumps(..., ensure_ascii=False)`` writes them."""


def canonical_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The same flow with a fixed key order, integer positions and sorted config keys."""
    head, rest = _head_and_rest(document)
    nodes = [_canonical_node(node) if isinstance(node, dict) else node
             for node in document.get("nodes", [])]
    return {**head, "nodes": nodes, **rest}


def canonical_text(document: Mapping[str, Any]) -> str:
    """The canonical text of a flow: 2-space indent, short lists inline, final newline."""
    nodes = document.get("nodes", [])
    if not (isinstance(nodes, list) and nodes and all(isinstance(n, dict) for n in nodes)):
        return _dump(canonical_document(document), "") + "\n"
    head, rest = _head_and_rest(document)
    parts = [f"  {_encode_string(key)}: {_dump(value, '  ')}" for key, value in head.items()]
    parts.append('  "nodes": [\n' + ",\n".join(_node_texts(nodes)) + "\n  ]")
    parts += [f"  {_encode_string(key)}: {_dump(value, '  ')}" for key, value in rest.items()]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def number_text(value: float) -> str:
    """A float as JavaScript's ``JSON.stringify`` writes it: the shortest digits that read
    back as the same double, fixed-point from 1e-6 up to 1e21, no ``.0`` on integers."""
    if not math.isfinite(value):
        return json.dumps(value)  # NaN and Infinity are not JSON; a parse refuses them
    text = repr(value)
    if "e" not in text:  # Python writes fixed-point from 1e-4 to 1e16, as JavaScript does
        return "0" if value == 0 else text.removesuffix(".0")
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # value = 0.DIGITS x 10**point
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    power = point - 1
    mantissa = digits if len(digits) == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{sign}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


# --- the parts -------------------------------------------------------------------------
def _head_and_rest(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    head = {key: document[key] for key in _HEAD_KEYS if key in document}
    rest = {key: value for key, value in document.items()
            if key not in _HEAD_KEYS and key != "nodes"}
    return head, rest


def _canonical_node(node: Mapping[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for key in NODE_KEY_ORDER:
        if key not in node:
            continue
        value = node[key]
        if key == "config":
            value = _sorted_keys(value)
        elif key in ("x", "y") and isinstance(value, float) and math.isfinite(value):
            value = round(value)
        ordered[key] = value
    ordered.update({key: value for key, value in node.items() if key not in ordered})
    return ordered


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


_remembered: dict[str, str] = {}
"""Node text by the node's ``repr`` (exact for JSON values: 1, 1.0 and true differ),
kept for the nodes of the last document written, so a one-node change is cheap."""


def _node_texts(nodes: list[dict[str, Any]]) -> list[str]:
    global _remembered
    known, used = _remembered, dict[str, str]()
    texts = []
    for node in nodes:
        key = repr(node)
        text = known.get(key) or used.get(key)
        if text is None:
            text = _NODE_INDENT + _dump(_canonical_node(node), _NODE_INDENT)
        used[key] = text
        texts.append(text)
    _remembered = used
    return texts


def _is_flat(value: list[Any]) -> bool:
    """Lists of scalars (or of lists of scalars, like wires) stay on one line."""
    return all(not isinstance(item, dict | list)
               or (isinstance(item, list) and not any(isinstance(x, dict | list) for x in item))
               for item in value)


def _dump(value: Any, indent: str) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + "  "
        items = ",\n".join(f"{inner}{_encode_string(key)}: {_dump(item, inner)}"
                           for key, item in value.items())
        return "{\n" + items + "\n" + indent + "}"
    if isinstance(value, list):
        if _is_flat(value):
            return _inline(value)
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _dump(item, inner) for item in value) + "\n" + \
            indent + "]"
    return _scalar(value)


def _inline(value: list[Any]) -> str:
    return "[" + ", ".join(_inline(item) if isinstance(item, list) else _scalar(item)
                           for item in value) + "]"


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _encode_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return number_text(value)
    return json.dumps(value)  # not a JSON value: json's own TypeError names it
