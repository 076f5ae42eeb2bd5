"""The README's path as real processes: a commit published with ``portless fleet publish
--watch`` (in chunks) to a ``portless run --fleet`` device over TLS with passwords from
the environment and the shipped ACL; the device runs it, healthy, and ``portless fleet
status`` says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from portless.cli import main
from tests.e2e.lines import running_lines
from tests.fleet.test_broker_acl import ACL
from tests.mosquitto import Mosquitto

pytestmark = [pytest.mark.slow, pytest.mark.broker]  # runs portless as subprocesses
PASSWORDS = {"engineer": "engineer-secret", "pump-7": "pump-7-secret"}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c",
                           "user.email=t@example.invalid", *args], check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def fleet(*args: str, password: str) -> subprocess.CompletedProcess[str]:
    """``portless fleet ARGS`` as an engineer runs it, the password in the environment."""
    return subprocess.run([sys.executable, "-m", "portless", "fleet", *args],
                          env={**os.environ, "FLEET_PASSWORD": password},
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_commit_published_in_chunks_runs_healthy_on_a_real_device(
        tmp_path: Path, mosquitto_factory: Callable[..., Mosquitto]) -> None:
    broker = mosquitto_factory("secured", users=PASSWORDS, acl=ACL.read_text(), tls=True)
    assert broker.tls_files is not None
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    shutil.copy(broker.tls_files.ca_file, tmp_path / "ca.pem")
    section = {"host": "127.0.0.1", "port": broker.tls_port, "ca_file": "ca.pem",
               "password_env": "FLEET_PASSWORD"}
    (tmp_path / "device.json").write_text(json.dumps({
        "device_id": "pump-7", "topic_prefix": "plant/fleet",
        "broker": {**section, "username": "pump-7"}, "trusted_keys": ["signing.pub"],
        "health": {"seconds": 0.3}}))
    (tmp_path / "fleet.json").write_text(json.dumps({
        "topic_prefix": "plant/fleet", "broker": {**section, "username": "engineer"}}))
    (tmp_path / "device").mkdir()
    (tmp_path / "device" / "valves.json").write_text(json.dumps(
        {"version": 1, "nodes": [{"id": "show", "type": "debug", "config": {}}]}))
    repo = tmp_path / "flows"
    repo.mkdir()
    git(repo, "init", "-q")
    nodes = [{"id": f"show-{i}", "type": "debug", "config": {}} for i in range(60)]
    (repo / "valves.json").write_text(json.dumps({"version": 1, "nodes": nodes}, indent=2))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "valves")
    device = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(tmp_path / "device"), "--no-editor",
         "--fleet", str(tmp_path / "device.json"), "--state-dir", str(tmp_path / "state")],
        env={**os.environ, "FLEET_PASSWORD": PASSWORDS["pump-7"]}, stderr=subprocess.PIPE,
        text=True)
    with running_lines(device):
        published = fleet(
            "publish", "--config", str(tmp_path / "fleet.json"), "--device", "pump-7",
            "--key", str(tmp_path / "signing"), "--version", "1", "--chunk-size", "2048",
            str(repo / "valves.json"), "--watch", "--timeout", "30",
            password=PASSWORDS["engineer"])
        status = fleet("status", "--config", str(tmp_path / "fleet.json"),
                       password=PASSWORDS["engineer"])
        running = json.loads((tmp_path / "device" / "valves.json").read_text())
    assert published.returncode == 0, published.stdout + published.stderr
    assert "pump-7: published in 3 chunks" in published.stdout
    assert "pump-7: healthy version 1" in published.stdout
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[1].split()[:4] == [
        "pump-7", "1", git(repo, "rev-parse", "HEAD")[:12], "healthy"]
    assert [node["id"] for node in running["nodes"]] == [node["id"] for node in nodes]
    assert len(json.loads((repo / "valves.json").read_text())["nodes"]) == 60
    assert PASSWORDS["engineer"] not in published.stdout + published.stderr
