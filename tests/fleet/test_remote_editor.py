"""The remote editor's app on the engineer's side, against a device agent on a real
mosquitto: the local editor's Guard (token, Host, Origin) in front, API calls forwarded,
a PUT made a signed bundle with If-Match, the websocket fed by the live stream, and a
silent device answered 504."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from quart.testing.connections import WebsocketResponseError

from portless.fleet.remote_editor import create_remote_app
from portless.fleet.remote_link import RemoteLink
from tests.fleet.test_remote_device import running
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker
TOKEN = "remote-token"
HOST = "127.0.0.1:1880"
BEARER = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}


async def test_the_remote_app_guards_forwards_and_deploys(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running(tmp_path, mosquitto) as (device, link, _):
        client = create_remote_app(link, port=1880, token=TOKEN).test_client()
        nobody = await client.get("/api/flow", headers={"Host": HOST})
        rebound = await client.get("/api/flow", headers={**BEARER, "Host": "evil.example"})
        read = await client.get("/api/flow", headers=BEARER)
        document = await read.get_json()
        document["nodes"][1]["name"] = "shown remotely"
        put = {**BEARER, "If-Match": read.headers["ETag"]}
        deployed = await client.put("/api/flow", headers=put, json=document)
        stale = await client.put("/api/flow", headers=put, json=document)
        deleted = await client.delete("/api/tabs/valves", headers=BEARER)
        with pytest.raises(WebsocketResponseError) as refused:
            async with client.websocket("/api/ws", headers=BEARER) as socket:  # no Origin
                await socket.receive()
        keeper = asyncio.create_task(link.keep_live())  # run_remote_editor's task
        async with client.websocket("/api/ws", headers={
                **BEARER, "Origin": f"http://{HOST}"}) as socket:
            first = json.loads(await socket.receive())  # every node's status, from hello
            injected = await client.post("/api/nodes/report/inject", headers=BEARER)
            async with asyncio.timeout(5):
                while not any(item["kind"] == "debug" for item in json.loads(
                        await socket.receive())):
                    pass
            assert device.remote.sessions  # the page's lease holds the stream
        keeper.cancel()
    assert nobody.status_code == 401
    assert rebound.status_code == 403
    assert read.status_code == 200
    assert deployed.status_code == 200, await deployed.get_json()
    assert (await deployed.get_json())["fleet"]["version"] == 1
    assert deployed.headers["ETag"] != read.headers["ETag"]
    assert stale.status_code == 412
    assert deleted.status_code == 403
    assert "signed bundle" in (await deleted.get_json())["error"]
    assert refused.value.response.status_code == 403
    assert isinstance(first, list)
    assert injected.status_code == 204


async def test_a_device_that_does_not_answer_is_a_504(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running(tmp_path, mosquitto) as (device, link, _):
        silent = RemoteLink(link.config, "pump-9", device.key, timeout=0.3)
        await silent.connect()
        try:
            client = create_remote_app(silent, port=1880, token=TOKEN).test_client()
            answer = await client.get("/api/flow", headers=BEARER)
        finally:
            await silent.disconnect()
    assert answer.status_code == 504
    assert "pump-9 did not answer" in (await answer.get_json())["error"]
