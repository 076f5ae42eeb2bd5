"""An opcua-in's poll: every interval, one Read of all its node ids. A read that takes
longer than the interval skips the polls it overlapped (counted, in the status)
rather than queuing them; so does one due while the flow downstream is saturated."""

from __future__ import annotations

import asyncio
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError

from portless.nodes.opcua.opcua_reasons import describe_error
from portless.nodes.opcua.opcua_subscription import ITEMS_PER_CALL, Sink


class PollReader:
    """Reads the sink's node ids every ``poll_interval`` ms while a session is up."""

    def __init__(self, sink: Sink, config: dict[str, Any]) -> None:
        self.sink = sink
        self.interval = config["poll_interval"] / 1000
        self._task: asyncio.Task[None] | None = None

    async def attach(self, client: Client) -> None:
        node_ids = [ua.NodeId.from_string(node_id) for node_id in self.sink.node_ids]
        self._task = self.sink.spawn(self._poll(client, node_ids), "poll")

    async def _poll(self, client: Client, node_ids: list[ua.NodeId]) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval
        due = loop.time()
        while True:
            if self.sink.downstream_saturated():
                self.sink.skipped(1, "the flow downstream is saturated")
            else:
                try:
                    await self._read(client, node_ids)
                except (UaError, OSError, TimeoutError) as exc:
                    self.sink.problem(f"read failed: {describe_error(exc)}")
            due += interval
            late = loop.time() - due
            if late > 0:  # the read overran one or more later polls: skip them
                missed = int(late // interval) + 1
                due += missed * interval
                self.sink.skipped(missed, f"a read took longer than {interval * 1000:g} ms")
            await asyncio.sleep(due - loop.time())

    async def _read(self, client: Client, node_ids: list[ua.NodeId]) -> None:
        for start in range(0, len(node_ids), ITEMS_PER_CALL):
            batch = node_ids[start:start + ITEMS_PER_CALL]
            parameters = ua.ReadParameters()
            parameters.TimestampsToReturn = ua.TimestampsToReturn.Both
            parameters.NodesToRead = [ua.ReadValueId(NodeId=node_id,
                                                     AttributeId=AttributeIds.Value)
                                      for node_id in batch]
            for offset, data in enumerate(await client.uaclient.read(parameters)):
                self.sink.deliver(start + offset, data)

    def detach(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def release(self) -> None:
        self.detach()
