"""The ``portless`` command as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portless.runtime.state import flow_state_dir
from tests.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.slow  # each test runs portless as a subprocess

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "flows" / "demo.json"


def portless(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portless", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def test_version() -> None:
    result = portless("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("portless ")


@pytest.mark.parametrize("command", ["run", "validate", "fmt", "nodes", "docs", "edit",
                                     "import-node-red", "sparkplug watch", "fleet publish",
                                     "fleet revoke"])
def test_every_command_has_help(command: str) -> None:
    result = portless(*command.split(), "--help")
    assert result.returncode == 0
    assert f"usage: portless {command}" in result.stdout


def test_building_the_parser_imports_nothing_only_some_commands_need() -> None:
    """Every command builds the whole parser: cryptography (fleet), protobuf (Sparkplug),
    aiohttp (http-request) and the Node-RED converter are for the commands that use them,
    not something each headless start pays for in time and memory."""
    heavy = ["aiohttp", "cryptography", "google.protobuf", "portless.node_red_import.convert"]
    probe = (f"import sys; from portless.cli import build_parser; build_parser(); "
             f"print([name for name in {heavy!r} if name in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_validate_accepts_the_shipped_flows() -> None:
    flows = sorted(str(p) for p in (ROOT / "flows").glob("*.json"))
    result = portless("validate", *flows)
    assert result.returncode == 0, result.stderr


def test_validate_prints_every_error_one_a_line(write_flow: Callable[..., Path]) -> None:
    path = write_flow({"version": 1, "nodes": [
        {"id": "f", "type": "exception-filter", "config": {"mode": "sometimes"},
         "wires": [["ghost"]]},
        {"id": "x", "type": "io-inn"}]})
    result = portless("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert f"{path}: node f: /wires/0/0: wire to missing node 'ghost'" in lines
    assert f"{path}: node x: /type: unknown node type 'io-inn'; did you mean 'io-in'?" in lines
    assert any(line.startswith(f"{path}: node f: /config/mode: ") for line in lines)


def test_validate_not_json(write_flow: Callable[..., Path]) -> None:
    path = write_flow("{\"version\": 1,, }")
    result = portless("validate", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}: line 1, column 15: not valid JSON")


def test_validate_env_variables(write_flow: Callable[..., Path]) -> None:
    path = write_flow({"version": 1, "nodes": [
        {"id": "t", "type": "io-in", "config": {"topic": "device/${DEVICE_ID}/flow"}}]})
    missing = portless("validate", str(path))
    assert missing.returncode == 1
    assert f"{path}: node t: /config/topic: environment variable DEVICE_ID is not set" \
        in missing.stderr
    assert portless("validate", "--skip-env", str(path)).returncode == 0
    assert portless("validate", str(path), env={"DEVICE_ID": "valve-1"}).returncode == 0


def test_fmt_rewrites_then_is_idempotent_and_check_agrees(tmp_path: Path) -> None:
    messy = tmp_path / "messy.json"
    document = json.loads(DEMO.read_text())
    messy.write_text(json.dumps(document))
    check = portless("fmt", "--check", str(messy))
    assert check.returncode == 1
    assert messy.read_text() == json.dumps(document)  # --check changes nothing
    assert portless("fmt", str(messy)).returncode == 0
    assert messy.read_text() == DEMO.read_text()
    assert portless("fmt", "--check", str(messy)).returncode == 0
    again = portless("fmt", str(messy))
    assert again.returncode == 0
    assert again.stdout == ""


def test_fmt_writes_numbers_as_the_editor_does(write_flow: Callable[..., Path]) -> None:
    path = write_flow('{"version": 1, "nodes": [{"id": "f", "type": "exception-filter", '
                      '"config": {"band": 1.0, "mode": "deadband"}, "x": 1e2, "y": 2.50}]}')
    assert portless("fmt", str(path)).returncode == 0
    text = path.read_text()
    assert '"band": 1,' in text
    assert '"x": 100,\n      "y": 2\n' in text


def test_fmt_refuses_a_file_that_is_not_a_flow(write_flow: Callable[..., Path]) -> None:
    path = write_flow("[1, 2]")
    result = portless("fmt", str(path))
    assert result.returncode == 1
    assert path.read_text() == "[1, 2]"


def test_shipped_flows_are_canonical() -> None:
    flows = sorted(str(p) for p in (ROOT / "flows").glob("*.json"))
    assert portless("fmt", "--check", *flows).returncode == 0


def test_nodes_lists_types_and_json_has_schemas(tmp_path: Path) -> None:
    (tmp_path / "gain.py").write_text(
        "from portless.runtime import Node\nclass Gain(Node):\n    type = 'gain'\n")
    table = portless("nodes", "--nodes-dir", str(tmp_path))
    assert table.returncode == 0
    assert any(line.split()[:4] == ["exception-filter", "function", "1", "1"]
               for line in table.stdout.splitlines())
    assert "gain" in table.stdout
    assert "no http-in, websocket-in, tcp-in or udp-in" in table.stdout  # no listeners
    types = {t["type"]: t for t in json.loads(portless("nodes", "--json").stdout)}
    assert types["io-in"]["inputs"] == 0
    assert types["io-in"]["schema"]["properties"]["signal"]["enum"][-1] == "counter"


def test_subflows_are_node_types_found_beside_the_flow_or_named(tmp_path: Path) -> None:
    shipped = ROOT / "flows" / "subflows"
    described = {t["type"]: t for t in json.loads(
        portless("nodes", "--json", "--subflows", str(shipped)).stdout)}
    report = described["subflow:deadband-report"]
    assert (report["inputs"], report["outputs"], report["category"]) == (1, 1, "subflows")
    assert report["schema"]["properties"]["band"]["minimum"] == 0
    flow = tmp_path / "valves.json"  # no subflows/ beside it: only --subflows finds one
    flow.write_text(json.dumps({"version": 1, "nodes": [
        {"id": "report", "type": "subflow:deadband-report", "config": {"band": -1}},
        {"id": "other", "type": "subflow:deadband-reprt"}]}))
    result = portless("validate", "--skip-env", "--subflows", str(shipped), str(flow))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{flow}: node report: /config/band: must be at least 0",
        # The parameter names a connection (x-ref): checked as the instance's own field.
        f"{flow}: node report: /config/broker: refers to missing mqtt-broker 'plant-broker'",
        f"{flow}: node other: /type: unknown node type 'subflow:deadband-reprt'; "
        f"did you mean 'subflow:deadband-report'?"]


LANES = """from portless.runtime import Node

