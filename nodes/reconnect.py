"""The reconnect backoff of every connection node (mqtt-broker, sparkplug-node,
modbus-connection and its units, opcua-connection): doubling delays up to a cap, with
equal jitter, so a device that is down is not hammered and a fleet does not retry in step."""

from __future__ import annotations

import asyncio
import random


class Backoff:
    """The delay before the next retry: ``min_delay`` first, doubled after each retry up
    to ``max_delay``, back to ``min_delay`` after a good link."""

    def __init__(self, min_delay: float, max_delay: float) -> None:
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.delay = min_delay

    def reset(self) -> None:
        """The link was good: the next retry waits the first delay again."""
        self.delay = self.min_delay

    def link_lasted(self, seconds: float) -> None:
        """A link that lasted the longest delay or more was good (``reset``)."""
        if seconds >= self.max_delay:
            self.reset()

    def step(self) -> float:
        """The current delay, without jitter; the next one is twice it (at most the cap)."""
        delay = self.delay
        self.delay = min(delay * 2, self.max_delay)
        return delay

    def next_wait(self) -> float:
        """How long to wait now: half the delay and up to half again (equal jitter)."""
        delay = self.step()
        return delay / 2 + random.uniform(0, delay / 2)

    async def wait(self) -> None:
        """Sleep ``next_wait`` seconds before the next retry."""
        await asyncio.sleep(self.next_wait())
