"""The demo as the README runs it: ``portless run flows/demo.json --dev-broker``.

The flow is the shipped demo with its broker port moved to a free one, so the test
neither needs nor disturbs a broker on 1883.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import portless.devbroker as devbroker
from portless.runtime import Registry, load_flow
from portless.testing import FlowHarness
from tests.mosquitto import free_port
from tests.mqtt_client import Watcher

ROOT = Path(__file__).resolve().parents[2]


def demo_document(port: int, interval: float) -> dict[str, Any]:
    """The shipped demo with its broker on ``port`` and readings ``interval`` apart (the
    same signal, only faster: its period is scaled as well)."""
    document: dict[str, Any] = json.loads((ROOT / "flows" / "demo.json").read_text())
    for node in document["nodes"]:
        if node["type"] == "mqtt-broker":
            node["config"]["port"] = port
        if node["type"] == "io-in":
            config = node["config"]
            config["period"] *= interval / config["interval"]
            config["interval"] = interval
    return document


def demo_on(port: int, write_flow: Callable[..., Path]) -> Path:
    return write_flow(demo_document(port, 0.05))


def counts(status: dict[str, Any]) -> tuple[int, int]:
    """(passed, received) from an exception-filter's status "passed 12 of 240"."""
    match = re.fullmatch(r"passed (\d+) of (\d+)", status.get("text", ""))
    return (int(match[1]), int(match[2])) if match else (0, 0)


async def test_the_demo_reports_by_exception_and_says_how_many_passed() -> None:
    """One period of the demo's signal, 240 readings: the filter must visibly drop most
    of them and say so; published values have one decimal. (No broker: mqtt-out keeps
    what passes in its outbox, which does not matter here.)"""
    async with FlowHarness(demo_document(free_port(), 0.002)) as h:
        readings = await h.wait_for("valve-flow", 240, timeout=10)
        status = await h.wait_event(lambda e: e.node_id == "report-by-exception"
                                    and e.kind == "status" and counts(e.data)[1] >= 240)
        published = h.received("report-by-exception")
    passed, received = counts(status.data)
    assert passed <= received // 5  # most readings are dropped (32 of 240 per period)
    values = [m["payload"] for m in readings + published]
    assert published
    assert all(round(value, 1) == value for value in values)  # one decimal


@pytest.mark.slow  # portless as a subprocess
async def test_demo_with_dev_broker_reports_values_and_takes_commands(
        tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    port = free_port()
    flow = demo_on(port, write_flow)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portless", "run", str(flow), "--dev-broker", "--no-editor",
        "--state-dir", str(tmp_path / "state"), stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stderr is not None
        log = []
        async with asyncio.timeout(10):
            while "connected to 127.0.0.1" not in (line := (await process.stderr.readline())
                                                   .decode()):
                log.append(line)
        assert any("started mosquitto" in line for line in log), log
        async with Watcher(port, "device/valve-1/#", version="3.1.1") as watcher:
            await watcher.wait_for(1, "device/valve-1/state")
            await watcher.wait_for(3, "device/valve-1/flow")
            watcher.publish("device/valve-1/cmd/position", "42")
            async with asyncio.timeout(10):
                while "node valve-position: status blue dot: 42" not in \
                        (await process.stderr.readline()).decode():
                    pass
        assert watcher.on("device/valve-1/state")[0].payload == b"online"
        # Retained: a subscriber that comes later gets it too. (The first watcher may
        # have subscribed before the birth reached the broker, and got it live.)
        async with Watcher(port, "device/valve-1/state", version="3.1.1",
                           client_id="late") as late:
            (state,) = await late.wait_for(1)
        assert (state.payload, state.retain) == (b"online", True)
        values = [json.loads(m.payload) for m in watcher.on("device/valve-1/flow")]
        assert all(40 <= v <= 60 for v in values)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_dev_broker_falls_back_to_embedded_amqtt(
        monkeypatch: pytest.MonkeyPatch, write_flow: Callable[..., Path]) -> None:
    port = free_port()
    flow = load_flow(demo_on(port, write_flow), Registry.discover())
    monkeypatch.setattr(devbroker.shutil, "which", lambda name: None)
    async with devbroker.dev_brokers(flow), Watcher(port, "a/#", version="3.1.1") as watcher:
        watcher.publish("a/b", "hello")
        (got,) = await watcher.wait_for(1)
    assert got.payload == b"hello"
    assert not await devbroker.listening(port)  # stopped with the context


@pytest.mark.slow  # portless as a subprocess
def test_dev_broker_refuses_a_remote_host(write_flow: Callable[..., Path]) -> None:
    document = {"version": 1, "nodes": [{"id": "b", "type": "mqtt-broker",
                                         "config": {"host": "broker.example.com"}}]}
    result = subprocess.run(
        [sys.executable, "-m", "portless", "run", str(write_flow(document)), "--dev-broker",
         "--no-editor"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "--dev-broker serves only a loopback host" in result.stderr
