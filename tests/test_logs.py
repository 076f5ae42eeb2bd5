"""The log of ``portless run`` as a service sees it: gmqtt's per-packet lines only when
asked for, a rotating log file, journald priorities. Each run is a real subprocess
against a real mosquitto, flooded with commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portless.logs import JournalFormatter, add_log_arguments
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

FLOOD = 300


def echo_flow(port: int) -> dict[str, Any]:
    """Every command is shown by a debug node and echoed on "echo", so the test can wait
    for the last one to have gone all the way through."""
    return {"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, "client_id": "valve-logs"}},
        {"id": "commands", "type": "mqtt-in",
         "config": {"broker": "broker", "topic": "cmd/#", "format": "text"},
         "wires": [["show", "echo"]]},
        {"id": "show", "type": "debug"},
        {"id": "echo", "type": "mqtt-out", "config": {"broker": "broker", "topic": "echo"}}]}


async def run_flooded(flow: Path, state_dir: Path, port: int, *options: str) -> str:
    """Run portless with ``options``, flood it with FLOOD commands, stop it with SIGTERM;
    returns what it wrote to stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portless", "run", str(flow), "--no-editor",
        "--state-dir", str(state_dir), *options, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    stderr = asyncio.create_task(process.stderr.read())  # read all along: a full pipe blocks
    try:
        async with Watcher(port, "echo") as operator:
            # Retained: reaches portless whenever its subscription is made.
            operator.publish("cmd/ready", b"ready", qos=1, retain=True)
            await operator.wait_for(1, timeout=30)
            for n in range(FLOOD):
                operator.publish(f"cmd/{n}", f"command {n}".encode(), qos=0)
            operator.publish("cmd/fence", b"fence", qos=1)
            async with asyncio.timeout(30):
                while not any(m.payload == b'"fence"' for m in operator.received):  # as JSON
                    await operator.wait_for(len(operator.received) + 1, timeout=30)
            operator.publish("cmd/ready", b"", qos=1, retain=True)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            text = (await stderr).decode()
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, text
    return text


def log_files(directory: Path) -> dict[str, int]:
    """The log files in ``directory`` by name, with their sizes."""
    return {path.name: path.stat().st_size for path in sorted(directory.iterdir())
            if path.name.startswith("portless")}


def gmqtt_lines(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if " portless.mqtt.gmqtt: " in line or " gmqtt." in line]


@pytest.mark.slow
@pytest.mark.broker
async def test_debug_level_leaves_gmqtts_packets_out_unless_asked(
        mosquitto: Mosquitto, tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    """At --log-level debug gmqtt logged every received payload (about 800 MB in 100 s);
    now only --log-mqtt-packets brings its lines back."""
    flow = write_flow(echo_flow(mosquitto.port))
    quiet = await run_flooded(flow, tmp_path / "state", mosquitto.port, "--log-level", "debug")
    loud = await run_flooded(flow, tmp_path / "state", mosquitto.port, "--log-level", "debug",
                             "--log-mqtt-packets")
    assert gmqtt_lines(quiet) == []
    assert len(quiet.splitlines()) < 100  # FLOOD commands, each shown by a debug node
    assert "node show: debug: fence" in quiet  # the last one is logged, rate limit or not
    assert any("packet" in line for line in gmqtt_lines(loud))  # gmqtt's packet lines


@pytest.mark.slow
@pytest.mark.broker
async def test_log_file_rotates_by_size_and_keeps_count_files(
        mosquitto: Mosquitto, tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    log_file = tmp_path / "portless.log"
    stderr = await run_flooded(
        write_flow(echo_flow(mosquitto.port)), tmp_path / "state", mosquitto.port,
        "--log-file", str(log_file), "--log-file-size", "1K", "--log-file-count", "2",
        "--log-level", "debug", "--log-mqtt-packets")  # the packets: volume to rotate
    assert stderr == ""  # all of it went to the file
    sizes = log_files(tmp_path)
    assert list(sizes) == ["portless.log", "portless.log.1", "portless.log.2"]
    assert all(0 < size <= 1024 + 1024 for size in sizes.values())  # plus at most one line
    assert "stopped" in log_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--log-file-size", "10Q", "must be a size such as 4096, 512K or 10M, not '10Q'"),
    ("--log-file-size", "0", "must be a size such as 4096, 512K or 10M, not '0'"),
    ("--log-file-count", "-1", "must be a whole number of at least 1, not '-1'"),
])
def test_bad_log_options_are_clear_errors(
        option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="portless run")
    add_log_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args([option, value])
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_an_unwritable_log_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "portless.log"
    result = subprocess.run(
        [sys.executable, "-m", "portless", "run", "flows/demo.json", "--log-file",
         str(missing)], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[1], env=os.environ)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"portless: cannot write the log file {missing}: "
                                     f"No such file or directory")


def test_journald_lines_carry_their_priority() -> None:
    formatter = JournalFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("portless.events", logging.WARNING, __file__, 1,
                               "node a: two\nlines", None, None)
    assert formatter.format(record) == "<4>WARNING portless.events: node a: two\n<4>lines"
