"""The shape of an export: portless ids and file names for Node-RED's ids and labels,
and junctions flattened into direct wires."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from portless.runtime import Registry

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_NOT_ID = re.compile(r"[^A-Za-z0-9_.:-]+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@functools.cache
def installed() -> Registry:
    """The node types installed (built-ins and plugins), found once: what the converted
    files are checked against."""
    return Registry.discover()


def portless_ids(node_ids: Iterable[str]) -> dict[str, str]:
    """Node-RED id -> a portless id: the same where it is one (Node-RED's are hex with a
    dot), else its letters, digits and _ . : - (unique, never a path)."""
    taken: set[str] = set()
    mapped: dict[str, str] = {}
    wanted = list(node_ids)
    for node_id in wanted:
        if _ID.match(node_id):
            taken.add(node_id)
    for node_id in wanted:
        if _ID.match(node_id):
            mapped[node_id] = node_id
            continue
        base = _NOT_ID.sub("-", node_id).strip("-_.:") or "node"
        if not base[0].isalnum():
            base = "n" + base
        mapped[node_id] = unique(base[:80], taken)
    return mapped


def unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken yet (then taken)."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    taken.add(candidate)
    return candidate


def slug(text: str, fallback: str) -> str:
    """A file name stem from a label: lower-case letters, digits and '-', never a path
    (``../../etc`` -> ``etc``)."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:60].strip("-") or fallback


def flattened_wires(nodes: Mapping[str, Mapping[str, Any]], junctions: set[str]
                    ) -> dict[str, list[list[str]]]:
    """Each non-junction node's wires with every junction replaced by what it leads to
    (through chains of junctions; a loop of junctions leads nowhere more)."""
    def through(target: str, seen: frozenset[str]) -> list[str]:
        if target not in junctions:
            return [target]
        if target in seen:
            return []
        ports = nodes[target].get("wires") or [[]]
        return [end for each in ports[0] for end in through(each, seen | {target})]

    flat: dict[str, list[list[str]]] = {}
    for node_id, node in nodes.items():
        if node_id in junctions:
            continue
        flat[node_id] = [list(dict.fromkeys(end for target in port
                                            for end in through(target, frozenset())))
                         for port in node.get("wires") or []]
    return flat
