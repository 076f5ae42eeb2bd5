"""The device side against a real mosquitto: a retained desired bundle is verified,
deployed and reported; refused ones are reported with the reason and change nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.fleet import keys
from portless.fleet.bundle import Bundle, BundleFile, sign
from portless.fleet.device import DeviceAgent
from portless.fleet.device_config import DeviceConfig
from portless.runtime import DeployService, Engine, Registry
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.nodetypes import TEST_TYPES

pytestmark = pytest.mark.broker
REGISTRY = Registry(TEST_TYPES)
PREFIX = "plant/fleet"


def flow(*ids: str, device: str = "") -> str:
    nodes: list[dict[str, Any]] = [{"id": i, "type": "test-double", "config": {},
                                    "wires": []} for i in ids]
    if device:
        nodes.append({"id": "dev", "type": "test-device", "config": {"device": device},
                      "wires": []})
    return json.dumps({"version": 1, "nodes": nodes})


class Device:
    """One simulated device: its flow file, deploy service, agent and signing key."""

    def __init__(self, tmp_path: Path, broker: Mosquitto) -> None:
        self.flow_file = tmp_path / "valves.json"
        self.flow_file.write_text(flow("a"))
        self.key = Ed25519PrivateKey.generate()
        trusted = tmp_path / "trusted-keys"
        trusted.write_text(keys.TrustedKey(self.key.public_key(), "ci").line() + "\n")
        self.config = DeviceConfig(device_id="pump-7", topic_prefix=PREFIX,
                                   host="127.0.0.1", port=broker.port, tls=False,
                                   trusted_keys=(trusted,))
        engine = Engine(REGISTRY, state_dir=tmp_path / "state")
        self.deploys = DeployService(engine, REGISTRY, [self.flow_file])
        self.agent = DeviceAgent(self.config, self.deploys, tmp_path / "state")

    def bundle(self, version: int, content: str, rollback: bool = False,
               key: Ed25519PrivateKey | None = None) -> bytes:
        return sign(Bundle(version=version, files=(BundleFile("valves.json", content),),
                           rollback=rollback), key or self.key)


@contextlib.asynccontextmanager
async def running(device: Device) -> AsyncIterator[Device]:
    device.deploys.load()
    await device.deploys.start()
    stop = asyncio.Event()
    task = asyncio.create_task(device.agent.run(stop))
    try:
        yield device
    finally:
        stop.set()
        await task
        await device.deploys.engine.stop()


async def publish_desired(broker: Mosquitto, data: bytes) -> None:
    async with Watcher(broker.port, client_id="engineer") as engineer:
        engineer.client.publish(f"{PREFIX}/pump-7/desired", data, qos=1, retain=True)


async def final_report(watcher: Watcher, state: str, version: int) -> dict[str, Any]:
    """Wait for the report that ends the bundle's job: ``state`` for ``version``."""
    async with asyncio.timeout(10):
        while True:
            for message in watcher.on(f"{PREFIX}/pump-7/reported"):
                report: dict[str, Any] = json.loads(message.payload)
                if report["state"] == state and report["version"] == version:
                    return report
            await watcher.wait_for(len(watcher.received) + 1)


@pytest.fixture
def device(tmp_path: Path, mosquitto: Mosquitto) -> Device:
    return Device(tmp_path, mosquitto)


async def test_a_device_offline_at_publish_deploys_the_retained_bundle_and_reports_it(
        device: Device, mosquitto: Mosquitto) -> None:
    await publish_desired(mosquitto, device.bundle(2, flow("a", "b")))
    async with Watcher(mosquitto.port, f"{PREFIX}/pump-7/reported") as watcher, \
            running(device):
        report = await final_report(watcher, "deployed", 2)
        nodes = sorted(device.deploys.engine.nodes)
    states = [json.loads(m.payload)["state"] for m in watcher.received]
    assert states[-3:] == ["received", "verified", "deployed"]
    assert report["running"]["version"] == 2
    assert nodes == ["a", "b"]
    assert json.loads(device.flow_file.read_text())["nodes"][1]["id"] == "b"
    assert (device.agent.directory / "staged.json").read_bytes() == device.bundle(
        2, flow("a", "b"))
    async with Watcher(mosquitto.port, f"{PREFIX}/pump-7/reported") as late:
        retained = await late.wait_for(1)
    assert json.loads(retained[0].payload)["state"] == "deployed"


