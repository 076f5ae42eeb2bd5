"""Simulated devices for the fleet tests: flow files, a deploy service, a DeviceAgent and
a signing key, run against a real mosquitto; and the engineer's side of the topics."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.fleet import keys
from portless.fleet.bundle import Bundle, BundleFile, sign
from portless.fleet.device import DeviceAgent
from portless.fleet.device_config import DeviceConfig, HealthGate
from portless.nodes.core.inject import Inject
from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.runtime import DeployService, Engine, Registry
from tests.fleet.simulated import PREFIX, QUICK
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.nodetypes import TEST_TYPES

REGISTRY = Registry([*TEST_TYPES, Inject, MqttBroker])
REPORTED = f"{PREFIX}/pump-7/reported"


def flow(*ids: str, device: str = "", extra: tuple[dict[str, Any], ...] = ()) -> str:
    """A flow file's text: test-double nodes, a test-device (fails to start when
    ``device`` is "missing") and any ``extra`` nodes."""
    nodes: list[dict[str, Any]] = [{"id": i, "type": "test-double", "config": {},
                                    "wires": []} for i in ids]
    if device:
        nodes.append({"id": "dev", "type": "test-device", "config": {"device": device},
                      "wires": []})
    return json.dumps({"version": 1, "nodes": [*nodes, *extra]})


class Device:
    """One simulated device: its flow files, deploy service, agent and signing key."""

    def __init__(self, tmp_path: Path, broker: Mosquitto, gate: HealthGate = QUICK,
                 files: dict[str, str] | None = None) -> None:
        self.tmp_path = tmp_path
        self.files = {name: tmp_path / name
                      for name in (files or {"valves.json": flow("a")})}
        for name, text in (files or {"valves.json": flow("a")}).items():
            self.files[name].write_text(text)
        self.flow_file = next(iter(self.files.values()))
        self.key = Ed25519PrivateKey.generate()
        trusted = tmp_path / "trusted-keys"
        trusted.write_text(keys.TrustedKey(self.key.public_key(), "ci").line() + "\n")
        self.config = DeviceConfig(device_id="pump-7", topic_prefix=PREFIX,
                                   host="127.0.0.1", port=broker.port, tls=False,
                                   trusted_keys=(trusted,), health=gate)
        self.restart()

    def restart(self) -> None:
        """A new engine, deploy service and agent on the same files and state (as the
        next start of the process), recovered as ``portless run --fleet`` does."""
        engine = Engine(REGISTRY, state_dir=self.tmp_path / "state")
        self.deploys = DeployService(engine, REGISTRY, list(self.files.values()))
        self.agent = DeviceAgent(self.config, self.deploys)
        self.agent.recover(self.tmp_path / "state")

    def bundle(self, version: int, content: str = "", rollback: bool = False,
               key: Ed25519PrivateKey | None = None, files: dict[str, str] | None = None
               ) -> bytes:
        """A signed bundle of ``files`` (by default valves.json holding ``content``)."""
        files = files or {"valves.json": content}
        return sign(Bundle(version=version, rollback=rollback,
                           files=tuple(BundleFile(n, c) for n, c in files.items())),
                    key or self.key)

    def nodes(self) -> list[str]:
        return sorted(self.deploys.engine.nodes)


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


def reports(watcher: Watcher) -> list[dict[str, Any]]:
    return [json.loads(message.payload) for message in watcher.on(REPORTED)]


async def final_report(watcher: Watcher, state: str, version: int | None,
                       after: int = 0) -> dict[str, Any]:
    """Wait for the report that ends a bundle's job, ``state`` for ``version``, among
    the reports from number ``after`` on."""
    async with asyncio.timeout(10):
        while True:
            for report in reports(watcher)[after:]:
                if report["state"] == state and report["version"] == version:
                    return report
            await watcher.wait_for(len(watcher.received) + 1)


async def retained_report(broker: Mosquitto) -> dict[str, Any]:
    """The reported state the broker keeps for a newcomer (an engineer's status)."""
    async with Watcher(broker.port, REPORTED, client_id="newcomer") as late:
        retained = await late.wait_for(1)
    report: dict[str, Any] = json.loads(retained[0].payload)
    return report
