"""The flow-size curve: validate, start, a one-node deploy and memory as a flow grows.

Each flow is bench/editor.py's (chains io-in -> exception-filter -> output, the io-ins
reading once an hour), run as a user runs it:

- validate: ``python -m portless validate FLOW``, spawn to exit, median of 3;
- start: ``python -m portless run FLOW --no-editor``, spawn to the "running" line, and
  the process's RSS a moment later (bench/startup.py's measurement);
- deploy one change: ``portless run FLOW --editor-port PORT``; GET /api/flow, change
  one filter's band, PUT /api/flow with If-Match, timed from the request to the answer
  (which must say that exactly that node restarted), median of 5;
- Python keeps its bytecode cache, as in an installed portless (in a temporary
  PYTHONPYCACHEPREFIX, even where PYTHONDONTWRITEBYTECODE is set), warmed by one
  untimed run;
- Node-RED 4 beside it, when node is on PATH (bench/nodered.py installs it): the same
  graph (inject -> rbe -> debug), the same change POSTed to its admin API with
  ``Node-RED-Deployment-Type: nodes``, timed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import nodered
from .broker import free_port
from .core import ROOT, BenchError, Options, Row, megabytes
from .editor import flow_document, running
from .startup import start_once

SIZES = (10, 100, 1_000, 3_000, 5_000)
QUICK_SIZES = (10, 1_000, 3_000)
TARGET_SIZE = 3_000
"""The size issue 7's targets are set at."""
TARGET_VALIDATE = 0.5
TARGET_DEPLOY = 0.150
CHANGED = "filter-1"
"""The exception-filter whose band each deploy changes (the second chain's)."""
DEPLOYS = 5