class Lanes(Node):
    type = "lanes"
    outputs_rule = "one per lane"
    schema = {"type": "object", "properties": {"lanes": {"type": "integer", "default": 3}}}

    @classmethod
    def output_count(cls, config):
        return config["lanes"]
"""


def test_outputs_that_follow_the_config_in_nodes_and_validate(
        tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    (tmp_path / "lanes.py").write_text(LANES)
    types = {t["type"]: t for t in json.loads(
        portless("nodes", "--json", "--nodes-dir", str(tmp_path)).stdout)}
    assert {key: types["lanes"][key] for key in ("outputs", "outputs_from_config",
                                                 "outputs_rule")} == \
        {"outputs": 3, "outputs_from_config": True, "outputs_rule": "one per lane"}
    table = portless("nodes", "--nodes-dir", str(tmp_path)).stdout
    assert any(line.split()[:5] == ["lanes", "function", "1", "config", "(3)"]
               for line in table.splitlines())
    # A hand edit: two lanes left, the wire from the third still there.
    path = write_flow({"version": 1, "nodes": [
        {"id": "split", "type": "lanes", "config": {"lanes": 2},
         "wires": [["show"], ["show"], ["show"]]},
        {"id": "show", "type": "debug"}]})
    result = portless("validate", "--nodes-dir", str(tmp_path), str(path))
    assert result.returncode == 1
    assert result.stderr == (f"{path}: node split: /wires/2: output port 2 does not exist: "
                             f"lanes has 2 output(s) with this config (one per lane)\n")


def test_run_refuses_an_invalid_flow_before_starting(write_flow: Callable[..., Path]) -> None:
    path = write_flow({"version": 1, "nodes": [{"id": "a", "type": "nope"}]})
    result = portless("run", str(path), "--no-editor")
    assert result.returncode == 1
    assert result.stderr.strip() == f"{path}: node a: /type: unknown node type 'nope'"


@pytest.mark.parametrize(("option", "said", "code"), [
    (["--state-dir", "/dev/null"], "cannot use /dev/null/", 1),
    (["--allow-path", "/nonexistent/dir"], "--allow-path /nonexistent/dir: not a directory", 2),
])
def test_run_names_the_option_of_a_directory_it_cannot_use(
        write_flow: Callable[..., Path], option: list[str], said: str, code: int) -> None:
    path = write_flow({"version": 1, "nodes": [{"id": "a", "type": "debug"}]})
    result = portless("run", str(path), "--no-editor", *option)
    assert result.returncode == code
    assert said in result.stderr
    assert "[Errno" not in result.stderr
    assert "Traceback" not in result.stderr
    assert option[0] in result.stderr  # the option to change


def test_a_plugin_with_an_invalid_schema_stops_nothing_else(
        tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    """Reported like a plugin that fails to import: its name and the error; `nodes`
    lists the rest, and `validate` and `run` of a flow that does not use it work."""
    from tests.runtime.test_registry import BAD_SCHEMA_PLUGIN, make_plugin_dist

    site = tmp_path / "site"
    site.mkdir()
    (site / "portless_bad_thermo.py").write_text(BAD_SCHEMA_PLUGIN)
    make_plugin_dist(site, "portless-bad-thermo", "thermo = portless_bad_thermo:Thermo")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    problem = ("plugin portless-bad-thermo (portless_bad_thermo:Thermo): node type "
               "'thermo': config schema is invalid")

    listed = portless("nodes", env=env)
    assert listed.returncode == 1
    assert "exception-filter" in listed.stdout
    assert f"portless: {problem}" in listed.stderr
    assert "Traceback" not in listed.stderr

    unused = write_flow({"version": 1, "nodes": [{"id": "d", "type": "debug"}]})
    validated = portless("validate", str(unused), env=env)
    assert validated.returncode == 0, validated.stderr
    assert problem in validated.stderr
    process, _ = start_headless(unused, tmp_path / "state", env=env)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    assert process.returncode == 0

    used = write_flow({"version": 1, "nodes": [{"id": "t", "type": "thermo"}]}, "used.json")
    refused = portless("validate", str(used), env=env)
    assert refused.returncode == 1
    assert f"{used}: node t: /type: unknown node type 'thermo' (it did not load: " \
           f"{problem}" in refused.stderr


HOSTILE_FLOWS = {
    # name: (flow file text, the error line after "FILE: ")
    "nan": ('{"version": 1, "nodes": [{"id": "c", "type": "io-in", '
            '"config": {"interval": NaN}}]}',
            "node c: /config/interval: must be a finite number"),
    "infinity": ('{"version": 1, "nodes": [{"id": "c", "type": "io-in", '
                 '"config": {"interval": 1e309}}]}',
                 "node c: /config/interval: must be a finite number"),
    "duplicate-key": ('{"version": 1, "nodes": [{"id": "c", "type": "io-in", '
                      '"type": "debug"}]}',
                      "node c: /type: this key appears more than once"),
    "id-newline": ('{"version": 1, "nodes": [{"id": "c\\n", "type": "debug"}]}',
                   "node c\\n: /id: must start with a letter or digit"),
    "surrogate": ('{"version": 1, "nodes": [{"id": "c", "type": "io-in", '
                  '"config": {"topic": "\\ud800"}}]}',
                  "node c: /config/topic: holds a lone UTF-16 surrogate"),
    "nul-filter": ('{"version": 1, "nodes": [{"id": "b", "type": "mqtt-broker", "config": '
                   '{"host": "127.0.0.1"}}, {"id": "i", "type": "mqtt-in", "config": '
                   '{"broker": "b", "topic": "cmd/\\u0000"}}]}',
                   "node i: /config/topic: must be an MQTT topic filter"),
    "deep": ('{"version": 1, "nodes": [{"id": "c", "type": "io-in", "config": '
             '{"x": ' + "[" * 900 + "]" * 900 + '}}]}',
             "node c: /config/x" + "/0" * 28 + ": nested deeper than 32 levels"),
    "big-integer": ('{"version": 1, "nodes": [{"id": "c", "type": "io-in", '
                    '"config": {"interval": ' + "7" * 5000 + "}}]}",
                    "node c: /config/interval: integer out of range"),
}


@pytest.fixture
def hostile_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each hostile flow as a file, with the error line expected for it; plus a FIFO
    (reading it would wait forever) and /dev/zero (endless)."""
    files = {}
    for name, (text, line) in HOSTILE_FLOWS.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        files[name] = (path, f"{path}: {line}")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    files["fifo"] = (fifo, f"{fifo}: not a regular file (a FIFO); give a flow file")
    zero = Path("/dev/zero")
    files["zero"] = (zero, f"{zero}: not a regular file (a character device); give a flow file")
    return files


