"""The editor end to end in real headless Chromium (Debian's, driven by playwright): each
test runs its own `portless run FLOW` on a free loopback port and opens the token URL.

Without /usr/bin/chromium these tests skip with a hint on a developer's machine and
fail in CI (where `CI` is set), as the broker tests do without mosquitto.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Response, expect

from portless.runtime import canonical_text
from tests.editor.browser import (
    ROOT,
    Console,
    Server,
    center,
    connect,
    document,
    drag,
    drop_from_palette,
    node,
    node_ids,
    open_form,
    open_page,
    shape,
    start_server,
    stop_server,
    tray_of,
    wire,
)
from tests.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.slow  # each test drives headless Chromium

SELECTED = re.compile(r"\bselected\b")


@dataclass
class Session:
    """An open editor page and the `portless run` behind it."""

    server: Server
    page: Page
    console: Console


OpenEditor = Callable[..., Awaitable[Session]]


@pytest.fixture
async def open_editor(tmp_path: Path, browser: Browser) -> AsyncIterator[OpenEditor]:
    """Start `portless run` on a flow document and open its editor, signed in."""
    servers: list[Server] = []
    contexts: list[BrowserContext] = []

    async def open_(flow: dict[str, Any], args: tuple[str, ...] = ()) -> Session:
        server = await start_server(tmp_path / f"run-{len(servers)}", flow, args=args)
        servers.append(server)
        context, page, console = await open_page(browser, server.url)
        contexts.append(context)
        await ready(page)
        return Session(server, page, console)

    yield open_
    # Pages first, so no page sees its runtime go away and starts reconnecting.
    for context in contexts:
        await context.close()
    for server in servers:
        await stop_server(server)


async def ready(page: Page) -> None:
    """The flow is drawn and the live event stream is open."""
    await page.locator('body[data-ready="true"]').wait_for(state="attached")
    await expect(page.get_by_test_id("ws-state")).to_have_attribute("data-state", "open")


def demo_flow() -> dict[str, Any]:
    """flows/demo.json with its broker on a closed port: no test depends on one on 1883."""
    flow: dict[str, Any] = json.loads((ROOT / "flows" / "demo.json").read_text())
    for item in flow["nodes"]:
        if item["type"] == "mqtt-broker":
            item["config"]["port"] = free_port()
            item["config"]["reconnect_min_delay"] = 30
    return flow


def is_put_flow(response: Response) -> bool:
    return response.request.method == "PUT" and response.url.endswith("/api/flow")


async def deploy(page: Page, *, keyboard: bool = False) -> tuple[int, dict[str, Any]]:
    """Deploy with the button or Ctrl+D; the PUT's status and answer."""
    async with page.expect_response(is_put_flow) as answer:
        if keyboard:
            await page.keyboard.press("Control+d")
        else:
            await page.get_by_test_id("deploy").click()
    response = await answer.value
    body: dict[str, Any] = await response.json()
    return response.status, body