# --- portless ---------------------------------------------------------------------------
def validate_seconds(flow: Path, runs: int = 3) -> tuple[float, float]:
    """Median wall time and CPU time of ``portless validate FLOW`` in a fresh
    interpreter (the CPU time tells the work from a busy machine's waiting)."""
    times, cpu = [], []
    for _ in range(runs):
        before = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "portless", "validate", str(flow)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              check=False)
        times.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - before)
        if done.returncode != 0:
            raise BenchError(f"portless validate {flow.name} exited {done.returncode}: "
                             f"{done.stdout.strip()[-200:]}")
    return statistics.median(times), statistics.median(cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class EditorClient:
    """Plain HTTP to a running editor, with the token as a bearer credential."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Host": parts.netloc, "Origin": f"{parts.scheme}://{parts.netloc}",
                        "Authorization": f"Bearer {parse_qs(parts.query)['token'][0]}"}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body, {**self.headers, **(headers or {})})
            response = connection.getresponse()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            connection.close()


def portless_deploys(url: str, runs: int) -> list[float]:
    """Seconds for each of ``runs`` one-node deploys through the editor's PUT."""
    client = EditorClient(url)
    times = []
    for run in range(runs):
        status, headers, body = client.request("GET", "/api/flow")
        if status != 200:
            raise BenchError(f"GET /api/flow: HTTP {status}")
        document = json.loads(body)
        _node(document["nodes"], CHANGED)["config"]["band"] = 2 + run
        payload = json.dumps(document).encode()
        started = time.perf_counter()
        status, _, answer = client.request("PUT", "/api/flow", payload, {
            "If-Match": headers["etag"], "Content-Type": "application/json"})
        times.append(time.perf_counter() - started)
        result = json.loads(answer)
        if status != 200 or result.get("started") != [CHANGED]:
            raise BenchError(f"PUT /api/flow: HTTP {status}, restarted "
                             f"{result.get('started', result)}, not only {CHANGED}")
    return times


def _node(nodes: list[dict[str, Any]], node_id: str) -> dict[str, Any]:
    for node in nodes:
        if node["id"] == node_id:
            return node
    raise BenchError(f"the flow has no node {node_id}")


# --- Node-RED ----------------------------------------------------------------------------
ADMIN_SETTINGS = """module.exports = {
    flowFile: "flows.json",
    uiHost: "127.0.0.1",
    uiPort: %d,
    httpAdminRoot: "/",
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: "info", metrics: false, audit: false } },
};
"""
"""Node-RED with its admin API (no editor pages, no auth) on a loopback port."""


def node_red_flow(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The portless bench flow as Node-RED nodes: inject -> rbe (deadband) -> debug."""
    nodes: list[dict[str, Any]] = [{"id": "bench", "type": "tab", "label": "bench"}]
    for node in document["nodes"]:
        place = {"id": node["id"], "z": "bench", "x": node["x"], "y": node["y"],
                 "wires": node.get("wires", [])}
        if node["type"] == "io-in":
            nodes.append({**place, "type": "inject", "repeat": "3600", "once": False,
                          "topic": "", "payload": "", "payloadType": "date"})
        elif node["type"] == "exception-filter":
            nodes.append({**place, "type": "rbe", "func": "deadband",
                          "gap": str(node["config"]["band"]), "start": "", "inout": "out",
                          "property": "payload"})
        else:
            nodes.append({**place, "type": "debug", "active": False, "tosidebar": False,
                          "console": False, "complete": "payload", "wires": []})
    return nodes


async def node_red_deploys(red_js: Path, document: dict[str, Any], workdir: Path,
                           runs: int) -> list[float]:
    """Seconds for each of ``runs`` one-node deploys through Node-RED's POST /flows."""
    port = free_port()
    flows = node_red_flow(document)
    red = nodered.NodeRed(red_js, workdir, flows, settings=ADMIN_SETTINGS % port)
    await red.start(timeout=180)
    try:
        def post(run: int) -> float:
            _node(flows, CHANGED)["gap"] = str(2 + run)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = json.dumps(flows).encode()
            started = time.perf_counter()
            connection.request("POST", "/flows", body, {
                "Content-Type": "application/json", "Node-RED-Deployment-Type": "nodes"})
            response = connection.getresponse()
            response.read()
            seconds = time.perf_counter() - started
            connection.close()
            if response.status not in (200, 204):
                raise BenchError(f"Node-RED POST /flows: HTTP {response.status}")
            return seconds
        return [await asyncio.to_thread(post, run) for run in range(runs)]
    finally:
        await red.stop()


# --- the table ---------------------------------------------------------------------------
async def measure_size(nodes: int, options: Options, directory: Path,
                       red_js: Path | None) -> list[Row]:
    document = flow_document(nodes)
    flow = directory / f"flow-{nodes}.json"
    flow.write_text(json.dumps(document))
    at_target = nodes == TARGET_SIZE
    label = f"flow of {nodes:,} nodes:"
    validate, validate_cpu = await asyncio.to_thread(validate_seconds, flow,
                                                     1 if options.quick else 3)
    start = await start_once(flow, options.idle_seconds)
    runs = 2 if options.quick else DEPLOYS
    async with running(document, directory) as editor:
        deploy = statistics.median(await asyncio.to_thread(portless_deploys, editor.url,
                                                           runs))
    beside = ""
    if red_js is not None:
        red = statistics.median(await node_red_deploys(red_js, document,
                                                       directory / f"node-red-{nodes}", runs))
        beside = f" (Node-RED 4: {red * 1000:.0f} ms; portless takes {deploy / red:.2f}x)"
    return [
        Row(f"{label} portless validate", f"{validate:.2f} s (CPU {validate_cpu:.2f} s)",
            f"<= {TARGET_VALIDATE} s" if at_target else "-",
            validate <= TARGET_VALIDATE if at_target else None),
        Row(f"{label} headless start (spawn to 'running')", f"{start.seconds:.2f} s"),
        Row(f"{label} deploy one change (editor PUT, If-Match)",
            f"{deploy * 1000:.0f} ms{beside}",
            f"<= {TARGET_DEPLOY * 1000:.0f} ms" if at_target else "-",
            deploy <= TARGET_DEPLOY if at_target else None),
        Row(f"{label} RSS, headless, {options.idle_seconds:g} s after start",
            megabytes(start.idle_rss_kib)),
    ]


@contextlib.contextmanager
def bytecode_cache(directory: Path) -> Iterator[None]:
    """Subprocesses keep compiled bytecode, as an installed portless does, in
    ``directory`` (the tree stays clean), even where PYTHONDONTWRITEBYTECODE is set."""
    saved = {name: os.environ.get(name)
             for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(directory)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def measure(options: Options) -> list[Row]:
    red_js, why_not = await asyncio.to_thread(nodered.node_red)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="portless-bench-flowsize-") as directory, \
            bytecode_cache(Path(directory) / "pycache"):
        warm_up = Path(directory) / "warm-up.json"
        warm_up.write_text(json.dumps(flow_document(10)))
        await asyncio.to_thread(validate_seconds, warm_up, 1)  # fills the bytecode cache
        for nodes in QUICK_SIZES if options.quick else SIZES:
            rows += await measure_size(nodes, options, Path(directory), red_js)
    if red_js is None:
        rows.append(Row("flow size: Node-RED beside portless", why_not))
    return rows


def benchmark(options: Options) -> list[Row]:
    return asyncio.run(measure(options))
