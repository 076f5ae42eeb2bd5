"""The remote editor's protocol against a real mosquitto: a device agent answers signed
MQTT 5 requests by correlation data, streams status and debug output while a lease
lasts, deploys a page's flow as a signed bundle with If-Match semantics, and refuses
bad, foreign, replayed and huge requests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.fleet import keys
from portless.fleet.device import DeviceAgent
from portless.fleet.device_config import DeviceConfig
from portless.fleet.engineer_config import EngineerConfig
from portless.fleet.remote_deploy import deploy_page
from portless.fleet.remote_device import RemoteResponder
from portless.fleet.remote_link import DeviceSilent, RemoteLink, Reply
from portless.fleet.remote_protocol import (
    MAX_REQUEST_BYTES,
    request_fields,
    sign_request,
)
from portless.nodes.debug import Debug
from portless.runtime import DeployService, Engine, Registry
from tests.fleet.simulated import QUICK, SimulatedDevice
from tests.fleet.simulated import running as simulated
from tests.fleet.test_broker_acl import secured, tls  # noqa: F401 (secured is a fixture)
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.nodetypes import TEST_TYPES

pytestmark = pytest.mark.broker
REGISTRY = Registry([*TEST_TYPES, Debug])
PREFIX = "plant/fleet"
FLOW = {"version": 1, "nodes": [
    {"id": "report", "type": "test-reporter", "config": {}, "wires": [["show"]]},
    {"id": "show", "type": "debug", "config": {}, "wires": []}]}


@dataclass
class Device:
    """A device agent (engine, deploy service, management link) and its trusted key."""

    agent: DeviceAgent
    key: Ed25519PrivateKey

    @property
    def remote(self) -> RemoteResponder:
        assert self.agent.remote is not None
        return self.agent.remote

    @property
    def engine(self) -> Engine:
        return self.agent.deploys.engine


def make_device(tmp_path: Path, broker: Mosquitto, remote_editor: bool = True) -> Device:
    """valves.json (FLOW) and pumps.json (one node, ``pump``) as two tabs."""
    flow_file = tmp_path / "valves.json"
    flow_file.write_text(json.dumps(FLOW))
    (tmp_path / "pumps.json").write_text(json.dumps({"version": 1, "nodes": [
        {"id": "pump", "type": "test-double", "config": {}, "wires": []}]}))
    key = Ed25519PrivateKey.generate()
    trusted = tmp_path / "trusted-keys"
    trusted.write_text(keys.TrustedKey(key.public_key(), "alice").line() + "\n")
    config = DeviceConfig(device_id="pump-7", topic_prefix=PREFIX, host="127.0.0.1",
                          port=broker.port, tls=False, trusted_keys=(trusted,),
                          health=QUICK, remote_editor=remote_editor)
    deploys = DeployService(Engine(REGISTRY, state_dir=tmp_path / "state"), REGISTRY,
                            [flow_file, tmp_path / "pumps.json"])
    return Device(DeviceAgent(config, deploys, tmp_path / "state"), key)


class Logged(logging.Handler):
    """The fleet log's lines (debug ones too), to wait on: ``await logged.line(text)``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self._changed.set()

    async def line(self, text: str, after: int = 0, timeout: float = 10.0) -> int:
        """Wait for a line holding ``text`` from line ``after`` on; its number + 1."""
        async with asyncio.timeout(timeout):
            while True:
                for number in range(after, len(self.lines)):
                    if text in self.lines[number]:
                        return number + 1
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def running(tmp_path: Path, broker: Mosquitto) -> AsyncIterator[tuple[Device,
                                                                          RemoteLink,
                                                                          Logged]]:
    """The device, running and subscribed, an engineer's link to it, and its log."""
    device = make_device(tmp_path, broker)
    logged = Logged()
    logger = logging.getLogger("portless.fleet")
    level = logger.level
    logger.addHandler(logged)
    logger.setLevel(logging.DEBUG)
    device.agent.deploys.load()
    await device.agent.deploys.start()
    stop = asyncio.Event()
    task = asyncio.create_task(device.agent.run(stop))
    engineer = EngineerConfig(host="127.0.0.1", port=broker.port, tls=False,
                              topic_prefix=PREFIX)
    link = RemoteLink(engineer, "pump-7", device.key)
    try:
        await link.connect()
        for _ in range(50):  # until the device has subscribed to its request topic
            with contextlib.suppress(DeviceSilent):
                await link.request("hello", timeout=0.2)
                break
        yield device, link, logged
    finally:
        await link.disconnect()
        stop.set()
        await task
        await device.engine.stop()
        logger.removeHandler(logged)
        logger.setLevel(level)