async def portless_validate(path: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portless", "validate", "--skip-env", str(path), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


# --- the demo flow, built with the mouse ---------------------------------------------------
async def test_build_the_demo_flow_with_the_mouse_deploy_and_reload(
        mosquitto: Mosquitto, open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "name": "Smart valve", "nodes": []})
    page, server = session.page, session.server

    # Signed in: the token was traded for an HttpOnly, SameSite=Strict cookie and left
    # the address bar.
    assert page.url == f"{server.origin}/"
    [cookie] = [c for c in await page.context.cookies() if c["name"] == f"portless-{server.port}"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert server.token not in cookie["value"]

    # Drag the nodes from the palette onto the canvas.
    box = await page.locator("#workspace").bounding_box()
    assert box is not None

    def at(column: int, row: int) -> tuple[float, float]:
        return box["x"] + 110 + column * 240, box["y"] + 70 + row * 100

    sensor = await drop_from_palette(page, "io-in", *at(0, 0))
    band = await drop_from_palette(page, "exception-filter", *at(1, 0))
    publish = await drop_from_palette(page, "mqtt-out", *at(2, 0))
    commands = await drop_from_palette(page, "mqtt-in", *at(0, 1))
    position = await drop_from_palette(page, "output", *at(1, 1))
    show = await drop_from_palette(page, "debug", *at(1, 2))
    drawn = [sensor, band, publish, commands, position, show]
    assert len(set(drawn)) == 6
    await expect(page.locator("g[data-node-id]")).to_have_count(6)

    # Wire them with the mouse, output port to input port.
    await connect(page, sensor, band)
    await connect(page, band, publish)
    await connect(page, commands, position)
    await connect(page, sensor, show)
    await expect(page.locator("g[data-wire-from]")).to_have_count(4)

    # The forms: the sensor's interval and topic.
    tray = await open_form(page, sensor)
    await tray.locator('[data-field="/name"]').fill("Valve flow rate")
    await tray.locator('[data-field="/config/interval"]').fill("0.2")
    await tray.locator('[data-field="/config/topic"]').fill("device/valve-1/flow")
    await tray.get_by_test_id("form-done").click()
    await expect(tray).to_have_count(0)

    # The filter: deadband; a negative band is an inline error before any deploy.
    tray = await open_form(page, band)
    await tray.locator('[data-field="/config/mode"]').select_option(label="deadband")
    await tray.locator('[data-field="/config/band"]').fill("-2")
    error = tray.locator('[data-error-for="/config/band"]')
    await expect(error).to_be_visible()
    await expect(error).not_to_have_text("")
    await expect(tray.locator('[data-field="/config/band"]')).to_have_attribute(
        "aria-invalid", "true")
    await tray.locator('[data-field="/config/band"]').fill("1")
    await expect(error).to_be_hidden()
    await tray.get_by_test_id("form-done").click()
    await expect(tray).to_have_count(0)

    # mqtt-out: its broker reference offers "add new", which opens the broker's form.
    tray = await open_form(page, publish)
    reference = tray.locator('[data-field="/config/broker"]')
    await reference.select_option(label="add new mqtt-broker\u2026")
    broker_tray = page.locator(f'aside[data-testid="tray"]:not([data-node="{publish}"])')
    await broker_tray.wait_for()
    broker = await broker_tray.get_attribute("data-node")
    assert broker
    assert broker not in drawn
    await expect(broker_tray.locator('[data-error-for="/config/host"]')).to_be_visible()
    await broker_tray.locator('[data-field="/config/host"]').fill("127.0.0.1")
    await expect(broker_tray.locator('[data-error-for="/config/host"]')).to_be_hidden()
    await broker_tray.locator('[data-field="/config/port"]').fill(str(mosquitto.port))
    await broker_tray.locator('[data-field="/config/client_id"]').fill("valve-1")
    await broker_tray.locator('[data-field="/config/state_topic"]').fill(
        "device/valve-1/state")
    await broker_tray.get_by_test_id("form-done").click()
    await expect(broker_tray).to_have_count(0)
    await expect(reference).to_have_value(broker)
    await tray.locator('[data-field="/config/topic"]').fill("device/valve-1/flow")
    await tray.get_by_test_id("form-done").click()
    await expect(tray).to_have_count(0)

    # mqtt-in (dropped before the broker existed): pick the broker, set the topic.
    tray = await open_form(page, commands)
    await tray.locator('[data-field="/config/broker"]').select_option(value=broker)
    await tray.locator('[data-field="/config/topic"]').fill("device/valve-1/cmd/#")
    await tray.get_by_test_id("form-done").click()
    await expect(tray).to_have_count(0)

    # Everything valid (no red triangle), everything marked as changed since deploy.
    await expect(page.locator('[data-testid^="invalid-"]')).to_have_count(0)
    await expect(page.locator('[data-testid^="changed-"]')).to_have_count(6)
    await expect(page.get_by_test_id("deploy-count")).to_be_visible()

    # Deploy with the button: every node starts.
    status, answer = await deploy(page)
    assert status == 200, answer
    assert sorted(answer["started"]) == sorted([*drawn, broker])
    await expect(page.get_by_test_id("deploy-count")).to_be_hidden()
    await expect(page.locator('[data-testid^="changed-"]')).to_have_count(0)
    await expect(page.get_by_test_id("toast").filter(has_text="Deployed")).to_be_visible()

    # Live: mqtt-out's status dot turns green, "connected" to the real broker, and the
    # sensor's readings arrive in the debug sidebar.
    await expect(page.get_by_test_id(f"status-{publish}")).to_have_text("connected")
    await expect(node(page, publish).locator("g.status")).to_have_attribute(
        "data-fill", "green")
    item = page.locator(f'[data-testid="debug-item"][data-node="{show}"]').first
    await expect(item).to_be_visible()
    await expect(item.locator(".debug-topic")).to_have_text("device/valve-1/flow")

    # Move a node with the mouse and deploy with Ctrl+D: a move restarts nothing.
    start = await center(node(page, position).locator(".body"))
    await drag(page, start, (start[0] + 60, start[1] + 40))
    await expect(page.get_by_test_id(f"changed-{position}")).to_be_visible()
    moved = next(n for n in (await document(page))["nodes"] if n["id"] == position)
    status, answer = await deploy(page, keyboard=True)
    assert status == 200, answer
    assert answer["started"] == []
    await expect(page.get_by_test_id("deploy-count")).to_be_hidden()

    # On disk: canonical, valid, and what the page built.
    text = server.flow.read_text(encoding="utf-8")
    assert canonical_text(json.loads(text)) == text
    code, output = await portless_validate(server.flow)
    assert code == 0, output
    saved = json.loads(text)
    assert shape(saved) == shape(await document(page))
    on_disk = {n["id"]: n for n in saved["nodes"]}
    assert (on_disk[position]["x"], on_disk[position]["y"]) == (moved["x"], moved["y"])
    assert on_disk[sensor]["wires"] == [[band, show]]
    assert on_disk[sensor]["config"]["interval"] == 0.2
    assert on_disk[band]["config"] == {"band": 1, "mode": "deadband"}
    assert on_disk[publish]["config"]["broker"] == broker
    assert on_disk[broker]["config"]["port"] == mosquitto.port

    # Reload: the same nodes and wires, drawn again, and the live status with them.
    before = shape(await document(page))
    await page.reload()
    await ready(page)
    assert shape(await document(page)) == before
    await expect(page.locator("g[data-node-id]")).to_have_count(6)
    for source, (_, ports) in before.items():
        for port, targets in enumerate(ports):
            for target in targets:
                await expect(wire(page, source, target, port)).to_have_count(1)
    await expect(page.get_by_test_id(f"status-{publish}")).to_have_text("connected")

    # The broker goes away: the status changes.
    mosquitto.stop()
    await expect(page.get_by_test_id(f"status-{publish}")).not_to_have_text("connected")
    await expect(node(page, publish).locator("g.status")).not_to_have_attribute(
        "data-fill", "green")

    assert session.console.unexpected() == []


# --- a change on disk, and a deploy over it ------------------------------------------------
async def test_a_change_on_disk_is_announced_and_a_deploy_over_it_is_refused(
        open_editor: OpenEditor) -> None:
    session = await open_editor(demo_flow())
    page, server = session.page, session.server

    # As `git pull` would: a renamed node, a removed one, written in another layout.
    pulled = json.loads(server.flow.read_text(encoding="utf-8"))
    for item in pulled["nodes"]:
        if item["id"] == "valve-flow":
            item["name"] = "Pulled from git"
        if item["id"] == "commands":
            item["wires"] = [["valve-position"]]
    pulled["nodes"] = [n for n in pulled["nodes"] if n["id"] != "show-command"]
    text = json.dumps(pulled, indent=4)
    server.flow.write_text(text, encoding="utf-8")
    await expect(page.get_by_test_id("banner-flow-changed")).to_be_visible()
    # The file's tab-changed event (for every tab, editor/tabs.py) is no debug message.
    await expect(page.locator('[data-kind="tab-changed"]')).to_have_count(0)

    # A change in the page, then Deploy: refused (412), the conflict dialog offers choices.
    start = await center(node(page, "valve-position").locator(".body"))
    await drag(page, start, (start[0] + 80, start[1] + 60))
    await expect(page.get_by_test_id("deploy-count")).to_have_text("1")
    status, answer = await deploy(page)
    assert status == 412, answer
    dialog = page.get_by_test_id("dialog-conflict")
    await expect(dialog).to_be_visible()
    assert server.flow.read_text(encoding="utf-8") == text  # nothing written

    # Reload takes the disk version; the page's move is dropped.
    await dialog.get_by_test_id("conflict-reload").click()
    await expect(dialog).to_have_count(0)
    await expect(page.get_by_test_id("banner-flow-changed")).to_have_count(0)
    await expect(node(page, "valve-flow").locator("text.label")).to_have_text(
        "Pulled from git")
    await expect(node(page, "show-command")).to_have_count(0)
    await expect(page.get_by_test_id("deploy-count")).to_be_hidden()
    mine = await document(page)
    assert shape(mine) == shape(pulled)
    assert [n for n in mine["nodes"] if n["id"] == "valve-position"] == \
        [n for n in pulled["nodes"] if n["id"] == "valve-position"]
    assert server.flow.read_text(encoding="utf-8") == text

    # And from there a deploy goes through again.
    await drag(page, start, (start[0] + 40, start[1]))
    status, answer = await deploy(page)
    assert status == 200, answer

    assert session.console.unexpected(provoked=[412]) == []


# --- the keyboard --------------------------------------------------------------------------
async def test_copy_paste_delete_undo_redo_with_the_keyboard(
        open_editor: OpenEditor) -> None:
    session = await open_editor(demo_flow())
    page = session.page
    original = "show-command"

    await node(page, original).locator(".body").click()
    await expect(node(page, original)).to_have_class(SELECTED)
    before = await node_ids(page)
    box = await page.locator("#workspace").bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + 500, box["y"] + 450)  # a paste lands at the pointer

    await page.keyboard.press("Control+c")
    await page.keyboard.press("Control+v")
    await page.wait_for_function("n => portless.model.nodes.size > n", arg=len(before))
    [copy] = [i for i in await node_ids(page) if i not in before]
    assert copy != original
    await expect(node(page, copy)).to_have_class(SELECTED)
    await expect(node(page, original)).not_to_have_class(SELECTED)
    copied = await page.evaluate("id => portless.model.get(id)", copy)
    source = await page.evaluate("id => portless.model.get(id)", original)
    assert (copied["type"], copied["config"], copied["name"]) == \
        (source["type"], source["config"], source["name"])

    await page.keyboard.press("Delete")
    await expect(node(page, copy)).to_have_count(0)
    assert copy not in await node_ids(page)

    await page.keyboard.press("Control+z")
    await expect(node(page, copy)).to_have_count(1)
    assert await page.evaluate("id => portless.model.get(id)", copy) == copied

    await page.keyboard.press("Control+y")
    await expect(node(page, copy)).to_have_count(0)
    assert sorted(await node_ids(page)) == sorted(before)

    assert session.console.unexpected() == []


