"""The engineer's side of the management broker: one MQTT 5 connection that publishes
retained desired state (each publish waits for its PUBACK and its reason code) and reads
the devices' retained reported state.

MQTT marks no end of the retained messages a subscription brings. The client subscribes
to a topic of its own (``<prefix>/.engineer/<client id>``, a level no device id can
be) and, after each subscription's SUBACK, publishes a marker there at QoS 1: the broker
queues it for this client behind the retained messages it queued first, so when the
marker arrives every retained message has (mosquitto keeps one queue per client).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50
from gmqtt.mqtt.handler import MQTTConnectError
from gmqtt.storage import PersistentStorage

from portless.nodes.mqtt.mqtt_reasons import describe_failure
from portless.nodes.mqtt.mqtt_subscription import levels_match

from .engineer_config import EngineerConfig

WINDOW = 16
"""QoS 1 publishes, SUBSCRIBEs and UNSUBSCRIBEs unanswered at once (gmqtt's packet ids
run out one short of mosquitto's receive maximum of 20)."""
_REASONS = {0x80: "unspecified error", 0x83: "implementation specific error",
            0x87: "not authorised", 0x90: "topic name invalid", 0x97: "quota exceeded",
            0x99: "payload format invalid"}


class BrokerError(RuntimeError):
    """The broker cannot be reached, refused a publish, or did not answer in time."""


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retained: bool


class _Acks(PersistentStorage):  # type: ignore[misc]
    """gmqtt's in-flight store, used to learn each publish's packet id."""

    def __init__(self) -> None:
        super().__init__()
        self.last_mid = 0

    def push_message(self, mid: int, raw_package: bytes) -> None:
        self.last_mid = mid
        super().push_message(mid, raw_package)


class Engineer:
    """An async context manager: connected to the management broker inside it."""

    def __init__(self, config: EngineerConfig, timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout
        self.client_id = f"portless-fleet-engineer-{secrets.token_hex(4)}"
        self._marker = f"{config.topic_prefix}/.engineer/{self.client_id}"
        self._acks = _Acks()
        self._client = gmqtt.Client(self.client_id, persistent_storage=self._acks,
                                    session_expiry_interval=0)
        self._client.set_config({"reconnect_retries": 0})
        if config.username:
            self._client.set_auth_credentials(config.username, config.password)
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._subacks: dict[int, asyncio.Future[tuple[int, ...]]] = {}
        self._unsubacks: dict[int, asyncio.Future[tuple[int, ...]]] = {}
        self._window = asyncio.Semaphore(WINDOW)
        self._exact: dict[str, list[Callable[[Message], None]]] = {}
        self._wildcard: list[tuple[list[str], Callable[[Message], None]]] = []
        """Who takes what arrives: by topic, or by a filter with wildcards."""
        self._markers: dict[bytes, asyncio.Future[None]] = {}
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_unsubscribe = self._on_unsubscribe
        handler = self._client._package_handler
        original = handler._handle_puback_packet

        def on_puback(cmd: int, packet: bytes) -> None:  # gmqtt drops the reason code
            mid, reason = int.from_bytes(packet[:2], "big"), packet[2] if len(packet) > 2 \
                else 0
            waiter = self._waiting.pop(mid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reason)
            original(cmd, packet)
        handler._handle_puback_packet = on_puback

    async def __aenter__(self) -> Engineer:
        try:
            async with asyncio.timeout(self.timeout):
                await self._client.connect(self.config.host, self.config.port,
                                           ssl=self.config.ssl_context() or False,
                                           version=MQTTv50, keepalive=30)
                await self._subscribe(self._marker)
        except (OSError, TimeoutError, MQTTConnectError) as exc:
            why = describe_failure(exc, self.config.host, self.config.port, self.timeout)
            raise BrokerError(f"cannot reach the management broker {self.config.host} "
                              f"port {self.config.port}: {why}") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.disconnect()

    async def publish(self, topic: str, payload: bytes, retain: bool = True) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK; BrokerError if it refuses."""
        async with self._window:
            waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._client.publish(topic, payload, qos=1, retain=retain)
            self._waiting[self._acks.last_mid] = waiter
            try:
                reason = await asyncio.wait_for(waiter, self.timeout)
            except TimeoutError:
                raise BrokerError(f"no PUBACK for {topic} within {self.timeout} s") from None
        if reason >= 0x80:
            raise BrokerError(f"the broker refused the publish to {topic}: "
                              f"{_REASONS.get(reason, 'refused')} (reason code "
                              f"0x{reason:02x})")

    async def retained(self, topic_filter: str, stay: bool = True) -> dict[str, bytes]:
        """Every retained message under ``topic_filter`` now, by topic (empty ones, which
        clear a retained message, left out); ``stay``: subscribed after, for ``follow``."""
        found: dict[str, bytes] = {}
        marker = secrets.token_hex(8).encode()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._markers[marker] = done

        def take(message: Message) -> None:
            if message.retained:
                found[message.topic] = message.payload
        try:
            with self._listening(topic_filter, take):
                await self._subscribe(topic_filter)
                try:
                    await self.publish(self._marker, marker, retain=False)
                except BrokerError as exc:
                    raise BrokerError(f"{exc}; the engineer's user needs readwrite on "
                                      f"{self.config.topic_prefix}/# (docs/fleet-acl.conf)"
                                      ) from None
                await asyncio.wait_for(done, self.timeout)
        except TimeoutError:
            raise BrokerError(f"the retained messages under {topic_filter} did not arrive "
                              f"within {self.timeout} s") from None
        finally:
            self._markers.pop(marker, None)
        if not stay:
            await self._unsubscribe(topic_filter)
        return {topic: payload for topic, payload in found.items() if payload}

    @contextlib.contextmanager
    def follow(self, topic_filter: str) -> Iterator[asyncio.Queue[Message]]:
        """A queue of what arrives under ``topic_filter`` while inside (subscribe with
        ``retained`` inside it, and nothing falls between the two)."""
        queue: asyncio.Queue[Message] = asyncio.Queue()
        with self._listening(topic_filter, queue.put_nowait):
            yield queue

    @contextlib.contextmanager
    def _listening(self, topic_filter: str, take: Callable[[Message], None]
                   ) -> Iterator[None]:
        """``take`` gets each message under ``topic_filter`` while inside: looked up by
        topic when the filter has no wildcard (200 devices read at once stay cheap)."""
        if "+" in topic_filter or "#" in topic_filter:
            entry = (topic_filter.split("/"), take)
            self._wildcard.append(entry)
            try:
                yield
            finally:
                self._wildcard.remove(entry)
            return
        self._exact.setdefault(topic_filter, []).append(take)
        try:
            yield
        finally:
            takers = self._exact[topic_filter]
            takers.remove(take)
            if not takers:
                del self._exact[topic_filter]

    async def _subscribe(self, topic_filter: str) -> None:
        granted = await self._acknowledged(self._subacks,
                                           lambda: self._client.subscribe(topic_filter, qos=1))
        if granted[0] >= 0x80:
            raise BrokerError(f"the broker refused the subscription to {topic_filter} "
                              f"(reason code 0x{granted[0]:02x})")

    async def _unsubscribe(self, topic_filter: str) -> None:
        await self._acknowledged(self._unsubacks,
                                 lambda: self._client.unsubscribe(topic_filter))

    async def _acknowledged(self, waiting: dict[int, asyncio.Future[tuple[int, ...]]],
                            send: Callable[[], int]) -> tuple[int, ...]:
        """Send a SUBSCRIBE or UNSUBSCRIBE and wait for its answer's reason codes, inside
        the window: gmqtt's packet ids, which they share with QoS 1 publishes, run out
        one short of the broker's receive maximum."""
        async with self._window:
            waiter: asyncio.Future[tuple[int, ...]] = \
                asyncio.get_running_loop().create_future()
            waiting[send()] = waiter
            try:
                return await asyncio.wait_for(waiter, self.timeout)
            except TimeoutError:
                raise BrokerError(f"the broker did not answer within {self.timeout} s"
                                  ) from None

    def _on_subscribe(self, client: gmqtt.Client, mid: int, granted: tuple[int, ...],
                      properties: Any) -> None:
        _answered(self._subacks, mid, granted)

    def _on_unsubscribe(self, client: gmqtt.Client, mid: int, granted: tuple[int, ...]
                        ) -> None:
        _answered(self._unsubacks, mid, granted)

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                    properties: dict[str, Any]) -> int:
        if topic == self._marker:
            waiter = self._markers.pop(payload, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return 0
        message = Message(topic, payload, bool(properties.get("retain")))
        for take in list(self._exact.get(topic, ())):
            take(message)
        for levels, take in list(self._wildcard):
            if levels_match(levels, topic):
                take(message)
        return 0



def _answered(waiting: dict[int, asyncio.Future[tuple[int, ...]]], mid: int,
              codes: tuple[int, ...]) -> None:
    waiter = waiting.pop(mid, None)
    if waiter is not None and not waiter.done():
        waiter.set_result(codes)