def get(link: RemoteLink, path: str) -> Any:
    return link.request("http", method="GET", path=path, body=None, if_match=None)


async def test_requests_are_answered_each_by_its_correlation_data(
        tmp_path: Path, mosquitto_factory: Callable[..., Mosquitto]) -> None:
    # Without it mosquitto's Nagle delay meets the client's delayed ACK: some 45 ms a trip.
    mosquitto = mosquitto_factory(extra_config=["set_tcp_nodelay true"])
    async with running(tmp_path, mosquitto) as (_device, link, _logged):
        flow, nodes, tabs, hello = await asyncio.gather(
            get(link, "/api/flow"), get(link, "/api/nodes"), get(link, "/api/tabs"),
            link.request("hello"))
        checked = await link.request("http", method="POST", path="/api/validate",
                                     if_match=None, body=json.dumps(
                                         {"version": 1, "nodes": [{"id": "x",
                                                                   "type": "nothing"}]}))
        times = []
        for _ in range(20):
            started = time.perf_counter()
            await link.request("hello")
            times.append(time.perf_counter() - started)
    assert flow.status == 200
    assert [n["id"] for n in flow.body["nodes"]] == ["report", "show"]
    assert flow.etag
    assert flow.etag.strip('"') == tabs.body["tabs"][0]["etag"].strip('"')
    assert [tab["name"] for tab in tabs.body["tabs"]] == ["valves", "pumps"]
    assert {"test-reporter", "debug"} <= {entry["type"] for entry in nodes.body}
    assert hello.body["device"] == "pump-7"
    assert hello.body["tabs"] == ["valves.json", "pumps.json"]
    assert checked.status == 200
    assert "nothing" in checked.body["errors"][0]
    print(f"request round trip over mosquitto: median {statistics.median(times) * 1000:.1f}"
          f" ms, max {max(times) * 1000:.1f} ms")
    assert statistics.median(times) < 0.02


async def test_the_live_stream_runs_while_its_lease_lasts(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    frames: list[dict[str, Any]] = []
    async with running(tmp_path, mosquitto) as (device, link, logged):
        link.listeners.add(lambda data: frames.extend(json.loads(data)))
        assert not device.remote.sessions  # off until asked for
        device.engine.inject("report", {"payload": {"error_alone": "early"}})
        arrived = asyncio.Event()
        link.listeners.add(lambda data: arrived.set())
        started = await link.request("live", lease=0.5)
        assert started.status == 200
        device.engine.inject("report", {"payload": {"status": "ok"}})
        while not any(f["kind"] == "debug" for f in frames):
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 5)
        assert device.remote.api().hub.pages  # a page of the local editor's hub
        lapsed = await logged.line("stopped")  # not renewed: the lease lapsed
        assert not device.remote.sessions
        assert not device.remote.api().hub.pages
        again = await link.request("live", lease=30)
        assert device.remote.sessions
        stopped = await link.request("live", lease=0)
        await logged.line("stopped", after=lapsed)
        assert not device.remote.sessions
    kinds = {(f["kind"], f["node"]) for f in frames}
    assert ("error", "report") in kinds  # the recent error, sent first
    assert ("status", "report") in kinds
    assert ("debug", "show") in kinds
    debug = next(f for f in frames if f["kind"] == "debug")
    assert json.loads(debug["text"]) == {"status": "ok"}
    assert again.status == 200
    assert stopped.status == 200