# --- outputs that follow the config ------------------------------------------------------
RULES_PLUGIN = '''from tests.nodetypes import Rules


class BrowserRules(Rules):
    """test-rules, for the `portless run` of a browser test (found by --nodes-dir)."""
'''


async def test_a_config_change_redraws_the_ports_drops_the_wire_and_undo_brings_both_back(
        open_editor: OpenEditor, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "rules.py").write_text(RULES_PLUGIN)
    session = await open_editor({"version": 1, "nodes": [
        {"id": "route", "type": "test-rules", "config": {"rules": [1, 2, 3]},
         "wires": [["low"], [], ["high"]], "x": 100, "y": 100},
        {"id": "low", "type": "debug", "x": 400, "y": 40},
        {"id": "high", "type": "debug", "x": 400, "y": 200},
        {"id": "wide", "type": "test-rules", "config": {"rules": [1, 2, 3, 4]},
         "x": 100, "y": 300}]},
        ("--nodes-dir", str(plugins)))
    page = session.page
    # Four rules and no wires: only the server can tell the page it has four ports.
    await expect(node(page, "wide").locator('[data-port^="out-"]')).to_have_count(4)
    ports = node(page, "route").locator('[data-port^="out-"]')
    await expect(ports).to_have_count(3)
    await expect(wire(page, "route", "high", 2)).to_have_count(1)

    # Two rules: the form says so as it changes, the node has two ports after Done,
    # and the wire from the third port is gone.
    tray = await open_form(page, "route")
    await expect(tray.get_by_test_id("form-outputs")).to_contain_text("3 outputs")
    await tray.locator('[data-field="/config/rules"]').fill("[1, 2]")
    await expect(tray.get_by_test_id("form-outputs")).to_contain_text("2 outputs")
    await tray.get_by_test_id("form-done").click()
    await expect(ports).to_have_count(2)
    await expect(wire(page, "route", "high", 2)).to_have_count(0)
    await expect(wire(page, "route", "low", 0)).to_have_count(1)
    edited = await page.evaluate("portless.model.get('route')")
    assert (edited["config"], edited["wires"]) == ({"rules": [1, 2]}, [["low"], []])

    # One undo brings back the config and the wire.
    await page.get_by_test_id("undo").click()
    await expect(ports).to_have_count(3)
    await expect(wire(page, "route", "high", 2)).to_have_count(1)
    restored = await page.evaluate("portless.model.get('route')")
    assert (restored["config"], restored["wires"]) == (
        {"rules": [1, 2, 3]}, [["low"], [], ["high"]])

    # A config the server cannot count: a clear error, and the ports stay as they were.
    tray = await open_form(page, "route")
    await tray.locator('[data-field="/config/rules"]').fill('"many"')
    await expect(tray.get_by_test_id("form-outputs")).to_contain_text(
        "outputs: /config/rules: must be a list")
    await tray.get_by_test_id("form-done").click()
    await expect(page.get_by_test_id("toast").filter(has_text="The ports of route stay as "
                                                              "they were")).to_be_visible()
    await expect(ports).to_have_count(3)
    await expect(wire(page, "route", "high", 2)).to_have_count(1)
    assert session.console.unexpected() == []


