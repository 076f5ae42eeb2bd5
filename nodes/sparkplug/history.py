"""Store and forward: metric values produced while there is no Sparkplug session (the
link or the primary host down), kept in a durable outbox (nodes/mqtt/outbox.py, its own
file, bounded like the connection's) and handed back, oldest first, after the next
birth, to be sent as data with ``is_historical`` and their original timestamps.

A value is kept by its metric's name, not its alias: aliases are given per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from portless.nodes.mqtt.outbox import Outbox
from portless.nodes.sparkplug.metric import Metric
from portless.nodes.sparkplug.payload import decode_payload, encode_payload

BATCH = 500
"""Values handed back per read: the replay yields to the event loop between batches."""


class History:
    """The values waiting to be sent as history, by device ("" for the node)."""

    def __init__(self, path: Path, config: dict[str, Any], name: str,
                 on_problem: Callable[[str], None]) -> None:
        self._outbox = Outbox(path, max_messages=config["outbox_messages"],
                              max_bytes=config["outbox_bytes"], policy=config["outbox_full"],
                              name=name, on_problem=on_problem,
                              flush_interval=config["outbox_flush_interval"])

    @property
    def count(self) -> int:
        return self._outbox.count

    @property
    def dropped(self) -> int:
        """Values dropped (oldest first, or the new one: the outbox's policy) when full."""
        return self._outbox.dropped + self._outbox.refused

    def keep(self, device: str, name: str, datatype: str, value: Any, timestamp: int
             ) -> bool:
        """Keep one value of a metric; False if refused (the outbox says why)."""
        metric = Metric(datatype, value, name=name, timestamp=timestamp)
        return self._outbox.add(device, encode_payload([metric], timestamp, None), 1, False,
                                {})

    def batch(self, size: int = BATCH) -> Iterator[tuple[str, Metric]]:
        """Up to ``size`` of the oldest values, each forgotten once taken."""
        outbox = self._outbox
        outbox.flush()  # what is pending is read too
        for record in outbox.read(0, size):
            if outbox.sending(record):
                (metric,) = decode_payload(record.payload).metrics
                yield record.topic, metric
                outbox.acked(record)
        outbox.connection_lost()  # nothing is in flight: the next read starts afresh

    async def close(self) -> None:
        await self._outbox.close()
