"""http-request: an outbound HTTP(S) request per message, as Node-RED's http request
node, with the response on the message. The device originates it, as it does MQTT, so
it opens no port; there is no http-in (nor websocket, tcp or udp in) for that reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portless.nodes.http.http_schema import SCHEMA
from portless.runtime import Message, Node

if TYPE_CHECKING:  # aiohttp is imported when such a node starts (http_client.py)
    from portless.nodes.http.http_client import HttpClient


class HttpRequest(Node):
    type = "http-request"
    category = "network"
    color = "#e7e7ae"
    icon = "white-globe"
    inputs = 1
    outputs = 1
    input_queue_size = 100
    input_queue_max = 10_000
    input_queue_when_full = "block"
    schema = SCHEMA

    async def start(self) -> None:
        from portless.nodes.http.http_client import HttpClient  # aiohttp: lazily

        self._client: HttpClient = HttpClient(self)

    async def stop(self) -> None:
        await self._client.close()

    async def on_input(self, msg: Message) -> None:
        await self._client.handle(msg)