@pytest.mark.parametrize("command", ["validate", "fmt"])
def test_hostile_flow_files_are_clear_errors(
        command: str, hostile_files: dict[str, tuple[Path, str]]) -> None:
    """Every one in a single call: a clear line each, exit 1, no traceback, no hang;
    fmt leaves each file as it was. (fmt checks a file's shape, not node configs, so a
    NUL in a topic filter, valid JSON text, is validate's and run's to refuse.)"""
    if command == "fmt":
        del hostile_files["nul-filter"]
    result = portless(command, *(str(path) for path, _ in hostile_files.values()))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for name, (_, expected) in hostile_files.items():
        assert any(line.startswith(expected) for line in lines), (name, result.stderr)
    if command == "fmt":
        for name, (path, _) in hostile_files.items():
            if path.is_file():
                assert path.read_text(encoding="utf-8") == HOSTILE_FLOWS[name][0]


def test_run_starts_nothing_from_a_hostile_flow_file(
        tmp_path: Path, hostile_files: dict[str, tuple[Path, str]]) -> None:
    state = tmp_path / "state"
    for name, (path, expected) in hostile_files.items():
        result = subprocess.run(
            [sys.executable, "-m", "portless", "run", str(path), "--no-editor",
             "--state-dir", str(state)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, name
        assert result.stderr.startswith(expected), (name, result.stderr)
        assert "Traceback" not in result.stderr
        assert not state.exists(), name  # nothing started, nothing written


def listening_sockets(pid: int) -> list[str]:
    """Listening TCP sockets owned by a process, from /proc (no tool needed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed while we looked
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.append(fields[1])
    return found


def start_headless(flow: Path, state_dir: Path, env: dict[str, str] | None = None
                   ) -> tuple[subprocess.Popen[str], str]:
    """`portless run FLOW --no-editor` in the background; returns it once it logged
    that it is running, with that log line (stderr stays open for the rest)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flow), "--no-editor",
         "--state-dir", str(state_dir)], stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})})
    assert process.stderr is not None
    for line in process.stderr:
        if "running" in line:
            return process, line
    raise AssertionError(f"portless exited before running (status {process.wait()})")