# --- inject ------------------------------------------------------------------------------
async def test_the_inject_button_reads_now_and_the_message_reaches_debug(
        open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": [
        {"id": "meter", "type": "io-in", "name": "Meter",
         "config": {"signal": "counter", "interval": 3600, "topic": "meter/reading"},
         "wires": [["show"]], "x": 120, "y": 100},
        {"id": "show", "type": "debug", "config": {}, "x": 340, "y": 100},
    ]})
    page = session.page
    items = page.locator('[data-testid="debug-item"][data-node="show"]')
    # The first reading (at start, an hour before the next) came before the page did.
    seen = await items.count()

    await page.get_by_test_id("inject-meter").click()
    await expect(items).to_have_count(seen + 1)
    await expect(items.last.locator(".debug-topic")).to_have_text("meter/reading")
    await expect(items.last.locator(".debug-text")).to_have_text("1")  # counter
    await expect(page.get_by_test_id("toast").filter(has_text="Injected")).to_be_visible()

    assert session.console.unexpected() == []


async def test_the_inject_button_of_an_inject_node_sends_its_properties(
        open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": [
        {"id": "start", "type": "inject", "name": "Start",
         "config": {"properties": [
             {"property": "payload", "value": {"kind": "string", "value": "hello"}},
             {"property": "topic", "value": {"kind": "string", "value": "t4"}}]},
         "wires": [["show"]], "x": 120, "y": 100},
        {"id": "show", "type": "debug", "config": {}, "x": 340, "y": 100},
    ]})
    page = session.page
    items = page.locator('[data-testid="debug-item"][data-node="show"]')
    await expect(items).to_have_count(0)  # no repeat, not once: nothing until the button

    await page.get_by_test_id("inject-start").click()  # Node-RED: "post: should inject"
    await expect(items).to_have_count(1)
    await expect(items.last.locator(".debug-topic")).to_have_text("t4")
    await expect(items.last.locator(".debug-text")).to_have_text("hello")
    assert session.console.unexpected() == []


