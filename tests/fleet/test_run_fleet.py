"""``portless run --fleet DEVICE.json`` as a real process: a signed bundle deployed and
found healthy, the process SIGKILLed in the middle of the next deploy, a fix published
while it is down, and the next start on the last known-good flows, reported, before it
takes the fix."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portless.cli import main
from portless.runtime import canonical_text
from tests.e2e.lines import Lines, running_lines
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

pytestmark = [pytest.mark.slow, pytest.mark.broker]  # runs portless as a subprocess
DESIRED, REPORTED = "plant/pump-7/desired", "plant/pump-7/reported"
GATE_SECONDS = 1.0


def flow(*ids: str, stuck: bool = False) -> dict[str, Any]:
    """Debug nodes; ``stuck``: also a function node whose setup says "starting" and then
    never ends, so a deploy of it is under way for as long as the test likes."""
    nodes: list[dict[str, Any]] = [{"id": i, "type": "debug", "config": {}} for i in ids]
    if stuck:
        nodes.append({"id": "stuck", "type": "function", "config": {
            "setup": "import asyncio\nnode.warn('starting')\nawait asyncio.Event().wait()"}})
    return {"version": 1, "nodes": nodes}


def start(tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(tmp_path / "device"), "--no-editor",
         "--fleet", str(tmp_path / "device.json"), "--state-dir", str(tmp_path / "state")],
        stderr=subprocess.PIPE, text=True)


def sign(tmp_path: Path, version: int, files: dict[str, dict[str, Any]]) -> bytes:
    engineer = tmp_path / f"engineer-{version}"
    engineer.mkdir()
    for name, document in files.items():
        (engineer / name).write_text(json.dumps(document))
    out = tmp_path / f"bundle-{version}.json"
    assert main(["fleet", "sign", "--key", str(tmp_path / "signing"), "--version",
                 str(version), *(str(engineer / name) for name in files), "-o",
                 str(out)]) == 0
    return out.read_bytes()


def on_disk(tmp_path: Path) -> dict[str, dict[str, Any]]:
    return {name: json.loads((tmp_path / "device" / name).read_text())
            for name in ("pumps.json", "valves.json")}


def states(watcher: Watcher) -> list[tuple[str, int | None]]:
    """(state, version) of each report so far."""
    return [(report["state"], report["version"])
            for report in map(json.loads, (m.payload for m in watcher.received))]


def fleet_state(tmp_path: Path, name: str) -> Any:
    found = list((tmp_path / "state").glob(f"*/fleet/{name}"))
    return json.loads(found[0].read_text()) if found else None


async def test_a_device_killed_mid_deploy_starts_on_the_last_known_good_bundle(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    (tmp_path / "device").mkdir()
    for name, document in {"pumps.json": flow("p"), "valves.json": flow("v")}.items():
        (tmp_path / "device" / name).write_text(json.dumps(document))
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    (tmp_path / "device.json").write_text(json.dumps({
        "device_id": "pump-7", "topic_prefix": "plant",
        "broker": {"host": "127.0.0.1", "port": mosquitto.port, "tls": False},
        "trusted_keys": ["signing.pub"], "health": {"seconds": GATE_SECONDS}}))
    good = {"pumps.json": flow("p", "p2"), "valves.json": flow("v", "v2")}
    cut = {"pumps.json": flow("p", "p3", "p5"), "valves.json": flow("v", stuck=True)}
    fix = {"pumps.json": flow("p", "p4"), "valves.json": flow("v", "v4")}

    async with Watcher(mosquitto.port, REPORTED) as watcher:
        process = start(tmp_path)
        assert process.stderr is not None
        lines = Lines(process.stderr)
        try:
            await asyncio.to_thread(lines.wait, "running")
            watcher.client.publish(DESIRED, sign(tmp_path, 2, good), qos=1, retain=True)
            await asyncio.to_thread(lines.wait, "fleet: healthy 2")
            watcher.client.publish(DESIRED, sign(tmp_path, 3, cut), qos=1, retain=True)
            await asyncio.to_thread(lines.wait, "node stuck: starting")
        finally:
            process.kill()
            process.wait()
            lines.close()
        killed_files = on_disk(tmp_path)
        killed_marker = fleet_state(tmp_path, "deploying.json")
        killed_good = fleet_state(tmp_path, "known-good.json")
        killed_running = fleet_state(tmp_path, "running.json")
        async with Watcher(mosquitto.port, client_id="engineer") as engineer:
            engineer.client.publish(DESIRED, sign(tmp_path, 4, fix), qos=1, retain=True)
        with running_lines(start(tmp_path)) as restarted:
            started = restarted.seen[-1]
            await watcher.wait_until(lambda: ("healthy", 4) in states(watcher))

    reports = [json.loads(m.payload) for m in watcher.received]
    deployed = reports[states(watcher).index(("deployed", 2))]
    healthy = reports[states(watcher).index(("healthy", 2))]
    assert GATE_SECONDS - 0.002 <= healthy["at"] - deployed["at"] < GATE_SECONDS + 2
    # Killed while valves.json's new nodes were starting: both files hold version 3
    # (each whole), the marker says a deploy was under way, known-good is version 2.
    assert killed_files == {name: json.loads(canonical_text(document))
                            for name, document in cut.items()}
    assert killed_marker["version"] == 3
    assert killed_running["version"] == 2  # not all of version 3 was deployed
    assert killed_good["version"] == 2
    # The next start ran version 2's flows (4 nodes; version 3 has 5), said why, and
    # then took version 4, published while it was down.
    assert ": 4 nodes" in started
    rolled = states(watcher).index(("rolled back", 3))
    assert "version 3 was being deployed (deploying) when the device stopped (killed, a " \
           "power cut, or a stop before its health gate passed); started on the last " \
           "known-good version 2" in reports[rolled]["reason"]
    assert reports[rolled]["running"]["version"] == 2
    assert ("deployed", 3) not in states(watcher)
    assert [r["state"] for r in reports[rolled + 1:] if r["version"] == 4] == [
        "verified", "deployed", "healthy"]
    assert on_disk(tmp_path) == {name: json.loads(canonical_text(document))
                                 for name, document in fix.items()}
    assert fleet_state(tmp_path, "known-good.json")["version"] == 4
    assert fleet_state(tmp_path, "deploying.json") is None