def test_headless_run_opens_no_socket_and_stops_cleanly_on_sigterm(
        tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    out = tmp_path / "value"
    flow: dict[str, Any] = {"version": 1, "nodes": [
        {"id": "c", "type": "io-in", "config": {"signal": "counter", "interval": 0.01},
         "wires": [["o"]]},
        {"id": "o", "type": "output", "config": {"target": "file", "path": str(out)}}]}
    process, _ = start_headless(write_flow(flow), tmp_path / "state")
    try:
        assert listening_sockets(process.pid) == []
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=20)[1]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "stopped" in rest
    assert "Traceback" not in rest
    assert out.read_text().strip().isdigit()


def test_a_loop_of_wires_does_not_keep_sigterm_from_stopping_the_run(
        tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    band = {"mode": "narrowband", "band": 1e9}
    flow: dict[str, Any] = {"version": 1, "nodes": [
        {"id": "once", "type": "io-in", "config": {"signal": "counter", "interval": 3600},
         "wires": [["ping"]]},
        {"id": "ping", "type": "exception-filter", "config": band, "wires": [["pong"]]},
        {"id": "pong", "type": "exception-filter", "config": band, "wires": [["ping"]]}]}
    # io-in emits once as it starts, so the loop spins by the time "running" is logged.
    process, _ = start_headless(write_flow(flow), tmp_path / "state")
    try:
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=5.0)[1]  # the engine's default stop timeout
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "still queued" in rest
    assert "Traceback" not in rest


def test_pre_commit_hooks_run_on_the_shipped_flows() -> None:
    entries = [line.split("entry:", 1)[1].split()
               for line in (ROOT / ".pre-commit-hooks.yaml").read_text().splitlines()
               if line.strip().startswith("entry:")]
    assert [entry[:2] for entry in entries] == [["portless", "validate"], ["portless", "fmt"]]
    flows = sorted(str(p) for p in (ROOT / "flows").glob("*.json"))
    for entry in entries:
        assert portless(*entry[1:], *flows).returncode == 0


