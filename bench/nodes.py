"""Bench-only node types: a source that emits as fast as it can and a counting sink.

They are registered with ``registry.add(cls, "bench")`` by the pipeline benchmark and
never installed as a plugin, so they cannot show up in a real palette.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from portless.runtime import Engine, Message, Node, Registry, check_flow, make_message

from .core import BenchError


class TriggeredSource(Node):
    """A source that emits from a task once ``begin`` is called (the flow is started
    and the clock may run), and sets ``finished`` when done. Subclasses write _emit."""

    inputs = 0
    outputs = 1
    category = "input"
    first_sent = 0.0
    """perf_counter() just before the first message was made (set by _emit)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finished = asyncio.Event()
        self._go = asyncio.Event()

    async def start(self) -> None:
        self.spawn(self._run(), "emit")

    def begin(self) -> None:
        """Start emitting."""
        self._go.set()

    async def _run(self) -> None:
        await self._go.wait()
        await self._emit()
        self.finished.set()

    async def _emit(self) -> None:
        raise NotImplementedError


class BenchSource(TriggeredSource):
    """Like io-in, but unpaced: emits ``count`` messages from a task once ``begin`` is
    called, yielding to the event loop every ``yield_every`` messages."""

    type = "bench-source"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "count": {"type": "integer", "minimum": 1, "default": 1000,
                      "description": "Messages to emit."},
            "repeat": {"type": "integer", "minimum": 1, "default": 1,
                       "description": "Each value is emitted this many times in a row "
                                      "(payload = i // repeat), so a change filter "
                                      "passes one message in `repeat`."},
            "yield_every": {"type": "integer", "minimum": 1, "default": 1000,
                            "description": "Yield to the event loop after this many."},
        },
    }

    async def _emit(self) -> None:
        count: int = self.config["count"]
        repeat: int = self.config["repeat"]
        every: int = self.config["yield_every"]
        send = self.send
        make = make_message
        self.first_sent = time.perf_counter()
        for start in range(0, count, every):
            for i in range(start, min(start + every, count)):
                send(make(i // repeat, "bench"))
            await asyncio.sleep(0)


class BenchSink(Node):
    """Counts what arrives and notes the time the ``expected``-th message came."""

    type = "bench-sink"
    category = "output"
    outputs = 0
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "expected": {"type": "integer", "minimum": 0, "default": 0,
                         "description": "Set `finished` when this many have arrived."},
        },
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0
        self.last: Message | None = None
        self.last_received = 0.0
        """perf_counter() when the ``expected``-th message arrived."""
        self.finished = asyncio.Event()
        self._expected: int = self.config["expected"]

    def on_input(self, msg: Message) -> None:
        self.received += 1
        self.last = msg
        if self.received == self._expected:
            self.last_received = time.perf_counter()
            self.finished.set()


@contextlib.asynccontextmanager
async def running(registry: Registry, document: dict[str, Any], file: str
                  ) -> AsyncIterator[tuple[Engine, TriggeredSource, BenchSink]]:
    """A bench flow started by the real engine, with its nodes "source" and "sink";
    stopped again on leaving."""
    flow = check_flow(document, registry, file)
    with tempfile.TemporaryDirectory(prefix="portless-bench-") as state_dir:
        engine = Engine(registry, state_dir=state_dir)
        await engine.start(flow)
        try:
            source, sink = engine.nodes["source"], engine.nodes["sink"]
            if not (isinstance(source, TriggeredSource) and isinstance(sink, BenchSink)):
                raise BenchError("the bench source or sink failed to start")
            yield engine, source, sink
        finally:
            await engine.stop()
