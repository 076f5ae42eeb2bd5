"""The engineer's end of the remote editor protocol: one MQTT 5 client that sends signed
requests to a device and matches each response to its request by correlation data,
and keeps the device's live stream going with a lease for as long as anyone listens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gmqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gmqtt.mqtt.constants import MQTTv50

from .engineer_config import EngineerConfig
from .remote_protocol import Topics, new_session, request_fields, sign_request

log = logging.getLogger("portless.fleet")
REQUEST_SECONDS = 15.0
"""How long a request waits for its answer before the device counts as silent."""
LEASE_SECONDS = 30.0
"""The live stream's lease; renewed every third of it, so one lost renewal does no harm."""


class DeviceSilent(TimeoutError):
    """The device did not answer in time (offline, or the broker does not pass it on)."""


@dataclass(frozen=True)
class Reply:
    status: int
    etag: str | None
    body: Any


class RemoteLink:
    """Requests to one device through the management broker, as one session."""

    def __init__(self, config: EngineerConfig, device: str, key: Ed25519PrivateKey,
                 timeout: float = REQUEST_SECONDS) -> None:
        """``timeout``: how long a request waits for its answer, unless it says."""
        self.config = config
        self.timeout = timeout
        self.device = device
        self.key = key
        self.topics = Topics(config.topic_prefix, device)
        self.session = new_session()
        self.listeners: set[Callable[[bytes], None]] = set()
        """Called with each live frame (JSON text) while the lease is kept."""
        self._waiting: dict[bytes, asyncio.Future[Reply]] = {}
        self._subscribed = asyncio.Event()
        self._client = gmqtt.Client(f"portless-edit-{device}-{self.session}")
        self._client.set_config({"reconnect_retries": -1, "reconnect_delay": 2})
        if config.username:
            self._client.set_auth_credentials(config.username, config.password)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.on_message = self._on_message
        self._wanted = False
        self._changed = asyncio.Event()
        self.streaming = False
        """Whether the device may be streaming to this session (a lease was asked for)."""

    async def connect(self) -> None:
        """Connect and subscribe to this session's response and live topics."""
        await self._client.connect(self.config.host, self.config.port,
                                   ssl=self.config.ssl_context() or False,
                                   version=MQTTv50, keepalive=30)
        await asyncio.wait_for(self._subscribed.wait(), REQUEST_SECONDS)

    async def disconnect(self) -> None:
        await self._client.disconnect()

    def _on_connect(self, client: gmqtt.Client, *args: Any) -> None:
        client.subscribe(self.topics.response(self.session), qos=1)
        client.subscribe(self.topics.live(self.session), qos=0)

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                    properties: dict[str, Any]) -> int:
        if topic == self.topics.live(self.session):
            for listener in tuple(self.listeners):
                listener(payload)
            return 0
        correlation = (properties.get("correlation_data") or [None])[0]
        future = self._waiting.pop(correlation, None) if isinstance(correlation, bytes) \
            else None
        if future is None or future.done():
            return 0  # an answer to a request that gave up waiting
        try:
            document = json.loads(payload)
            future.set_result(Reply(int(document["status"]), document.get("etag"),
                                    document.get("body")))
        except (ValueError, KeyError, TypeError) as exc:
            future.set_result(Reply(502, None, {"error": f"the device's answer cannot be "
                                                         f"read: {exc}"}))
        return 0

    async def request(self, kind: str, timeout: float | None = None, **fields: Any
                      ) -> Reply:
        """Send a signed request of ``kind`` and wait for its answer; raises DeviceSilent."""
        correlation = secrets.token_bytes(16)
        payload = sign_request(request_fields(kind, self.device, self.session,
                                              correlation, **fields), self.key)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[correlation] = future
        self._client.publish(self.topics.request, payload, qos=1,
                             response_topic=self.topics.response(self.session),
                             correlation_data=correlation, content_type="application/json")
        timeout = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DeviceSilent(f"device {self.device} did not answer within "
                               f"{timeout:g} s (is it online, and does the broker let "
                               f"this client publish to {self.topics.request}?)") from None
        finally:
            self._waiting.pop(correlation, None)

    def publish_desired(self, bundle: bytes) -> None:
        """Make ``bundle`` the device's retained desired state (what it runs now)."""
        self._client.publish(self.config.topic(self.device, "desired"), bundle, qos=1,
                             retain=True)

    def want_live(self, wanted: bool) -> None:
        """Whether the live stream should run (``keep_live`` follows it)."""
        self._wanted = wanted
        self._changed.set()

    async def keep_live(self, lease: float = LEASE_SECONDS) -> None:
        """While the stream is wanted, hold its lease (renewed every third of it); when
        it is no longer wanted, end it. Runs until cancelled."""
        while True:
            self._changed.clear()  # before reading _wanted: a change meanwhile is seen
            if self._wanted or self.streaming:
                self.streaming = True  # from the request on: the device may have begun
                try:
                    reply = await self.request("live", lease=lease if self._wanted else 0)
                    if reply.status != 200:
                        log.warning("remote editor: the live stream: %s", reply.body)
                except DeviceSilent as exc:
                    log.warning("remote editor: %s", exc)  # tried again at the renewal
                self.streaming = self._wanted
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(),
                                       lease / 3 if self.streaming else None)