def test_the_tls_example_needs_its_environment() -> None:
    example = str(ROOT / "examples" / "valve-tls.json")
    bare = {k: v for k, v in os.environ.items() if not k.startswith("MQTT_")}
    missing = subprocess.run([sys.executable, "-m", "portless", "validate", example],
                             capture_output=True, text=True, timeout=60, env=bare)
    assert missing.returncode == 1
    assert (f"{example}: node plant-broker: /config/host: environment variable MQTT_HOST "
            f"is not set") in missing.stderr.splitlines()
    assert portless("validate", "--skip-env", example).returncode == 0
    env = {"MQTT_HOST": "broker.plant.example", "MQTT_USERNAME": "valve-1",
           "MQTT_PASSWORD": "secret", "MQTT_CA_FILE": "/etc/portless/ca.pem"}
    assert portless("validate", example, env=env).returncode == 0


def broker_flow(port: int, client_id: str) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, "client_id": client_id}},
        {"id": "commands", "type": "mqtt-in", "config": {"broker": "broker", "topic": "cmd/#"},
         "wires": [["show"]]},
        {"id": "show", "type": "debug"}]}


def start_connected(flow: Path, state_dir: Path, *options: str) -> subprocess.Popen[str]:
    """`portless run FLOW` in the background, returned once its broker is connected."""
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flow), "--state-dir", str(state_dir),
         *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "connected to 127.0.0.1" in line:
            return process
    raise AssertionError(f"portless exited before connecting (status {process.wait()})")


def connections_as(broker: Mosquitto, client_id: str) -> int:
    return sum(1 for line in broker.log.splitlines()
               if "New client connected" in line and f" as {client_id} (" in line)


def test_a_second_run_of_the_same_flow_is_refused_before_it_reaches_the_broker(
        mosquitto: Mosquitto, tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    flow = write_flow(broker_flow(mosquitto.port, "twin"))
    first = start_connected(flow, tmp_path / "state", "--no-editor")
    try:
        second = portless("run", str(flow), "--no-editor", "--state-dir", str(tmp_path / "state"))
        assert second.returncode == 1
        assert f"in use by another portless process (PID {first.pid})" in second.stderr
        assert str(flow_state_dir(tmp_path / "state", flow)) in second.stderr
        assert "Traceback" not in second.stderr
        # The first one was never knocked off the broker by a second client "twin".
        assert connections_as(mosquitto, "twin") == 1
    finally:
        first.terminate()
        first.communicate(timeout=20)


def test_a_taken_editor_port_stops_the_start_before_the_broker_and_the_token(
        mosquitto: Mosquitto, tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    port = free_port()
    first = start_connected(write_flow(broker_flow(mosquitto.port, "device-a"), "a.json"),
                            tmp_path / "state", "--editor-port", str(port))
    try:
        second = portless("run", str(write_flow(broker_flow(mosquitto.port, "device-b"),
                                                "b.json")),
                          "--editor-port", str(port), "--state-dir", str(tmp_path / "state"))
        assert second.returncode == 1
        assert f"port {port}" in second.stderr
        assert "--editor-port" in second.stderr
        assert "token=" not in second.stdout + second.stderr
        assert "Traceback" not in second.stderr
        assert connections_as(mosquitto, "device-b") == 0
        assert connections_as(mosquitto, "device-a") == 1
    finally:
        first.terminate()
        first.communicate(timeout=20)


def test_validate_with_no_function_nodes_names_each_function_node(
        write_flow: Callable[..., Path]) -> None:
    path = write_flow({"version": 1, "nodes": [
        {"id": "double", "type": "function", "config": {"code": "return msg"}},
        {"id": "pass", "type": "change"},
        {"id": "triple", "type": "function"}]})
    assert portless("validate", str(path)).returncode == 0
    result = portless("validate", "--no-function-nodes", str(path))
    assert result.returncode == 1
    refused = ("/type: function nodes run code with the runtime's rights, which this "
               "device refuses (--no-function-nodes)")
    assert result.stderr.splitlines() == [f"{path}: node double: {refused}",
                                          f"{path}: node triple: {refused}"]
