"""Playing timed steps into a node under a FlowHarness, for the nodes that hold
messages (delay, trigger): waits on the loop's clock through events, never a sleep."""

from __future__ import annotations

import asyncio

from portless.runtime import Message
from portless.testing import FlowHarness

Step = Message | float
"""A message to send, or seconds to wait (on the loop's clock, through an event)."""


async def pause(seconds: float) -> None:
    """Wait on the loop's clock (an event set by a timer, as the node's own are)."""
    arrived = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, arrived.set)
    await asyncio.wait_for(arrived.wait(), seconds + 5)


async def play(h: FlowHarness, node_id: str, steps: list[Step], *, settle: bool = True
               ) -> None:
    """Send the steps to ``node_id`` and wait until the flow is idle and, with
    ``settle``, the node has no timer left."""
    for step in steps:
        if isinstance(step, dict):
            h.inject(node_id, step)
        else:
            await pause(step)
    node = h.engine.nodes[node_id]
    async with asyncio.timeout(10):
        await h.engine.wait_idle()
        while settle and node.pending:
            await h.changed()
        await h.engine.wait_idle()
