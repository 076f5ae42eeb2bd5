"""``portless fleet keys|revoke --device DEVICE.json`` on a device's own files, a revoked
key's bundles refused by a running device (real mosquitto), and no private key read on
the device side."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import portless.fleet
from portless.cli import main
from portless.fleet import keys
from tests.fleet import device_harness as harness
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher


def device_file(tmp_path: Path, *key_files: str) -> Path:
    """A device configuration naming ``key_files``; its password variable is not set
    (keys and revoke never reach the broker)."""
    path = tmp_path / "device.json"
    path.write_text(json.dumps({
        "device_id": "pump-7", "topic_prefix": "plant",
        "broker": {"host": "127.0.0.1", "port": 8883, "password_env": "FLEET_KEYS_UNSET"},
        "trusted_keys": list(key_files)}))
    return path


def public_line(comment: str) -> tuple[str, str]:
    """(key id, trusted-keys line) of a new key."""
    trusted = keys.TrustedKey(Ed25519PrivateKey.generate().public_key(), comment)
    return trusted.key_id, trusted.line()


def test_keys_lists_each_trusted_key_with_its_comment_and_place(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (alice, alice_line), (ci, ci_line) = public_line("alice@plant"), public_line("")
    (tmp_path / "team").write_text(f"# the team\n\n{alice_line}\n")
    (tmp_path / "ci").write_text(f"{ci_line}\n")
    assert main(["fleet", "keys", "--device", str(device_file(tmp_path, "team", "ci"))]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{alice}  alice@plant  {tmp_path / 'team'}:3", f"{ci}  -  {tmp_path / 'ci'}:1"]


def test_revoke_removes_the_line_keeps_the_rest_and_refuses_the_last_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (alice, alice_line), (bob, bob_line) = public_line("alice"), public_line("bob")
    team = tmp_path / "team"
    team.write_text(f"# the team\n{alice_line}\n{bob_line}\n")
    team.chmod(0o640)
    config = str(device_file(tmp_path, "team"))
    assert main(["fleet", "revoke", "--device", config, "0" * 32]) == 1
    assert "no trusted key 00000000000000000000000000000000" in capsys.readouterr().err
    assert main(["fleet", "revoke", "--device", config, alice]) == 0
    assert capsys.readouterr().out == f"{team}:2: removed {alice} (alice)\n"
    assert team.read_text() == f"# the team\n{bob_line}\n"
    assert team.stat().st_mode & 0o777 == 0o640  # rewritten in place of the old file
    assert main(["fleet", "revoke", "--device", config, bob]) == 1
    assert "is the last key this device trusts" in capsys.readouterr().err
    assert team.read_text() == f"# the team\n{bob_line}\n"
    assert main(["fleet", "revoke", "--device", config, bob, "--force"]) == 0
    assert team.read_text() == "# the team\n"
    assert not list(tmp_path.glob(".team.*"))  # no temp file left behind


def test_a_private_key_among_the_trusted_keys_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    capsys.readouterr()
    assert main(["fleet", "keys", "--device", str(device_file(tmp_path, "signing"))]) == 2
    assert "holds a private key; a device trusts public keys only" in capsys.readouterr().err


def fleet_imports(module: str, seen: set[str]) -> set[str]:
    """The portless.fleet modules ``module`` imports, and theirs in turn."""
    seen.add(module)
    tree = ast.parse((Path(portless.fleet.__file__).parent / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif (node.module or "").startswith("portless.fleet."):
                names = [(node.module or "").removeprefix("portless.fleet.")]
            else:
                continue
            for name in names:
                if name not in seen and (Path(portless.fleet.__file__).parent
                                         / f"{name}.py").exists():
                    fleet_imports(name, seen)
    return seen


def test_no_code_of_the_device_side_reads_a_private_key() -> None:
    """``portless run --fleet`` loads portless.fleet.device (and ``fleet keys|revoke``
    device_keys); nothing they import calls the one function that reads a private key."""
    device_side = fleet_imports("device", set()) | fleet_imports("device_keys", set())
    folder = Path(portless.fleet.__file__).parent
    readers = {module for module in device_side
               if "load_private(" in (folder / f"{module}.py").read_text()
               .replace("def load_private(", "")}
    assert {"device", "remote_device", "chunks", "health"} <= device_side
    assert readers == set()
    assert "signing" not in device_side


@pytest.mark.broker
async def test_a_running_device_refuses_a_revoked_keys_bundles(
        tmp_path: Path, mosquitto: Mosquitto) -> None:
    device = harness.Device(tmp_path, mosquitto)
    second = Ed25519PrivateKey.generate()
    trusted = tmp_path / "trusted-keys"
    with trusted.open("a") as handle:
        handle.write(keys.TrustedKey(second.public_key(), "laptop").line() + "\n")
    config = str(device_file(tmp_path, "trusted-keys"))
    async with Watcher(mosquitto.port, harness.REPORTED) as watcher, harness.running(device):
        await harness.publish_desired(mosquitto, device.bundle(2, harness.flow("a", "b"),
                                                               key=second))
        before = await harness.final_report(watcher, "healthy", 2)
        assert main(["fleet", "revoke", "--device", config,
                     keys.key_id(second.public_key())]) == 0
        await harness.publish_desired(mosquitto, device.bundle(3, harness.flow("a"), key=second))
        refused = await harness.final_report(watcher, "failed", None)
        # the device's other key still signs
        await harness.publish_desired(mosquitto, device.bundle(4, harness.flow("a")))
        await harness.final_report(watcher, "healthy", 4)
    assert before["running"]["version"] == 2
    assert f"signed by key {keys.key_id(second.public_key())}, which this device does " \
           f"not trust" in refused["reason"]
