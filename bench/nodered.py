"""Node-RED beside portless: the same QoS 1 work through Node-RED 4's own mqtt out node.

Node-RED 4 is installed once with npm into a cache directory (CACHE), when ``node`` and
``npm`` are on PATH; installs are serialised with ``flock`` on INSTALL_LOCK, since other
tools of this project share the cache. Without node the benchmark says so and shows
portless alone.

The flow, run headless (no admin or node HTTP root, so Node-RED opens no port):

    mqtt in (retained trigger on bench/start) -> function (emits N messages)
        -> mqtt out (QoS 1, content type application/json) -> mqtt-broker

The trigger is a retained message on the same broker, so the emitting starts only once
Node-RED's connection is up (its mqtt out drops what it is given while disconnected).
The messages are the ones portless sends: topic bench/mqtt, the counter as payload.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core import BenchError, cpu_seconds

CACHE = Path.home() / ".cache" / "portless-bench" / "node-red"
INSTALL_LOCK = Path.home() / ".cache" / "portless-bench.lock"
RED_JS = CACHE / "node_modules" / "node-red" / "red.js"
NODE_RED_PACKAGE = "node-red@4.1.15"
"""The Node-RED measured against, exactly: the differential tests and the importer's
counts over its shipped example flows hold for this release."""
START_TOPIC = "bench/start"
STARTED = "Started flows"
"""What Node-RED logs once the flow runs."""


def node_red() -> tuple[Path | None, str]:
    """Node-RED's red.js, installing it into CACHE first if need be; else None and why."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        return None, "Node-RED not measured: node is not on PATH"
    if RED_JS.exists():
        return RED_JS, ""
    if npm is None or shutil.which("flock") is None:
        return None, "Node-RED not measured: npm (or flock) is not on PATH to install it"
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["flock", str(INSTALL_LOCK), npm, "install", "--prefix", str(CACHE),
             "--no-audit", "--no-fund", "--loglevel", "error", NODE_RED_PACKAGE],
            capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return None, f"Node-RED not measured: npm install {NODE_RED_PACKAGE} took over 600 s"
    if done.returncode != 0 or not RED_JS.exists():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"Node-RED not measured: npm install {NODE_RED_PACKAGE} failed: {tail}"
    return RED_JS, ""


def flow(port: int, protocol: str, qos: int, count: int, topic: str,
         content_type: str) -> list[dict[str, Any]]:
    """The Node-RED flow: retained trigger -> emit ``count`` messages -> mqtt out."""
    emit = (f"for (let i = 0; i < {count}; i++) {{ "
            f"node.send({{topic: {json.dumps(topic)}, payload: String(i)}}); }} "
            "return null;")
    return [
        {"id": "bench-tab", "type": "tab", "label": "bench"},
        {"id": "bench-broker", "type": "mqtt-broker", "name": "bench",
         "broker": "127.0.0.1", "port": str(port), "clientid": "bench-nodered",
         "autoConnect": True, "usetls": False,
         "protocolVersion": "5" if protocol == "5" else "4", "keepalive": "60",
         "cleansession": True, "birthTopic": "", "closeTopic": "", "willTopic": ""},
        {"id": "bench-start", "type": "mqtt in", "z": "bench-tab", "topic": START_TOPIC,
         "qos": "1", "datatype": "utf8", "broker": "bench-broker", "nl": False,
         "rap": False, "inputs": 0, "wires": [["bench-emit"]]},
        {"id": "bench-emit", "type": "function", "z": "bench-tab", "func": emit,
         "outputs": 1, "wires": [["bench-out"]]},
        {"id": "bench-out", "type": "mqtt out", "z": "bench-tab", "topic": "",
         "qos": str(qos), "retain": "false", "broker": "bench-broker",
         "contentType": content_type if protocol == "5" else "", "wires": []},
    ]


SETTINGS = """module.exports = {
    flowFile: "flows.json",
    httpAdminRoot: false,
    httpNodeRoot: false,
    uiHost: "127.0.0.1",
    logging: { console: { level: "info", metrics: false, audit: false } },
    functionGlobalContext: { cpuUsage: () => process.cpuUsage() },
};
"""
"""Headless, no port; function nodes may read the process's CPU time (timed_run)."""