async def test_keep_live_holds_the_lease_while_wanted_and_ends_it_after(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running(tmp_path, mosquitto) as (device, link, logged):
        keeper = asyncio.create_task(link.keep_live(lease=0.3))
        try:
            link.want_live(True)
            seen = await logged.line("lease of 0.3 s")
            for _ in range(3):  # renewed, and renewed again, before it lapsed
                seen = await logged.line("lease of 0.3 s", after=seen)
            assert not any("stopped" in line for line in logged.lines)
            link.want_live(False)
            await logged.line("stopped", after=seen)
            assert not device.remote.sessions
        finally:
            keeper.cancel()


async def test_a_page_deploy_is_a_signed_bundle_with_if_match(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running(tmp_path, mosquitto) as (device, link, _), \
            Watcher(mosquitto.port, f"{PREFIX}/pump-7/desired") as desired:
        read = await get(link, "/api/flow")
        changed = {**read.body, "nodes": [*read.body["nodes"], {
            "id": "more", "type": "test-double", "config": {}, "wires": []}]}
        body = json.dumps(changed).encode()
        deployed = await deploy_page(link, None, body, read.etag)
        stale = await deploy_page(link, None, body, read.etag)
        missing = await deploy_page(link, None, body, None)
        broken = {**changed, "nodes": [*changed["nodes"], {"id": "bad", "type": "nothing"}]}
        invalid = await deploy_page(link, None, json.dumps(broken).encode(), deployed.etag)
        await desired.wait_for(1)
        running_record = device.agent.running()
        nodes = sorted(device.engine.nodes)
    assert deployed.status == 200, deployed.body
    assert deployed.body["started"] == ["more"]
    assert deployed.body["fleet"] == {
        "state": "healthy", "version": 1}
    assert deployed.etag != read.etag
    assert stale.status == 412
    assert stale.body["etag"] == deployed.etag
    assert missing.status == 428
    assert invalid.status == 400
    assert "nothing" in invalid.body["errors"][0]
    assert invalid.body["details"][0]["node"] == "bad"
    assert running_record is not None
    assert running_record["version"] == 1
    assert nodes == ["more", "pump", "report", "show"]
    assert json.loads(desired.received[0].payload)["signed"]["version"] == 1


async def answer_to(link: RemoteLink, payload: bytes, *, response: str | None = None,
                    correlation: bytes = b"c" * 16, timeout: float = 5.0) -> Reply | None:
    """Publish a hand-made request; its answer, or None when the device ignores it."""
    replies: list[Reply] = []
    arrived = asyncio.Event()
    original = link._on_message

    def on_message(client: Any, topic: str, data: bytes, qos: int,
                   properties: dict[str, Any]) -> int:
        if properties.get("correlation_data") == [correlation]:
            document = json.loads(data)
            replies.append(Reply(document["status"], document["etag"], document["body"]))
            arrived.set()
        return 0

    link._client.on_message = on_message
    try:
        link._client.publish(link.topics.request, payload, qos=1,
                             response_topic=response or link.topics.response(link.session),
                             correlation_data=correlation)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), timeout)
    finally:
        link._client.on_message = original
    return replies[0] if replies else None


