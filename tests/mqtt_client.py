"""A plain gmqtt client for tests: the "other side" that watches and commands a device."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50, MQTTv311


@dataclass
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: dict[str, Any]


class Watcher:
    """Subscribes to topics and keeps what arrives; ``await wait_for(n)`` never sleeps."""

    def __init__(self, port: int, *topics: str, qos: int = 1, client_id: str = "watcher",
                 clean: bool = True, version: str = "5", username: str = "",
                 password: str = "", ssl_context: ssl.SSLContext | None = None) -> None:
        self.port, self.topics, self.qos = port, topics, qos
        self.version = MQTTv50 if version == "5" else MQTTv311
        self.received: list[Received] = []
        self.session_present: list[bool] = []
        """The broker's CONNACK flag at each connect: True where it kept the session."""
        self._arrived = asyncio.Event()
        properties = {"session_expiry_interval": 0 if clean else 3600} \
            if self.version == MQTTv50 else {}
        self.client = gmqtt.Client(client_id, clean_session=clean, **properties)
        self.client.set_config({"reconnect_retries": -1, "reconnect_delay": 0.2})
        if username:
            self.client.set_auth_credentials(username, password)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self._subscribed = asyncio.Event()
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.ssl_context = ssl_context

    def _on_connect(self, client: gmqtt.Client, session_present: int, *args: Any) -> None:
        self.session_present.append(bool(session_present))
        self._arrived.set()  # wait_until may be waiting for a (re)connect
        for topic in self.topics:
            client.subscribe(topic, qos=self.qos)

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                    properties: dict[str, Any]) -> int:
        self.received.append(Received(topic, payload, qos, bool(properties.get("retain")),
                                      properties))
        self._arrived.set()
        return 0

    async def __aenter__(self) -> Watcher:
        await self.client.connect("127.0.0.1", self.port, ssl=self.ssl_context or False,
                                  version=self.version, keepalive=30)
        if self.topics:
            await asyncio.wait_for(self._subscribed.wait(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.disconnect()

    def on(self, topic: str) -> list[Received]:
        return [m for m in self.received if m.topic == topic]

    async def wait_for(self, count: int, topic: str | None = None,
                       timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` messages (on ``topic``, if given) have arrived."""
        def got() -> list[Received]:
            return self.on(topic) if topic else self.received
        await self.wait_until(lambda: len(got()) >= count, timeout)
        return got()

    async def wait_until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``done()`` is true, asking again as each message arrives."""
        async with asyncio.timeout(timeout):
            while not done():
                self._arrived.clear()
                await self._arrived.wait()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                **properties: Any) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain, **properties)