class NodeRed:
    """Node-RED running ``flow`` from ``workdir`` until stopped (by its PID)."""

    def __init__(self, red_js: Path, workdir: Path, nodes: list[dict[str, Any]],
                 settings: str = SETTINGS) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "settings.js").write_text(settings)
        (workdir / "flows.json").write_text(json.dumps(nodes, indent=2))
        self.red_js, self.workdir = red_js, workdir
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 60.0) -> None:
        """Start Node-RED; return once it logged that the flow runs."""
        self.process = await asyncio.create_subprocess_exec(
            "node", str(self.red_js), "--settings", str(self.workdir / "settings.js"),
            "--userDir", str(self.workdir), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        output = self.process.stdout
        if output is None:
            raise BenchError("Node-RED's output is not a pipe")
        try:
            async with asyncio.timeout(timeout):
                while STARTED not in await self._read_line(output):
                    pass
        except TimeoutError:
            raise BenchError(f"Node-RED did not start its flow within {timeout:.0f} s: "
                             f"{self._tail()}") from None
        # Keep reading, so a chatty Node-RED never blocks on a full pipe.
        self._reader = asyncio.get_running_loop().create_task(self._read_all(output))

    async def _read_line(self, output: asyncio.StreamReader) -> str:
        line = await output.readline()
        if not line:
            raise BenchError(f"Node-RED exited at start: {self._tail()}")
        self.output.append(line.decode(errors="replace").rstrip())
        return self.output[-1]

    async def _read_all(self, output: asyncio.StreamReader) -> None:
        while line := await output.readline():
            self.output.append(line.decode(errors="replace").rstrip())

    def cpu_seconds(self) -> float:
        """CPU time Node-RED has used so far (user and system); 0 if gone."""
        return cpu_seconds(self.process.pid if self.process is not None else None)

    def errors(self) -> list[str]:
        """Lines Node-RED logged at error level."""
        return [line for line in self.output if "[error]" in line]

    def _tail(self) -> str:
        return " | ".join(self.output[-3:]) or "(no output)"

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            await self._reader


DONE = "bench-done "
"""What a timed flow's last node warns, followed by the milliseconds its work took and
the microseconds of CPU time Node-RED spent on it."""
START_CLOCKS = ("flow.set('t0', Date.now()); const cpu0 = global.get('cpuUsage')(); "
                "flow.set('cpu0', cpu0.user + cpu0.system);")
"""JavaScript for the function node that starts a timed flow's work: notes the clocks."""


def counting_function(total: int) -> str:
    """JavaScript for the function node at a timed flow's end: counts messages in its
    context and, at the ``total``-th, warns DONE, the milliseconds and the CPU time since
    the flow's first function ran START_CLOCKS."""
    return ("const n = (context.get('n') || 0) + 1; context.set('n', n); "
            f"if (n === {total}) {{ const cpu = global.get('cpuUsage')(); "
            f"node.warn('{DONE}' + (Date.now() - flow.get('t0')) + ' ' + "
            "(cpu.user + cpu.system - flow.get('cpu0'))); } return null;")


@dataclass(frozen=True)
class TimedRun:
    """What a timed flow took: milliseconds by its own clock, and Node-RED's CPU seconds
    (steadier than the time on a shared machine)."""

    milliseconds: float
    cpu_seconds: float


async def timed_run(nodes: list[dict[str, Any]], timeout: float) -> tuple[TimedRun | None, str]:
    """Run a flow whose work starts with START_CLOCKS and ends in ``counting_function``;
    what it took, or None and why not (Node-RED missing, slow or failing)."""
    red_js, why = node_red()
    if red_js is None:
        return None, why
    with tempfile.TemporaryDirectory(prefix="portless-bench-nodered-") as workdir:
        red = NodeRed(red_js, Path(workdir), nodes)
        try:
            await red.start()
            async with asyncio.timeout(timeout):
                # Its log lines arrive through NodeRed's reader task, which signals nothing.
                while not (done := [line for line in red.output if DONE in line]):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return None, f"Node-RED did not finish: {' | '.join(red.output[-2:])}"
        except BenchError as exc:
            return None, str(exc)
        finally:
            await red.stop()
    milliseconds, cpu_us = done[0].rsplit(DONE, 1)[1].split()[:2]
    return TimedRun(float(milliseconds), float(cpu_us) / 1e6), ""