@pytest.mark.parametrize(("case", "reason"), [
    ("unknown key", "which this device does not trust"),
    ("tampered", "does not match its sha256"),
    ("replayed", "is not newer than version 2"),
    ("invalid flow", "test-nothing"),
    ("failing node", "rolled back"),
])
async def test_a_refused_bundle_is_reported_failed_and_changes_nothing(
        device: Device, mosquitto: Mosquitto, case: str, reason: str) -> None:
    async with Watcher(mosquitto.port, f"{PREFIX}/pump-7/reported") as watcher, \
            running(device):
        await publish_desired(mosquitto, device.bundle(2, flow("a", "b")))
        await final_report(watcher, "deployed", 2)
        bad = {
            "unknown key": lambda: device.bundle(3, flow("x"), key=Ed25519PrivateKey
                                                 .generate()),
            "tampered": lambda: device.bundle(3, flow("x")).replace(b'\\"x\\"', b'\\"y\\"'),
            "replayed": lambda: device.bundle(1, flow("x")),
            "invalid flow": lambda: device.bundle(3, flow("x").replace("test-double",
                                                                        "test-nothing")),
            "failing node": lambda: device.bundle(3, flow("x", device="missing")),
        }[case]()
        await publish_desired(mosquitto, bad)
        async with asyncio.timeout(10):
            while True:
                reports = [json.loads(m.payload) for m in watcher.received]
                if reports[-1]["state"] == "failed":
                    break
                await watcher.wait_for(len(watcher.received) + 1)
        nodes = sorted(device.deploys.engine.nodes)
    assert reason in reports[-1]["reason"]
    assert reports[-1]["running"]["version"] == 2
    assert nodes == ["a", "b"]


async def test_a_signed_rollback_to_an_older_version_is_deployed(
        device: Device, mosquitto: Mosquitto) -> None:
    async with Watcher(mosquitto.port, f"{PREFIX}/pump-7/reported") as watcher, \
            running(device):
        await publish_desired(mosquitto, device.bundle(5, flow("a", "b")))
        await final_report(watcher, "deployed", 5)
        await publish_desired(mosquitto, device.bundle(4, flow("a"), rollback=True))
        report = await final_report(watcher, "deployed", 4)
        nodes = sorted(device.deploys.engine.nodes)
    assert report["running"]["version"] == 4
    assert nodes == ["a"]


class SetOnLog(logging.Handler):
    """Sets ``event`` when a record holding ``text`` is logged (in the loop's thread)."""

    def __init__(self, event: asyncio.Event, text: str) -> None:
        super().__init__()
        self.event, self.text = event, text

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@pytest.mark.slow  # waits out the agent's first retry (1 s)
async def test_a_device_started_while_the_broker_is_down_connects_when_it_is_back(
        device: Device, mosquitto: Mosquitto) -> None:
    await publish_desired(mosquitto, device.bundle(2, flow("a", "b")))
    mosquitto.stop()  # persistence keeps the retained bundle
    refused = asyncio.Event()
    seen = SetOnLog(refused, "cannot reach")
    logging.getLogger("portless.fleet").addHandler(seen)
    try:
        async with running(device):
            await asyncio.wait_for(refused.wait(), 10)
            mosquitto.start()
            async with Watcher(mosquitto.port, f"{PREFIX}/pump-7/reported") as watcher:
                report = await final_report(watcher, "deployed", 2)
    finally:
        logging.getLogger("portless.fleet").removeHandler(seen)
    assert report["running"]["version"] == 2
