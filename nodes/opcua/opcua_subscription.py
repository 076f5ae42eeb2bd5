"""An opcua-in's subscription: built on every new session (so the server sends each
item's current value again), its data changes handed to the node in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, Subscription
from asyncua.ua.attribute_ids import AttributeIds

log = logging.getLogger("portless.opcua")

ITEMS_PER_CALL = 500
"""Monitored items created per request: servers limit it (MaxMonitoredItemsPerCall)."""
NOTIFICATIONS_PER_PUBLISH = 10000
DEADBAND_TYPES = {"absolute": ua.DeadbandType.Absolute, "percent": ua.DeadbandType.Percent}


class Sink(Protocol):
    """Where a reader's values go: the opcua-in node."""

    node_ids: list[str]

    def deliver(self, index: int, data: ua.DataValue) -> None: ...

    def refused(self, index: int, status: ua.StatusCode) -> None: ...

    def skipped(self, count: int, why: str) -> None: ...

    def problem(self, text: str) -> None: ...

    def downstream_saturated(self) -> bool: ...

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]: ...


class SubscriptionReader:
    """One subscription (publishing interval) with one monitored item per node id."""

    def __init__(self, sink: Sink, config: dict[str, Any]) -> None:
        self.sink = sink
        self.config = config
        self._subscription: Subscription | None = None
        self._consumer: asyncio.Task[None] | None = None

    async def attach(self, client: Client) -> None:
        config = self.config
        subscription = await client.create_subscription(
            float(config["publishing_interval"]), None,
            queue_maxsize=2 * NOTIFICATIONS_PER_PUBLISH, overflow=OverflowPolicy.DROP_OLDEST)
        self._subscription = subscription
        self._consumer = self.sink.spawn(self._consume(subscription), "subscription")
        requests = [self._request(index, node_id)
                    for index, node_id in enumerate(self.sink.node_ids)]
        for start in range(0, len(requests), ITEMS_PER_CALL):
            batch = requests[start:start + ITEMS_PER_CALL]
            results = await subscription.create_monitored_items(batch)
            for request, result in zip(batch, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    self.sink.refused(request.RequestedParameters.ClientHandle, result)

    def _request(self, index: int, node_id: str) -> ua.MonitoredItemCreateRequest:
        config = self.config
        parameters = ua.MonitoringParameters()
        parameters.ClientHandle = index
        sampling = config["sampling_interval"]
        parameters.SamplingInterval = -1.0 if sampling is None else float(sampling)
        parameters.QueueSize = config["queue_size"]
        parameters.DiscardOldest = True
        deadband = config["deadband"]
        if deadband:
            kind, value = next(iter(deadband.items()))
            parameters.Filter = ua.DataChangeFilter(
                Trigger=ua.DataChangeTrigger.StatusValue, DeadbandType=DEADBAND_TYPES[kind],
                DeadbandValue=float(value))
        item = ua.ReadValueId()
        item.NodeId = ua.NodeId.from_string(node_id)
        item.AttributeId = AttributeIds.Value
        request = ua.MonitoredItemCreateRequest()
        request.ItemToMonitor = item
        request.MonitoringMode = ua.MonitoringMode.Reporting
        request.RequestedParameters = parameters
        return request

    async def _consume(self, subscription: Subscription) -> None:
        async for event in subscription:
            if isinstance(event, DataChangeEvent):
                notification = event.data.monitored_item
                self.sink.deliver(notification.ClientHandle, notification.Value)

    def detach(self) -> None:
        """The session ended: stop taking its notifications (the server drops the
        subscription with the session)."""
        if self._consumer is not None:
            self._consumer.cancel()
        self._consumer = self._subscription = None

    async def release(self) -> None:
        """The node stops: delete the subscription on the server, if still connected."""
        subscription = self._subscription
        self.detach()
        if subscription is not None:
            try:
                async with asyncio.timeout(2.0):
                    await subscription.delete()
            except Exception as exc:  # gone with the link: the server drops it itself
                log.debug("deleting an OPC UA subscription: %r", exc)
