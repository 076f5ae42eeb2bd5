"""`portless run flows/`: one process runs every flow file in a directory, each a tab;
a connection in one file is used from another; each file is deployed on its own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import atomic_write
from tests.e2e.lines import Lines, running_lines, stop
from tests.e2e.test_editor_server import Running, request, wait_listening
from tests.mosquitto import free_port

pytestmark = pytest.mark.slow  # runs portless as a subprocess


def network(port: int) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "plant", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, "reconnect_min_delay": 60}}]}


def valve(threshold: float) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "flow-rate", "type": "io-in", "config": {"interval": 3600},
         "wires": [["deadband"]]},
        {"id": "deadband", "type": "exception-filter", "config": {"band": threshold},
         "wires": [["publish"]]},
        {"id": "publish", "type": "mqtt-out",
         "config": {"broker": "plant", "topic": "valve/flow"}}]}


def write(path: Path, document: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(document, indent=2).encode())


def portless(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "portless", "run", *args, "--no-editor"],
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    directory = tmp_path / "flows"
    directory.mkdir()
    write(directory / "network.json", network(free_port()))
    write(directory / "valve.json", valve(1.0))
    return directory


@pytest.fixture
def running(flows: Path, tmp_path: Path) -> Iterator[Lines]:
    process = portless(str(flows), "--reload", "--state-dir", str(tmp_path / "state"))
    with running_lines(process) as lines:
        yield lines


def test_every_file_runs_with_its_own_state_and_deploys_on_its_own(
        flows: Path, tmp_path: Path, running: Lines) -> None:
    states = [line for line in running.seen if " state of " in line]
    assert [line.split(" state of ")[1].split(" in ")[0] for line in states] == [
        str(flows / "network.json"), str(flows / "valve.json")]
    assert running.seen[-1].endswith(": 4 nodes, headless (no listening sockets)")
    # A git pull changes one file: only its changed node restarts.
    write(flows / "valve.json", valve(2.5))
    assert running.wait("deployed").endswith(
        f"{flows / 'valve.json'}: deployed (1 stopped, 1 started, 0 failed, 3 unchanged)")
    # Another process cannot run one of those files meanwhile (its outbox is in use).
    second = subprocess.run(
        [sys.executable, "-m", "portless", "run", str(flows / "network.json"),
         "--no-editor", "--state-dir", str(tmp_path / "state")],
        capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "is in use by another portless process" in second.stderr


def test_a_node_id_in_two_files_stops_the_start_naming_both(flows: Path,
                                                            tmp_path: Path) -> None:
    write(flows / "copy.json", {"version": 1, "nodes": [
        {"id": "deadband", "type": "exception-filter"}]})
    process = portless(str(flows), "--state-dir", str(tmp_path / "state"))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr.strip() == (
        f"{flows / 'valve.json'}: node deadband: /id: duplicate id: node 'deadband' is "
        f"also in {flows / 'copy.json'}; node ids are unique across the flow files of a "
        f"process")


def test_validate_checks_the_files_of_a_directory_together_with_tabs(flows: Path) -> None:
    def validate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "portless", "validate", *args],
                              capture_output=True, text=True, timeout=60)

    together = validate("--tabs", str(flows))
    assert together.returncode == 0, together.stderr
    assert together.stdout.strip() == \
        f"{flows / 'network.json'}, {flows / 'valve.json'}: valid together"
    alone = validate(str(flows / "valve.json"))  # its broker is in the other file
    assert alone.returncode == 1
    assert "refers to missing mqtt-broker 'plant'" in alone.stderr


def test_the_editor_of_a_directory_run_lists_and_deploys_each_tab(
        flows: Path, tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flows), "--editor-port", str(port),
         "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stderr is not None
    lines = Lines(process.stderr)
    try:
        token = process.stdout.readline().strip().rsplit("?token=", 1)[1]
        lines.wait("editor on 127.0.0.1")
        wait_listening(Running(process, port, token))
        headers = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {token}"}
        listed = json.loads(request(port, "/api/tabs", headers).body)["tabs"]
        assert [tab["name"] for tab in listed] == ["network", "valve"]
        body = json.dumps(valve(4.0)).encode()
        answer = request(port, "/api/tabs/valve", {**headers, "If-Match": listed[1]["etag"],
                                                   "Content-Type": "application/json"},
                         method="PUT", body=body)
        assert answer.status == 200, answer.body
        assert json.loads(answer.body)["started"] == ["deadband"]
        assert lines.wait("deployed").endswith(
            f"{flows / 'valve.json'}: deployed (1 stopped, 1 started, 0 failed, 3 unchanged)")
    finally:
        stop(process)
        process.stdout.close()
        lines.close()

