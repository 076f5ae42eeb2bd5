"""Subflows in the editor, in real headless Chromium against `portless run`: an instance
is one node with its ports and its one status; opening it shows its inner nodes; an
edit deployed from there changes what the running instance does; a bad edit names the
inner node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Response, expect

from tests.editor.browser import (
    node,
    open_form,
    open_page,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.slow  # drives headless Chromium

FLOW: dict[str, Any] = {"version": 1, "nodes": [
    {"id": "meter", "type": "io-in", "x": 100, "y": 100, "wires": [["sf1"]],
     "config": {"signal": "constant", "offset": 3, "interval": 3600}},
    {"id": "sf1", "type": "subflow:doubler", "x": 300, "y": 100, "wires": [["show"]]},
    {"id": "show", "type": "debug", "x": 500, "y": 100, "config": {}},
]}


def doubler(level: Path) -> dict[str, Any]:
    """Scales its input by 2; beside it, a reader of a file holding no number, whose red
    status is the instance's (the worst of its nodes')."""
    return {"version": 1, "name": "doubler",
            "subflow": {"input": ["scale"], "outputs": [[{"node": "scale"}]]},
            "nodes": [
                {"id": "scale", "type": "scale", "x": 200, "y": 100, "config": {"factor": 2}},
                {"id": "level", "type": "io-in", "x": 200, "y": 200,
                 "config": {"source": "file", "path": str(level), "interval": 3600}}]}


def is_put_subflow(response: Response) -> bool:
    return response.request.method == "PUT" and "/api/subflows/" in response.url


async def deploy(page: Page) -> tuple[int, dict[str, Any]]:
    async with page.expect_response(is_put_subflow) as answer:
        await page.get_by_test_id("deploy").click()
    response = await answer.value
    body: dict[str, Any] = await response.json()
    return response.status, body


async def test_a_subflow_instance_is_opened_edited_and_deployed(
        tmp_path: Path, browser: Browser) -> None:
    level = tmp_path / "level"
    level.write_text("oops\n")
    definition = tmp_path / "subflows" / "doubler.json"
    definition.parent.mkdir()
    definition.write_text(json.dumps(doubler(level), indent=2))
    server = await start_server(tmp_path, FLOW, args=("--allow-path", str(tmp_path)))
    context, page, console = await open_page(browser, server.url)
    try:
        await expect(page.get_by_test_id("ws-state")).to_have_attribute("data-state", "open")

        # One node, with the subflow's ports and its one status (the reader's red one).
        instance = node(page, "sf1")
        await expect(instance.locator('[data-port="in"]')).to_have_count(1)
        await expect(instance.locator('[data-port^="out-"]')).to_have_count(1)
        await expect(page.get_by_test_id("status-sf1")).to_contain_text("not a number")
        await expect(page.locator('g[data-node-id="sf1/scale"]')).to_have_count(0)
        await expect(page.get_by_test_id("palette-subflow:doubler")).to_be_visible()

        items = page.locator('[data-testid="debug-item"][data-node="show"]')
        seen = await items.count()
        await page.get_by_test_id("inject-meter").click()
        await expect(items).to_have_count(seen + 1)
        await expect(items.last.locator(".debug-text")).to_have_text("6.0")

        # Double-click: the subflow's own nodes, and a bar to go back.
        await instance.locator(".body").dblclick()
        await expect(page.get_by_test_id("subflow-bar")).to_contain_text("doubler")
        await node(page, "scale").wait_for()
        await node(page, "level").wait_for()
        await expect(node(page, "meter")).to_have_count(0)
        await expect(page.get_by_test_id("tab-bar")).to_have_attribute("inert", "")

        tray = await open_form(page, "scale")
        await tray.locator('[data-field="/config/factor"]').fill("10")
        await tray.get_by_test_id("form-done").click()
        status, answer = await deploy(page)
        assert status == 200, answer
        assert "sf1/scale" in answer["tabs"][0]["stopped"]  # the instance restarted
        # The restarted instance's inner statuses show under the inner nodes.
        await expect(page.get_by_test_id("status-level")).to_contain_text("not a number")
        deployed = definition.read_text()
        assert json.loads(deployed)["nodes"][0]["config"]["factor"] == 10

        # A bad edit: refused, the error naming the inner node, the file as it was.
        tray = await open_form(page, "scale")
        await tray.locator('[data-field="/config/property"]').fill("payload[x]")
        await tray.get_by_test_id("form-done").click()
        status, answer = await deploy(page)
        assert status == 400
        errors = page.get_by_test_id("deploy-error")
        await expect(errors.filter(has_text="node scale: /config/property")).to_have_count(1)
        await expect(errors.filter(has_text="(subflow:doubler, inner node scale)")
                     ).to_have_count(1)
        await page.get_by_test_id("errors-close").click()
        await expect(page.get_by_test_id("invalid-scale")).to_be_attached()
        assert definition.read_text() == deployed

        # Back to the flow (dropping the bad edit): the running instance now scales by 10.
        await page.get_by_test_id("subflow-back").click()
        await page.get_by_test_id("subflow-discard").click()
        await expect(page.get_by_test_id("subflow-bar")).to_have_count(0)
        await node(page, "meter").wait_for()
        await expect(page.get_by_test_id("tab-bar")).not_to_have_attribute("inert", "")
        seen = await items.count()
        await page.get_by_test_id("inject-meter").click()
        await expect(items).to_have_count(seen + 1)
        await expect(items.last.locator(".debug-text")).to_have_text("30.0")
        await expect(page.get_by_test_id("status-sf1")).to_contain_text("not a number")

        # The palette entry's edit opens the subflow too.
        await page.get_by_test_id("palette-edit-subflow:doubler").click()
        await node(page, "scale").wait_for()
        await page.get_by_test_id("subflow-back").click()
        await node(page, "meter").wait_for()
        assert console.unexpected(provoked=[400]) == []
    finally:
        await context.close()
        await stop_server(server)
