"""The health gate: after a deploy, the flows must prove themselves for a while before
their bundle becomes the last known-good one (every node started, every connection
connected, few enough node errors)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from portless.nodes.link_state import LinkState
from portless.runtime import Engine
from portless.runtime.events import Event

from .device_config import HealthGate


async def watch_health(engine: Engine, gate: HealthGate) -> str | None:
    """Watch what the engine runs for ``gate.seconds``: None if it stayed healthy, else
    a sentence naming the nodes, connections or errors that failed it. Ends early on a
    node that failed to start or one error too many."""
    errors: Counter[str] = Counter()
    too_many = asyncio.Event()

    def count(event: Event) -> None:
        if event.kind == "error":
            errors[event.node_id] += 1
            if errors.total() > gate.max_errors:
                too_many.set()

    unsubscribe = engine.events.subscribe(count)
    try:
        if not engine.failed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(too_many.wait(), gate.seconds)
    finally:
        unsubscribe()
    if engine.failed:
        return "; ".join(f"node {node_id} failed to start: {reason}"
                         for node_id, reason in sorted(engine.failed.items()))
    if errors.total() > gate.max_errors:
        which = ", ".join(f"{node_id} {count}" for node_id, count in errors.most_common())
        return (f"{errors.total()} node errors within {gate.seconds:g} s, more than the "
                f"{gate.max_errors} allowed ({which})")
    down = [f"{node_id}: {state.text}" for node_id, state in _links(engine).items()
            if not state.connected] if gate.seconds else []  # 0 s: no time to connect
    if down:
        return (f"not connected after {gate.seconds:g} s: connection "
                + "; connection ".join(down))
    return None


def _links(engine: Engine) -> dict[str, LinkState]:
    """The link state of every running connection that has one (mqtt-broker,
    sparkplug-node, opcua-connection), by node id."""
    return {node.id: state for node in engine.nodes.values()
            if node.shared and isinstance(state := getattr(node, "state", None), LinkState)}
