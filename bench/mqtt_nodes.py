"""Bench-only node type for the MQTT latency measurement: a paced source.

Registered with ``registry.add(cls, "bench")`` by bench.mqtt_scenarios, never installed.
"""

from __future__ import annotations

import asyncio
import time

from portless.runtime import make_message

from .nodes import TriggeredSource

COUNTER_BASE = 10_000_000_000
"""Counter payloads start here, so each is 11 digits long."""


class BenchPacedSource(TriggeredSource):
    """Emits ``count`` messages at ``rate`` a second once ``begin`` is called; each
    payload is ``time.time()`` at the moment it is sent, for the receiver to subtract
    (or an 11-digit counter, for a fixed message size)."""

    type = "bench-paced-source"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "count": {"type": "integer", "minimum": 1, "default": 100,
                      "description": "Messages to emit."},
            "rate": {"type": "number", "exclusiveMinimum": 0, "default": 100,
                     "description": "Messages a second, on a fixed schedule (no drift)."},
            "counter_payload": {"type": "boolean", "default": False,
                                "description": "true: the payload is 10,000,000,000 + "
                                               "the message's number (11 bytes of JSON) "
                                               "instead of the send time."},
        },
    }

    async def _emit(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.config["rate"]
        counter = self.config["counter_payload"]
        started = loop.time()
        for i in range(self.config["count"]):
            delay = started + i * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send(make_message(COUNTER_BASE + i if counter else time.time(), "bench"))
