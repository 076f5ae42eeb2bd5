"""The health gate, through the device agent against a real mosquitto: a deploy passes
when its connections connect and its nodes stay quiet, and is rolled back by itself,
with the reason, when a connection stays down or its nodes raise too often."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.fleet.device_config import HealthGate
from tests.fleet.device_harness import (
    REPORTED,
    Device,
    final_report,
    flow,
    publish_desired,
    running,
)
from tests.mosquitto import Mosquitto, free_port
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker
SECONDS = 0.5


def broker(port: int) -> dict[str, Any]:
    return {"id": "plant-broker", "type": "mqtt-broker",
            "config": {"host": "127.0.0.1", "port": port, "reconnect_min_delay": 0.05}}


def booms() -> dict[str, Any]:
    """An inject that sends "boom" to test-double "a" (which raises on it) every 10 ms."""
    return {"id": "boomer", "type": "inject", "config": {
        "properties": [{"property": "payload", "value": {"kind": "string", "value": "boom"}}],
        "once": True, "once_delay": 0, "repeat": "interval", "interval": 0.01},
        "wires": [["a"]]}


@pytest.mark.parametrize(("case", "state", "reason"), [
    ("connected", "healthy", None),
    ("broker down", "rolled back", "not connected after 0.5 s: connection plant-broker: "),
    ("errors", "rolled back", "node errors within 0.5 s, more than the 3 allowed (a "),
])
async def test_the_gate_keeps_a_healthy_deploy_and_rolls_back_an_unhealthy_one(
        tmp_path: Path, mosquitto: Mosquitto, case: str, state: str, reason: str | None
        ) -> None:
    device = Device(tmp_path, mosquitto, gate=HealthGate(seconds=SECONDS, max_errors=3))
    extra = {"connected": (broker(mosquitto.port),), "broker down": (broker(free_port()),),
             "errors": (booms(),)}[case]
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(2, flow("a")))
        await final_report(watcher, "healthy", 2)
        await publish_desired(mosquitto, device.bundle(3, flow("a", extra=extra)))
        deployed = await final_report(watcher, "deployed", 3)
        report = await final_report(watcher, state, 3)
        nodes = device.nodes()
    gate_seconds = report["at"] - deployed["at"]  # by the device's clock, to the ms
    known_good = json.loads((device.agent.directory / "known-good.json").read_bytes())
    if reason is None:
        assert SECONDS - 0.002 <= gate_seconds < SECONDS + 2
        assert report["running"]["version"] == known_good["version"] == 3
        assert nodes == sorted(["a", extra[0]["id"]])
        return
    assert reason in report["reason"]
    assert report["running"]["version"] == known_good["version"] == 2
    assert gate_seconds < SECONDS + 2
    if case == "errors":  # the fourth error ends the gate: no need to wait it out
        assert gate_seconds < SECONDS
    assert nodes == ["a"]
    assert json.loads(device.flow_file.read_text()) == json.loads(flow("a"))


async def test_a_gate_of_0_s_checks_only_that_every_node_started(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    device = Device(tmp_path, mosquitto, gate=HealthGate(seconds=0))
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(2, flow("a", extra=(
            broker(free_port()),))))  # no time to connect: not judged
        await final_report(watcher, "healthy", 2)
        await publish_desired(mosquitto, device.bundle(3, flow("a", device="missing")))
        report = await final_report(watcher, "rolled back", 3)
    assert "node dev failed to start" in report["reason"]