async def test_bad_foreign_replayed_and_huge_requests_are_refused(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    stranger = Ed25519PrivateKey.generate()
    async with running(tmp_path, mosquitto) as (device, link, _logged):
        def signed(number: int, key: Ed25519PrivateKey = device.key, kind: str = "hello",
                   **changes: Any) -> tuple[bytes, bytes]:
            correlation = bytes([number]) * 16
            fields = {**request_fields(kind, "pump-7", link.session, correlation),
                      **changes}
            return sign_request(fields, key), correlation

        cases = {
            "unknown key": (signed(1, stranger), 401, "does not trust"),
            "tampered": ((signed(2)[0].replace(b"hello", b"live "), bytes([2]) * 16), 401,
                         "bad signature"),
            "other device": (signed(3, device="pump-8"), 400, "request/device"),
            "other session": (signed(4, session="someone-else"), 400, "request/session"),
            "stale": (signed(5, at=time.time() - 3600), 401, "clock"),
            "not json": ((b"\xff" * 10, bytes([6]) * 16), 400, "not a JSON document"),
            "huge": ((b" " * (MAX_REQUEST_BYTES + 1), bytes([7]) * 16), 413, "at most"),
            "a write": (signed(8, kind="http", method="PUT", path="/api/flow", body="{}",
                               if_match=None), 403, "signed bundle"),
            "a lease too long": (signed(9, kind="live", lease=3600), 400, "live/lease"),
        }
        answers = {case: await answer_to(link, payload, correlation=correlation)
                   for case, ((payload, correlation), _, _) in cases.items()}
        good, correlation = signed(10)
        first = await answer_to(link, good, correlation=correlation)
        replayed = await answer_to(link, good, correlation=correlation)
        async with Watcher(mosquitto.port, f"{PREFIX}/pump-8/#", client_id="pump-8") as \
                other_device:
            fresh, other_correlation = signed(11)
            link._client.publish(link.topics.request, fresh, qos=1,
                                 response_topic=f"{PREFIX}/pump-8/desired",
                                 correlation_data=other_correlation)
            after, after_correlation = signed(12)  # answered after the one above was seen
            later = await answer_to(link, after, correlation=after_correlation)
    for case, (_, status, words) in cases.items():
        reply = answers[case]
        assert reply is not None, case
        assert reply.status == status, (case, reply)
        assert words in reply.body["error"], (case, reply)
    assert first is not None
    assert first.status == 200
    assert replayed is not None
    assert replayed.status == 401
    assert "replay" in \
        replayed.body["error"]
    assert later is not None
    assert later.status == 200
    assert not other_device.received  # never answered on a topic not this session's


async def test_a_deploy_of_one_tab_carries_the_others_as_they_are_on_the_device(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running(tmp_path, mosquitto) as (device, link, _):
        read = await get(link, "/api/tabs/pumps")
        changed = {**read.body, "nodes": [*read.body["nodes"], {
            "id": "pump-2", "type": "test-double", "config": {}, "wires": []}]}
        valves = json.loads((tmp_path / "valves.json").read_text())
        valves["nodes"][1]["name"] = "changed on the device"  # since the page opened
        (tmp_path / "valves.json").write_text(json.dumps(valves))
        deployed = await deploy_page(link, "pumps", json.dumps(changed).encode(), read.etag)
        stale = await deploy_page(link, "pumps", json.dumps(changed).encode(), read.etag)
        nodes = sorted(device.engine.nodes)
    assert deployed.status == 200, deployed.body
    assert deployed.body["started"] == ["pump-2"]
    assert stale.status == 412
    assert "pumps.json" in stale.body["error"]
    assert nodes == ["pump", "pump-2", "report", "show"]
    kept = json.loads((tmp_path / "valves.json").read_text())  # not reverted by the bundle
    assert kept["nodes"][1]["name"] == "changed on the device"


async def test_live_sessions_are_bounded_and_the_responder_can_be_off(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    async with running(tmp_path, mosquitto) as (device, link, _):
        others = [RemoteLink(link.config, "pump-7", device.key) for _ in range(4)]
        for other in others:
            await other.connect()
        try:
            answers = [await each.request("live", lease=30) for each in [link, *others]]
        finally:
            for other in others:
                await other.disconnect()
        sessions = len(device.remote.sessions)
    assert [answer.status for answer in answers] == [200, 200, 200, 200, 503]
    assert "watch this device already" in answers[-1].body["error"]
    assert sessions == 4
    (tmp_path / "off").mkdir()
    off = make_device(tmp_path / "off", mosquitto, remote_editor=False)
    assert off.agent.remote is None
    assert off.agent._topics() == [f"{PREFIX}/pump-7/desired"]


async def test_through_the_shipped_acl_only_the_engineer_reaches_a_device(
        tmp_path: Path, secured: Mosquitto) -> None:  # noqa: F811
    """TLS, passwords and docs/fleet-acl.conf: the engineer's requests are answered;
    another device's user, even holding a trusted key, is refused by the broker."""
    key = Ed25519PrivateKey.generate()
    trusted = tmp_path / "trusted-keys"
    trusted.write_text(keys.TrustedKey(key.public_key(), "alice").line() + "\n")
    device = SimulatedDevice(tmp_path / "devices", "pump-1", trusted, secured.tls_port,
                             **tls(secured, "pump-1"))
    device.config = dataclasses.replace(device.config, topic_prefix="plant/fleet")

    def link_as(user: str, timeout: float) -> RemoteLink:
        config = EngineerConfig(host="127.0.0.1", port=secured.tls_port,
                                topic_prefix="plant/fleet", **tls(secured, user))
        return RemoteLink(config, "pump-1", key, timeout=timeout)

    async with simulated([device]):
        engineer, intruder = link_as("engineer", 5.0), link_as("pump-2", 0.3)
        await engineer.connect()
        await intruder.connect()
        try:
            for _ in range(50):  # until the device has subscribed to its request topic
                with contextlib.suppress(DeviceSilent):
                    hello = await engineer.request("hello", timeout=0.2)
                    break
            live = await engineer.request("live", lease=5)
            with pytest.raises(DeviceSilent):
                await intruder.request("hello")
        finally:
            await engineer.disconnect()
            await intruder.disconnect()
    assert hello.status == 200
    assert hello.body["device"] == "pump-1"
    assert live.status == 200
    denied = [line for line in secured.log.splitlines() if "Denied PUBLISH from" in line]
    assert [f"portless-edit-pump-1-{intruder.session}" in line
            and "'plant/fleet/pump-1/request'" in line for line in denied] == [True], denied
