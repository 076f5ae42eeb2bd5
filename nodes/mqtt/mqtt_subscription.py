"""The broker node's subscriptions: one per mqtt-in node, kept across connections,
(re)sent on each, refusals reported, and each message routed to those it matches."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import gmqtt

MessageHandler = Callable[[str, bytes, int, dict[str, Any]], None]


class Subscription:
    """One mqtt-in node's interest in a topic filter."""

    def __init__(self, topic_filter: str, qos: int, handler: MessageHandler,
                 on_refused: Callable[[str], None]) -> None:
        self.topic_filter = topic_filter
        self.qos = qos
        self.handler = handler
        self.on_refused = on_refused
        # MQTT 5 subscription identifier (1 .. 268435455): the same for the same filter,
        # also across restarts, since a persistent session stamps queued messages with it.
        self.identifier = zlib.crc32(topic_filter.encode()) % 268_435_455 + 1
        pattern = topic_filter
        if pattern.startswith("$share/"):  # $share/group/filter: messages carry the filter's topics
            pattern = pattern.split("/", 2)[2]
        self._levels = pattern.split("/")

    def matches(self, topic: str) -> bool:
        return levels_match(self._levels, topic)


def levels_match(pattern: list[str], topic: str) -> bool:
    """MQTT topic matching of a filter split at ``/``: ``+`` is one level, a final ``#``
    any number (even none)."""
    levels = topic.split("/")
    if topic.startswith("$") and pattern[0] in ("+", "#"):
        return False  # wildcards do not match $SYS-style topics
    for index, part in enumerate(pattern):
        if part == "#":
            return True
        if index >= len(levels) or (part != "+" and part != levels[index]):
            return False
    return len(levels) == len(pattern)




class Subscriptions:
    """Every subscription of one broker node, across its connections."""

    def __init__(self, mqtt5: bool) -> None:
        self._mqtt5 = mqtt5
        self._all: list[Subscription] = []
        self._pending_subacks: dict[int, list[Subscription]] = {}

    def add(self, subscription: Subscription, client: gmqtt.Client | None) -> None:
        """Keep ``subscription``; send it now if connected (``client``)."""
        self._all.append(subscription)
        if client is not None:
            self._send(client, subscription)

    def remove(self, subscription: Subscription, client: gmqtt.Client | None) -> None:
        """Forget ``subscription``; with a ``client``, also tell the broker (when no
        other subscription uses the same filter)."""
        if subscription in self._all:
            self._all.remove(subscription)
            if client is not None and not any(
                    s.topic_filter == subscription.topic_filter for s in self._all):
                client.unsubscribe(subscription.topic_filter)

    def connected(self, client: gmqtt.Client) -> None:
        """Subscribe to everything on a new connection."""
        self._pending_subacks.clear()
        for subscription in self._all:
            self._send(client, subscription)

    def _send(self, client: gmqtt.Client, subscription: Subscription) -> None:
        # Over MQTT 5 a broker may send one copy of a message per matching subscription
        # (mosquitto 2.0 does); the identifier says which subscription each copy is for.
        identifier = ({"subscription_identifier": subscription.identifier}
                      if self._mqtt5 else {})
        mid = client.subscribe(subscription.topic_filter, qos=subscription.qos, **identifier)
        self._pending_subacks.setdefault(mid, []).append(subscription)

    def on_subscribe(self, client: gmqtt.Client, mid: int, codes: Any,
                     properties: Any) -> None:
        """gmqtt's SUBACK callback: tell each refused subscription why."""
        for subscription in self._pending_subacks.pop(mid, []):
            refused = [code for code in codes if code >= 0x80]
            if refused:
                reason = "not authorised" if refused[0] in (0x80, 0x87) \
                    else f"reason code {refused[0]:#x}"
                subscription.on_refused(f"subscription to {subscription.topic_filter} "
                                        f"refused by the broker: {reason}")

    def on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                   properties: dict[str, Any]) -> int:
        """gmqtt's message callback: hand the message to every subscription it is for."""
        identifiers = properties.get("subscription_identifier")
        for subscription in self._all:
            if (subscription.identifier in identifiers if identifiers
                    else subscription.matches(topic)):
                subscription.handler(topic, payload, qos, properties)
        return 0
