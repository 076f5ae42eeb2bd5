"""Simulated devices for fleet tests: each one a real DeviceAgent with its own MQTT
session, deploy service, engine, flow file and state directory, in the test's process,
and an engineer configuration file for the ``portless fleet`` commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from portless.cli import main
from portless.fleet.device import DeviceAgent
from portless.fleet.device_config import DeviceConfig, HealthGate
from portless.runtime import DeployService, Engine, Registry
from tests.nodetypes import TEST_TYPES

REGISTRY = Registry(TEST_TYPES)
PREFIX = "plant/fleet"
FLOW_NAME = "valves.json"
QUICK = HealthGate(seconds=0.2, max_errors=0)
"""A health gate short enough for tests (the default watches for 30 s)."""


def flow(*ids: str, node_type: str = "test-double") -> str:
    """A flow file of plain nodes (``node_type`` unknown to the registry: invalid)."""
    return json.dumps({"version": 1, "nodes": [
        {"id": i, "type": node_type, "config": {}, "wires": []} for i in ids]}, indent=2)


class SimulatedDevice:
    """One device: its flow file (one node, ``a``), deploy service and agent."""

    def __init__(self, root: Path, device_id: str, trusted: Path, port: int,
                 **broker: Any) -> None:
        self.device_id = device_id
        directory = root / device_id
        directory.mkdir(parents=True)
        self.flow_file = directory / FLOW_NAME
        self.flow_file.write_text(flow("a"))
        self.config = DeviceConfig(device_id=device_id, topic_prefix=PREFIX,
                                   host="127.0.0.1", port=port,
                                   trusted_keys=(trusted,),
                                   **{"tls": False, "health": QUICK, **broker})
        engine = Engine(REGISTRY, state_dir=directory / "state")
        self.deploys = DeployService(engine, REGISTRY, [self.flow_file])
        self.agent = DeviceAgent(self.config, self.deploys, directory / "state")

    @property
    def nodes(self) -> list[str]:
        return sorted(self.deploys.engine.nodes)


@contextlib.asynccontextmanager
async def running(devices: list[SimulatedDevice]) -> AsyncIterator[list[SimulatedDevice]]:
    """Start every device's flows and management link; stop them all afterwards."""
    stop = asyncio.Event()
    tasks = []
    try:
        for device in devices:
            device.deploys.load()
            await device.deploys.start()
            tasks.append(asyncio.create_task(device.agent.run(stop)))
        yield devices
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for device in devices:
            await device.deploys.engine.stop()


def engineer_config(path: Path, port: int, **broker: Any) -> Path:
    """Write an engineer configuration file for the broker on ``port``."""
    path.write_text(json.dumps({"topic_prefix": PREFIX, "broker": {
        "host": "127.0.0.1", "port": port, "tls": False, **broker}}))
    return path



async def fleet(*args: str) -> int:
    """``portless fleet ARGS`` in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(main, ["fleet", *args])
