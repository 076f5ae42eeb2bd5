"""Wires through subflow instances: after a check, each instance's entry is dropped and
the wires that met it are led to the inner nodes (and from them on), so the engine runs
a flat graph with no per-message cost for a subflow.

A wire to an instance goes to the inner nodes its input feeds (through nested instances
too); an inner node's port that feeds output N of an instance also sends down that
instance's port-N wires; an input passed straight through to output N does both. Wire
order is kept: the first wire still gets the original message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from .subflow import SubflowInstance

if TYPE_CHECKING:
    from .flow import NodeSpec

Wires = tuple[tuple[str, ...], ...]
_Output = tuple[str, int]
"""Output port N of an instance, where its wires start."""
_Target = str | _Output


def rewire(wires: Mapping[str, Wires], instances: Mapping[str, SubflowInstance]
           ) -> tuple[dict[str, Wires], dict[str, tuple[str, ...]]]:
    """The wires of each running node of a checked, expanded flow (``wires``: every
    node's and instance's wires as checked), led through the instances, which are left
    out; and for each instance, the running nodes a message into it reaches."""
    feeds: dict[tuple[str, int], list[_Target]] = {}
    """(node or instance, port) -> instance outputs that port also feeds."""
    passed: dict[str, list[_Target]] = {}
    """instance -> its outputs its input passes straight through to."""
    ports: dict[str, int] = {}
    """node -> how many ports it has at least (one feeding an output may have no wire)."""
    for instance in instances.values():
        for port, sources in enumerate(instance.outputs):
            for source in sources:
                if source.node is None:
                    passed.setdefault(instance.id, []).append((instance.id, port))
                    continue
                feeds.setdefault((source.node, source.port), []).append((instance.id, port))
                ports[source.node] = max(ports.get(source.node, 0), source.port + 1)

    def from_port(node_id: str, port: int, seen: frozenset[_Target]) -> list[str]:
        written = wires.get(node_id, ())
        targets: list[_Target] = [*(written[port] if port < len(written) else ()),
                                  *feeds.get((node_id, port), ())]
        return [found for target in targets for found in reach(target, seen)]

    def reach(target: _Target, seen: frozenset[_Target]) -> list[str]:
        if target in seen:  # an instance passing its input through, wired to itself
            return []
        seen |= {target}
        if isinstance(target, tuple):
            return from_port(*target, seen)
        instance = instances.get(target)
        if instance is None:
            return [target]
        return [found for inner in (*instance.input, *passed.get(target, ()))
                for found in reach(inner, seen)]

    led = {node_id: tuple(tuple(from_port(node_id, port, frozenset()))
                          for port in range(max(len(written), ports.get(node_id, 0))))
           for node_id, written in wires.items() if node_id not in instances}
    return led, {instance: tuple(reach(instance, frozenset())) for instance in instances}


def running_nodes(specs: Iterable[NodeSpec], instances: Mapping[str, SubflowInstance]
                  ) -> tuple[tuple[NodeSpec, ...], tuple[SubflowInstance, ...]]:
    """The nodes the engine runs: instances left out, wires led through them, and each
    inner node marked with its (innermost) instance and that instance's revision; and
    the instances, each with the nodes its input reaches."""
    specs = tuple(specs)
    if not instances:
        return specs, ()
    wires, reached = rewire({spec.id: spec.wires for spec in specs}, instances)
    running = []
    for spec in specs:
        if spec.id in instances:
            continue
        owner = instances.get(spec.id.rpartition("/")[0])
        running.append(replace(spec, wires=wires[spec.id], instance=owner.id if owner else "",
                               revision=owner.revision if owner else ""))
    return tuple(running), tuple(replace(instance, reaches=reached[instance.id])
                                 for instance in instances.values())
