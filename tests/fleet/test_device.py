"""The device side against a real mosquitto: a retained desired bundle is verified,
deployed, passes its health gate and is reported; refused ones are reported with the
reason and change nothing; one that fails after its deploy began is rolled back, all
of it, to the last known-good bundle."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.fleet import keys
from portless.fleet.device_config import HealthGate
from tests.fleet.device_harness import (
    REPORTED,
    Device,
    final_report,
    flow,
    publish_desired,
    reports,
    retained_report,
    running,
)
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker


@pytest.fixture
def device(tmp_path: Path, mosquitto: Mosquitto) -> Device:
    return Device(tmp_path, mosquitto)


def state_files(device: Device) -> list[str]:
    return sorted(path.name for path in device.agent.directory.iterdir())


async def test_a_device_offline_at_publish_deploys_the_retained_bundle_and_reports_it(
        device: Device, mosquitto: Mosquitto) -> None:
    await publish_desired(mosquitto, device.bundle(2, flow("a", "b")))
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        report = await final_report(watcher, "healthy", 2)
        nodes = device.nodes()
    assert [r["state"] for r in reports(watcher)][-4:] == [
        "received", "verified", "deployed", "healthy"]
    assert report["running"]["version"] == 2
    assert nodes == ["a", "b"]
    assert json.loads(device.flow_file.read_text())["nodes"][1]["id"] == "b"
    assert (device.agent.directory / "staged.json").read_bytes() == device.bundle(
        2, flow("a", "b"))
    known_good = json.loads((device.agent.directory / "known-good.json").read_bytes())
    assert known_good["version"] == 2
    assert known_good["files"] == {"valves.json": flow("a", "b")}
    assert "deploying.json" not in state_files(device)
    assert (await retained_report(mosquitto))["state"] == "healthy"


def unsigned(data: bytes) -> bytes:
    document = json.loads(data)
    del document["signature"], document["key_id"]
    return json.dumps(document).encode()


def signed_by_another_under_our_key_id(device: Device) -> bytes:
    document = json.loads(device.bundle(3, flow("x"), key=Ed25519PrivateKey.generate()))
    document["key_id"] = keys.key_id(device.key.public_key())
    return json.dumps(document).encode()


@pytest.mark.parametrize(("case", "reason"), [
    ("unknown key", "which this device does not trust"),
    ("tampered", "does not match its sha256 (tampered or damaged)"),
    ("unsigned", "the bundle: missing key_id, signature"),
    ("bad signature", "bad signature"),
    ("replayed", "version 1 is not newer than version 2, which runs"),
    ("invalid flow", "test-nothing"),
])
async def test_a_refused_bundle_is_reported_failed_with_the_reason_and_changes_nothing(
        device: Device, mosquitto: Mosquitto, case: str, reason: str) -> None:
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(2, flow("a", "b")))
        await final_report(watcher, "healthy", 2)
        bad = {
            "unknown key": lambda: device.bundle(3, flow("x"), key=Ed25519PrivateKey
                                                 .generate()),
            "tampered": lambda: device.bundle(3, flow("x")).replace(b'\\"x\\"', b'\\"y\\"'),
            "unsigned": lambda: unsigned(device.bundle(3, flow("x"))),
            "bad signature": lambda: signed_by_another_under_our_key_id(device),
            "replayed": lambda: device.bundle(1, flow("x")),
            "invalid flow": lambda: device.bundle(3, flow("x").replace("test-double",
                                                                        "test-nothing")),
        }[case]()
        seen = len(reports(watcher))
        await publish_desired(mosquitto, bad)
        version = 1 if case == "replayed" else 3 if case == "invalid flow" else None
        report = await final_report(watcher, "failed", version, after=seen)
        nodes = device.nodes()
    assert reason in report["reason"]
    assert report["running"]["version"] == 2
    assert nodes == ["a", "b"]
    assert "deployed" not in [r["state"] for r in reports(watcher)[seen:]]
    retained = await retained_report(mosquitto)
    assert (retained["state"], retained["reason"]) == ("failed", report["reason"])


async def test_a_signed_rollback_to_an_older_version_is_deployed(
        device: Device, mosquitto: Mosquitto) -> None:
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(5, flow("a", "b")))
        await final_report(watcher, "healthy", 5)
        await publish_desired(mosquitto, device.bundle(4, flow("a"), rollback=True))
        report = await final_report(watcher, "healthy", 4)
        nodes = device.nodes()
    assert report["running"]["version"] == 4
    assert nodes == ["a"]


async def test_a_later_file_failing_rolls_the_whole_bundle_back_and_is_not_tried_again(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    device = Device(tmp_path, mosquitto, files={"pumps.json": flow("p"),
                                                "valves.json": flow("a")})
    good = {"pumps.json": flow("p", "q"), "valves.json": flow("a", "b")}
    bad = {"pumps.json": flow("p", "q", "r"), "valves.json": flow("a", device="missing")}
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(2, files=good))
        await final_report(watcher, "healthy", 2)
        await publish_desired(mosquitto, device.bundle(3, files=bad))
        report = await final_report(watcher, "rolled back", 3)
        nodes = device.nodes()
        on_disk = {name: json.loads(path.read_text()) for name, path in device.files.items()}
        seen = len(reports(watcher))
        await publish_desired(mosquitto, device.bundle(3, files=bad))  # seen again
        again = await final_report(watcher, "rolled back", 3, after=seen)
        await publish_desired(mosquitto, device.bundle(4, files={
            "pumps.json": flow("p", "r"), "valves.json": flow("a", "c")}))
        await final_report(watcher, "healthy", 4)
        later = device.nodes()
    assert "node dev failed to start: OSError: no such device" in report["reason"]
    assert report["running"]["version"] == 2
    assert nodes == ["a", "b", "p", "q"]  # pumps.json's r, deployed first, went again
    assert on_disk == {name: json.loads(text) for name, text in good.items()}
    assert again["reason"] == report["reason"]
    assert "deployed" not in [r["state"] for r in reports(watcher)[seen:-3]]
    assert later == ["a", "c", "p", "r"]


async def test_a_first_bundle_that_fails_goes_back_to_the_files_from_before_it(
        device: Device, mosquitto: Mosquitto) -> None:
    before = device.flow_file.read_text()
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(1, flow("a", device="missing")))
        report = await final_report(watcher, "rolled back", 1)
        nodes = device.nodes()
    assert report["running"] is None
    assert nodes == ["a"]
    assert json.loads(device.flow_file.read_text()) == json.loads(before)


async def test_a_deploy_cut_short_starts_next_time_on_the_last_known_good_bundle(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    """In one process: the agent stopped during the health gate of version 3 (as a
    SIGTERM does; test_run_fleet.py kills a real process), then started again."""
    device = Device(tmp_path, mosquitto)
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        await publish_desired(mosquitto, device.bundle(2, flow("a", "b")))
        await final_report(watcher, "healthy", 2)
        device.agent.config = replace(device.config, health=HealthGate(seconds=600))
        applying = asyncio.create_task(device.agent.apply(device.bundle(3, flow("a", "c"))))
        await final_report(watcher, "deployed", 3)
        applying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await applying
    assert json.loads(device.flow_file.read_text())["nodes"][1]["id"] == "c"
    device.restart()
    assert json.loads(device.flow_file.read_text()) == json.loads(flow("a", "b"))
    async with Watcher(mosquitto.port, REPORTED) as watcher, running(device):
        report = await final_report(watcher, "rolled back", 3)
        nodes = device.nodes()
    assert "version 3 was being deployed (health gate) when the device stopped" \
        in report["reason"]
    assert "started on the last known-good version 2" in report["reason"]
    assert report["running"]["version"] == 2
    assert nodes == ["a", "b"]


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
            async with Watcher(mosquitto.port, REPORTED) as watcher:
                report = await final_report(watcher, "healthy", 2)
    finally:
        logging.getLogger("portless.fleet").removeHandler(seen)
    assert report["running"]["version"] == 2
