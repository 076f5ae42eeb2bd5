"""Bench-only node type for the MQTT latency measurement: a paced source.

Registered with ``registry.add(cls, "bench")`` by bench.mqtt_scenarios, never installed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from portless.runtime import Node, make_message


class BenchPacedSource(Node):
    """Emits ``count`` messages at ``rate`` a second once ``begin`` is called; each
    payload is ``time.time()`` at the moment it is sent, for the receiver to subtract."""

    type = "bench-paced-source"
    category = "input"
    inputs = 0
    outputs = 1
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "count": {"type": "integer", "minimum": 1, "default": 100,
                      "description": "Messages to emit."},
            "rate": {"type": "number", "exclusiveMinimum": 0, "default": 100,
                     "description": "Messages a second, on a fixed schedule (no drift)."},
        },
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finished = asyncio.Event()
        self._go = asyncio.Event()

    async def start(self) -> None:
        self.spawn(self._emit(), "emit")

    def begin(self) -> None:
        self._go.set()

    async def _emit(self) -> None:
        await self._go.wait()
        loop = asyncio.get_running_loop()
        period = 1.0 / self.config["rate"]
        started = loop.time()
        for i in range(self.config["count"]):
            delay = started + i * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send(make_message(time.time(), "bench"))
        self.finished.set()
