"""The remote editor end to end in real headless Chromium: a device (`portless run --fleet`,
headless) and `portless edit --remote` on the engineer's loopback, both on a real
mosquitto; the page edits, deploys and watches the device while a port audit of the
device process finds no listening socket."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from playwright.async_api import Browser, expect

from portless.cli import main
from tests.e2e.lines import Lines, running_lines
from tests.editor.browser import node, open_form, open_page, start_editor, stop_server
from tests.editor.test_browser import deploy, ready
from tests.mosquitto import Mosquitto

pytestmark = [pytest.mark.slow, pytest.mark.broker]  # a device, an editor and Chromium
FLOW = {"version": 1, "nodes": [
    {"id": "reading", "type": "io-in",
     "config": {"signal": "counter", "interval": 3600, "topic": "valve/flow"},
     "wires": [["valve", "show"]], "x": 100, "y": 100},
    {"id": "valve", "type": "output", "config": {"target": "sim"}, "x": 300, "y": 60},
    {"id": "show", "type": "debug", "config": {}, "x": 300, "y": 160},
]}


def listening_sockets(pid: int) -> list[str]:
    """Every socket of the process that could take a connection or a datagram: TCP in
    LISTEN and any UDP socket (psutil's view of /proc/PID/net and /proc/PID/fd)."""
    found = []
    for conn in psutil.Process(pid).net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN or conn.type == 2:  # SOCK_DGRAM
            found.append(f"{conn.laddr} {conn.status} type {conn.type}")
    return found


@dataclass
class Device:
    flow_file: Path
    process: subprocess.Popen[str]
    lines: Lines
    broker: Mosquitto


@pytest.fixture
def device(tmp_path: Path, mosquitto_factory: Callable[..., Mosquitto]) -> Iterator[Device]:
    """`portless run --fleet` (headless) of valves.json on a fresh mosquitto, trusting
    the key ``signing``, once its management link follows its topics; fleet.json is the
    engineer's configuration for the same broker."""
    broker = mosquitto_factory(extra_config=["set_tcp_nodelay true"])
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    link = {"host": "127.0.0.1", "port": broker.port, "tls": False}
    (tmp_path / "device.json").write_text(json.dumps({
        "device_id": "pump-7", "topic_prefix": "plant", "broker": link,
        "trusted_keys": ["signing.pub"], "health": {"seconds": 0.3}}))
    (tmp_path / "fleet.json").write_text(json.dumps({"topic_prefix": "plant",
                                                     "broker": link}))
    flow_file = tmp_path / "device" / "valves.json"
    flow_file.parent.mkdir()
    flow_file.write_text(json.dumps(FLOW))
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flow_file), "--no-editor",
         "--fleet", str(tmp_path / "device.json"), "--state-dir", str(tmp_path / "state")],
        stderr=subprocess.PIPE, text=True)
    with running_lines(process) as lines:
        lines.wait("fleet: connected")
        yield Device(flow_file, process, lines, broker)


async def test_a_remote_device_is_edited_deployed_and_watched_with_no_open_port(
        tmp_path: Path, device: Device, browser: Browser) -> None:
    flow_file = device.flow_file
    editor = await start_editor(
        ["edit", "--remote", "pump-7", "--config", str(tmp_path / "fleet.json"),
         "--key", str(tmp_path / "signing")], flow_file, tmp_path / "edit.log")
    try:
        context, page, console = await open_page(browser, editor.url)
        try:
            await ready(page)
            await expect(node(page, "reading")).to_be_visible()
            tray = await open_form(page, "reading")
            await tray.locator('[data-field="/config/interval"]').fill("0.1")
            await tray.locator('[data-field="/config/topic"]').fill("valve/remote")
            await tray.get_by_test_id("form-done").click()
            status, answer = await deploy(page)
            assert status == 200, answer
            assert answer["started"] == ["reading"]
            assert answer["fleet"] == {"state": "healthy", "version": 1}  # gate passed
            item = page.locator('[data-testid="debug-item"][data-node="show"]').filter(
                has_text="valve/remote").first
            await expect(item).to_be_visible()
            await expect(page.get_by_test_id("status-valve")).to_have_text(
                re.compile(r"^[1-9][0-9]*$"))
            audit = listening_sockets(device.process.pid)
            links = psutil.Process(device.process.pid).net_connections(kind="inet")
            editor_listens = [f"{c.laddr.ip}:{c.laddr.port}" for c in psutil.Process(
                editor.process.pid).net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN]
            # Someone changes the file on the device: the page hears of it, and a
            # deploy over it is refused (412) and offers the review, as locally.
            flow_file.write_text(flow_file.read_text().replace('"valve/remote"',
                                                               '"valve/other"'))
            await expect(page.get_by_test_id("banner-flow-changed")).to_be_visible()
            tray = await open_form(page, "reading")
            await tray.locator('[data-field="/config/topic"]').fill("valve/mine")
            await tray.get_by_test_id("form-done").click()
            stale, _ = await deploy(page)
            await expect(page.get_by_test_id("dialog-conflict")).to_be_visible()
            assert console.unexpected(provoked=[412]) == []
        finally:
            await context.close()
    finally:
        await stop_server(editor)
    await asyncio.to_thread(device.lines.wait, "fleet: healthy 1")
    assert audit == [], f"the device listens: {audit}"
    assert any(c.raddr and c.raddr.port == device.broker.port for c in links)  # its link
    assert editor_listens == [f"127.0.0.1:{editor.port}"]
    assert json.loads(flow_file.read_text())["nodes"][0]["config"]["interval"] == 0.1
    assert stale == 412
    print(f"port audit by psutil of pid {device.process.pid}: {len(links)} inet sockets, "
          f"none listening")

