"""The graph of references to shared connections: which node uses which, in what
order nodes start and stop, what a change reaches, and cycles.

A node's refs are the ids of the shared connections its config names; a connection may
use another (a tunnel through a broker, say), so the chain can be of any depth. Every
function takes ``{node id: ids it refers to}``; refs to ids outside the mapping (nodes
already running, or missing ones the flow check reports) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

Refs = Mapping[str, Sequence[str]]


def start_order(refs: Refs) -> list[str]:
    """Every id after everything it refers to; otherwise in the given order.

    Raises ValueError on a cycle (a checked flow has none: see ``reference_cycles``).
    """
    order, cycles = _walk(refs)
    if cycles:
        raise ValueError(f"shared connections refer to each other: {' -> '.join(cycles[0])}")
    depth: dict[str, int] = {}
    for node_id in order:  # post-order: what a node uses comes before it
        depth[node_id] = 1 + max((depth[ref] for ref in refs[node_id] if ref in refs),
                                 default=-1)
    return sorted(refs, key=depth.__getitem__)  # stable: flow order within a depth


def stop_levels(refs: Refs) -> list[list[str]]:
    """Groups of ids to stop one group after another: a node before what it uses.

    Nodes in one group do not use each other, so a group may stop in parallel.
    """
    order = start_order(refs)
    height: dict[str, int] = {}
    for node_id in reversed(order):  # every user of a node comes later in start order
        for ref in refs[node_id]:
            if ref in refs:
                height[ref] = max(height.get(ref, 0), height.get(node_id, 0) + 1)
    levels: dict[int, list[str]] = {}
    for node_id in order:
        levels.setdefault(height.get(node_id, 0), []).append(node_id)
    return [levels[level] for level in sorted(levels)]


def dependents(refs: Refs, changed: Iterable[str]) -> set[str]:
    """Every id that uses one of ``changed``, directly or through other connections."""
    users: dict[str, list[str]] = {}
    for node_id, targets in refs.items():
        for target in targets:
            users.setdefault(target, []).append(node_id)
    found: set[str] = set()
    todo = list(changed)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in found:
                found.add(user)
                todo.append(user)
    return found


def reference_cycles(refs: Refs) -> list[list[str]]:
    """Each cycle of references found, as the ids along it (first id repeated last)."""
    return _walk(refs)[1]


def _walk(refs: Refs) -> tuple[list[str], list[list[str]]]:
    """Depth-first over the references, without recursion (a hostile flow may chain
    thousands): the ids in post-order, and the cycles met on the way."""
    order: list[str] = []
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in refs:
        if start in done:
            continue
        path = [start]
        on_path = {start}
        stack: list[Iterator[str]] = [iter(refs[start])]
        while stack:
            target = next((t for t in stack[-1] if t in refs), None)
            if target is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                order.append(finished)
            elif target in on_path:
                cycles.append([*path[path.index(target):], target])
            elif target not in done:
                stack.append(iter(refs[target]))
                path.append(target)
                on_path.add(target)
    return order, cycles
