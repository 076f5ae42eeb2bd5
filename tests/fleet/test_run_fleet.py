"""``portless run --fleet DEVICE.json``: a headless device takes a signed bundle from the
management broker, writes and runs it, and reports it (headless: --no-editor)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portless.cli import main
from tests.e2e.lines import Lines, running_lines
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = [pytest.mark.slow, pytest.mark.broker]  # runs portless as a subprocess
FLOW = {"version": 1, "nodes": [{"id": "show", "type": "debug", "config": {}}]}


@pytest.fixture
def device(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[Lines]:
    """``portless run --fleet`` of valves.json, trusting the key ``signing.pub``."""
    flow_file = tmp_path / "device" / "valves.json"
    flow_file.parent.mkdir()
    flow_file.write_text(json.dumps(FLOW))
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    (tmp_path / "device.json").write_text(json.dumps({
        "device_id": "pump-7", "topic_prefix": "plant",
        "broker": {"host": "127.0.0.1", "port": mosquitto.port, "tls": False},
        "trusted_keys": ["signing.pub"]}))
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flow_file), "--no-editor",
         "--fleet", str(tmp_path / "device.json"), "--state-dir", str(tmp_path / "state")],
        stderr=subprocess.PIPE, text=True)
    with running_lines(process) as lines:  # the "running ... headless" line is taken
        yield lines


async def test_a_device_run_with_fleet_deploys_a_signed_bundle(
        tmp_path: Path, mosquitto: Mosquitto, device: Lines) -> None:
    flow_file = tmp_path / "device" / "valves.json"
    engineer = tmp_path / "engineer"
    engineer.mkdir()
    new = {"version": 1, "nodes": [*FLOW["nodes"],
                                   {"id": "more", "type": "debug", "config": {}}]}
    (engineer / "valves.json").write_text(json.dumps(new))
    assert main(["fleet", "sign", "--key", str(tmp_path / "signing"), "--version", "1",
                 str(engineer / "valves.json"), "-o", str(tmp_path / "bundle.json")]) == 0
    async with Watcher(mosquitto.port, "plant/pump-7/reported") as watcher:
        watcher.client.publish("plant/pump-7/desired",
                               (tmp_path / "bundle.json").read_bytes(), qos=1, retain=True)
        await asyncio.to_thread(device.wait, "fleet: deployed")
        reports = await watcher.wait_for(3)  # received, verified, deployed
    assert json.loads(reports[-1].payload)["state"] == "deployed"
    assert [n["id"] for n in json.loads(flow_file.read_text())["nodes"]] == ["show", "more"]
