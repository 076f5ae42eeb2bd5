"""``portless fleet publish|status|watch|rollback`` against a real mosquitto and
simulated devices (real DeviceAgents) in the same process; the commands run as an
engineer runs them, each in its own thread with its own event loop."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from portless.cli import main
from portless.fleet.engineer_config import load_engineer_config
from tests.fleet.simulated import (
    PREFIX,
    SimulatedDevice,
    engineer_config,
    fleet,
    flow,
    running,
)
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.broker


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c",
                           "user.email=t@example.invalid", *args], check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def commit(repo: Path, text: str) -> str:
    (repo / "valves.json").write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "valves")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def engineer(tmp_path: Path, mosquitto: Mosquitto) -> tuple[Path, Path, Path]:
    """(configuration file, signing key, git repository of the flows)."""
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    repo = tmp_path / "flows"
    repo.mkdir()
    git(repo, "init", "-q")
    return engineer_config(tmp_path / "fleet.json", mosquitto.port), \
        tmp_path / "signing", repo


async def test_publish_watch_status_and_rollback_over_three_devices(
        tmp_path: Path, mosquitto: Mosquitto, engineer: tuple[Path, Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    config, key, repo = engineer
    devices = [SimulatedDevice(tmp_path / "devices", name, key.with_suffix(".pub"),
                               mosquitto.port) for name in ("pump-1", "pump-2", "pump-3")]
    (tmp_path / "ids").write_text("# the pumps\npump-2\n\npump-3\n")
    who = ["--config", str(config), "--device", "pump-1", "--devices", str(tmp_path / "ids")]
    first = commit(repo, flow("a", "b"))
    async with running(devices):
        assert await fleet("publish", *who, "--key", str(key), "--version", "2",
                           str(repo / "valves.json")) == 0
        assert await fleet("watch", *who, "--version", "2",
                           "--timeout", "20") == 0
        watched = capsys.readouterr().out
        assert await fleet("status", "--config", str(config)) == 0
        status = capsys.readouterr().out
        assert [d.nodes for d in devices] == [["a", "b"]] * 3

        second = commit(repo, flow("a", "b", "c"))
        assert await fleet("publish", *who, "--key", str(key), "--version", "3",
                           str(repo / "valves.json")) == 0
        assert await fleet("watch", *who, "--version", "3") == 0
        capsys.readouterr()
        assert await fleet("rollback", *who, "--key", str(key), "--commit", "HEAD~1",
                           str(repo / "valves.json"), "--watch") == 0
        rolled = capsys.readouterr().out
        assert [d.nodes for d in devices] == [["a", "b"]] * 3
        capsys.readouterr()
        assert await fleet("status", "--config", str(config), "--device", "pump-2") == 0
        after_rollback = capsys.readouterr().out
    assert second != first
    for name in ("pump-1", "pump-2", "pump-3"):
        assert f"{name}: published" in watched
        assert f"{name}: deployed version 2" in watched
    assert watched.endswith("3 ended well, 0 failed or rolled back, 0 not done\n")
    lines = status.splitlines()
    assert lines[0].split() == ["DEVICE", "VERSION", "COMMIT", "STATE", "LAST", "SEEN",
                                "REASON"]
    assert [line.split()[:4] for line in lines[1:]] == [
        [name, "2", first[:12], "healthy"] for name in ("pump-1", "pump-2", "pump-3")]
    assert f"rollback bundle: version 4, commit {first}" in rolled  # one above 3
    assert rolled.endswith("3 ended well, 0 failed or rolled back, 0 not done\n")
    assert after_rollback.splitlines()[1].split()[:4] == ["pump-2", "4", first[:12],
                                                          "healthy"]


async def test_a_failed_device_makes_watch_and_status_exit_1_and_say_which(
        tmp_path: Path, mosquitto: Mosquitto, engineer: tuple[Path, Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    config, key, repo = engineer
    devices = [SimulatedDevice(tmp_path / "devices", name, key.with_suffix(".pub"),
                               mosquitto.port) for name in ("pump-1", "pump-2")]
    commit(repo, flow("a", "x", node_type="test-nothing"))
    who = ["--config", str(config), "--device", "pump-1", "--device", "pump-2"]
    async with running(devices):
        assert await fleet("publish", *who, "--key", str(key), "--version", "2",
                           str(repo / "valves.json")) == 0
        assert await fleet("watch", *who, "--version", "2") == 1
        watched = capsys.readouterr().out
        assert await fleet("status", *who, "--device", "pump-9") == 1
        status = capsys.readouterr().out
        assert await fleet("watch", "--config", str(config), "--device", "pump-9",
                           "--version", "2", "--timeout", "0.2") == 3
        timed_out = capsys.readouterr().out
        # refused before its version can be read: publish --watch, following from
        # before it publishes, ends on the failure all the same
        assert await fleet("keygen", "-o", str(tmp_path / "stranger")) == 0
        assert await fleet("sign", "--key", str(tmp_path / "stranger"), "--version", "5",
                           str(repo / "valves.json"), "-o", str(tmp_path / "b.json")) == 0
        assert await fleet("publish", *who, "--bundle", str(tmp_path / "b.json"),
                           "--watch", "--timeout", "20") == 1
        unknown_key = capsys.readouterr().out
        assert [d.nodes for d in devices] == [["a"]] * 2
    assert "pump-1: failed version 2: " in watched
    assert "failed or rolled back: pump-1, pump-2" in watched
    rows = {line.split()[0]: line for line in status.splitlines()[1:3]}
    assert "test-nothing" in rows["pump-1"]
    assert "failed (version 2)" in rows["pump-1"]
    assert "pump-9  -" in status
    assert "3 of 3 device(s) failed, rolled back or never reported: pump-1, pump-2, " \
           "pump-9" in status
    assert "pump-9: no report" in timed_out
    assert "which this device does not trust" in unknown_key
    assert "failed or rolled back: pump-1, pump-2" in unknown_key
    assert "not done after 0.2 s: pump-9" in timed_out


def test_an_engineer_configuration_is_read_like_a_device_configuration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FLEET_PASSWORD", "s3cret")
    path = engineer_config(tmp_path / "fleet.json", 8883, tls=True, ca_file="ca.pem",
                           username="engineer", password_env="FLEET_PASSWORD")
    config = load_engineer_config(path)
    assert (config.password, config.ca_file, config.tls) == ("s3cret", tmp_path / "ca.pem",
                                                             True)
    assert config.topic("pump-7", "desired") == f"{PREFIX}/pump-7/desired"
    bad = json.loads(path.read_text())
    bad["broker"]["password"] = "inline"
    path.write_text(json.dumps(bad))
    assert main(["fleet", "status", "--config", str(path)]) == 2
    assert "broker: unknown password" in capsys.readouterr().err
    good = engineer_config(tmp_path / "good.json", 8883)
    assert main(["fleet", "publish", "--config", str(good), "--device", "a/b",
                 "--bundle", "x"]) == 2
    assert "device id 'a/b'" in capsys.readouterr().err
    assert main(["fleet", "watch", "--config", str(good), "--version", "1"]) == 2
    assert "name the devices" in capsys.readouterr().err


async def test_an_unreachable_broker_is_exit_2_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.mosquitto import free_port
    port = free_port()
    config = engineer_config(tmp_path / "fleet.json", port)
    assert await fleet("status", "--config", str(config)) == 2
    assert f"cannot reach the management broker 127.0.0.1 port {port}" in \
        capsys.readouterr().err