# --- a normal session has a clean console --------------------------------------------------
async def test_a_normal_session_logs_no_console_errors(open_editor: OpenEditor) -> None:
    session = await open_editor(demo_flow())
    page = session.page
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)

    await node(page, "report-by-exception").locator(".body").click()
    await page.keyboard.press("Enter")
    tray = tray_of(page, "report-by-exception")
    await expect(tray).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(tray).to_have_count(0)
    for tab in ("tab-info", "tab-connections", "tab-debug"):
        await page.get_by_test_id(tab).click()
        await expect(page.get_by_test_id(f"panel-{tab.removeprefix('tab-')}")).to_be_visible()
    await page.get_by_test_id("zoom-out").click()
    await page.get_by_test_id("zoom-reset").click()
    await page.keyboard.press("Control+f")
    await page.get_by_test_id("find-input").fill("valve")
    await page.keyboard.press("Escape")
    await page.keyboard.press("Control+e")
    await expect(page.get_by_test_id("dialog-export")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("dialog-export")).to_have_count(0)
    await page.reload()
    await ready(page)

    assert failed == []
    assert session.console.unexpected() == []


# --- a node that fails to start ------------------------------------------------------------
async def test_a_deploy_with_a_node_that_fails_to_start_says_so_in_the_toast_and_on_the_node(
        open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": [
        {"id": "plant", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": free_port(),
                    "tls": {"ca_file": "/nonexistent/plant-ca.pem"}}},
        {"id": "meter", "type": "io-in", "config": {"signal": "counter", "interval": 3600},
         "wires": [["show"]], "x": 120, "y": 100},
        {"id": "show", "type": "debug", "config": {}, "x": 340, "y": 100},
    ]})
    page = session.page
    await page.get_by_test_id("tab-connections").click()
    await expect(page.get_by_test_id("status-plant")).to_contain_text(
        "failed to start: ValueError: tls.ca_file /nonexistent/plant-ca.pem")

    # Any deploy tries the failed node again; its answer and the toast say it failed.
    start = await center(node(page, "meter").locator(".body"))
    await drag(page, start, (start[0] + 60, start[1] + 40))
    status, answer = await deploy(page)
    assert status == 200, answer
    assert [failure["node"] for failure in answer["failed"]] == ["plant"]
    assert "plant" not in answer["started"]
    toast = page.get_by_test_id("toast").filter(has_text="1 node failed to start: plant (")
    await expect(toast).to_be_visible()
    await expect(toast).to_have_class(re.compile(r"\berror\b"))
    await expect(page.get_by_test_id("status-plant")).to_contain_text("failed to start")
    assert session.console.unexpected() == []


# --- disabled nodes ----------------------------------------------------------------------
async def test_a_disabled_node_is_drawn_dimmed_and_a_deploy_keeps_it_disabled(
        open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": [
        {"id": "meter", "type": "io-in", "config": {"interval": 3600}, "wires": [["off"]],
         "x": 120, "y": 100},
        {"id": "off", "type": "debug", "disabled": True, "config": {}, "x": 340, "y": 100},
    ]})
    page = session.page
    await expect(node(page, "off")).to_have_class(re.compile(r"\bdisabled\b"))
    await expect(node(page, "meter")).not_to_have_class(re.compile(r"\bdisabled\b"))
    await expect(node(page, "off").locator("title")).to_contain_text("disabled: not run")
    await drag(page, await center(node(page, "meter")), (200, 300))  # a change to deploy
    status, _ = await deploy(page)
    assert status == 200
    written = json.loads(session.server.flow.read_text(encoding="utf-8"))
    assert [n.get("disabled") for n in written["nodes"]] == [None, True]
    assert list(written["nodes"][1]) == ["id", "type", "disabled", "config", "x", "y"]
    assert session.console.unexpected() == []
