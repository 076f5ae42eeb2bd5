"""The editor's tab bar in real headless Chromium: a process running three flow files
shows three tabs; the page switches between them, deploys one alone, accepts a
reference into another tab, adds and deletes tabs and says why a delete is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Response, expect

from tests.editor.browser import (
    Console,
    center,
    drag,
    node,
    open_page,
    start_server,
    stop_server,
    write_document,
)
from tests.mosquitto import free_port

pytestmark = pytest.mark.slow  # drives headless Chromium

MAIN: dict[str, Any] = {"version": 1, "name": "Main", "nodes": [
    {"id": "show", "type": "debug", "config": {}, "x": 100, "y": 100}]}
NETWORK: dict[str, Any] = {"version": 1, "name": "Network", "nodes": [
    {"id": "plant", "type": "mqtt-broker",
     "config": {"host": "127.0.0.1", "port": free_port(), "reconnect_min_delay": 30}}]}
VALVE: dict[str, Any] = {"version": 1, "name": "Valve", "nodes": [
    {"id": "rate", "type": "io-in", "config": {"interval": 3600}, "wires": [["publish"]],
     "x": 100, "y": 100},
    {"id": "publish", "type": "mqtt-out", "config": {"broker": "plant", "topic": "v/rate"},
     "x": 320, "y": 100}]}


@pytest.fixture
async def tabs_page(tmp_path: Path, browser: Browser) -> AsyncIterator[tuple[Page, Path,
                                                                              Console]]:
    """`portless run main.json network.json valve.json` and its editor, signed in."""
    flows = tmp_path / "flows"
    more = [write_document(flows / "network.json", NETWORK),
            write_document(flows / "valve.json", VALVE)]
    server = await start_server(flows, MAIN, name="main.json", more=more)
    context, page, console = await open_page(browser, server.url)
    try:
        yield page, flows, console
    finally:
        await context.close()
        await stop_server(server)


def answered(method: str, path: str) -> Any:
    return lambda r: r.request.method == method and r.url.split("?")[0].endswith(path)


async def test_switch_deploy_add_and_delete_tabs(
        tabs_page: tuple[Page, Path, Console]) -> None:
    page, flows, console = tabs_page
    tab = page.get_by_test_id
    await expect(tab("tab-main")).to_have_text("Main")
    await expect(tab("tab-main")).to_have_attribute("aria-selected", "true")
    await expect(tab("tab-network")).to_have_text("Network")
    await expect(tab("tab-valve")).to_have_text("Valve")
    await expect(tab("tab-delete-main")).to_have_count(0)  # /api/flow's tab stays

    # Switching shows that file; its reference to a connection in another tab is fine,
    # by the page's own check and by the server's validation of that tab.
    async with page.expect_response(answered("POST", "/api/tabs/valve/validate")) as checked:
        await tab("tab-valve").click()
    assert (await (await checked.value).json())["errors"] == []
    await node(page, "publish").wait_for()
    await expect(node(page, "show")).to_have_count(0)
    await expect(tab("tab-valve")).to_have_attribute("aria-selected", "true")
    assert await page.evaluate("portless.problems.of('publish')") == []

    # A deploy of the second tab writes its file only.
    main_before = (flows / "main.json").read_text()
    start = await center(node(page, "rate").locator(".body"))
    await drag(page, start, (start[0] + 60, start[1] + 40))
    async with page.expect_response(answered("PUT", "/api/tabs/valve")) as put:
        await tab("deploy").click()
    response: Response = await put.value
    assert response.status == 200, await response.text()
    written = json.loads((flows / "valve.json").read_text())
    assert written["nodes"][0]["x"] == 160
    assert (flows / "main.json").read_text() == main_before

    # Rename: the tab's document gets a new name, deployed, and the bar shows it.
    await tab("tab-valve").dblclick()
    await tab("tab-rename-dialog-label").fill("Valves")
    async with page.expect_response(answered("PUT", "/api/tabs/valve")) as put:
        await tab("tab-rename-dialog-ok").click()
    assert (await put.value).status == 200
    assert json.loads((flows / "valve.json").read_text())["name"] == "Valves"
    await expect(tab("tab-valve")).to_have_text("Valves")

    # A tab whose connection another tab uses cannot go: the toast says which node.
    await tab("tab-delete-network").click()
    async with page.expect_response(answered("DELETE", "/api/tabs/network")) as refused:
        await tab("tab-delete-confirm").click()
    assert (await refused.value).status == 409
    await expect(tab("toast").filter(has_text="Not deleted")).to_contain_text("publish")
    assert (flows / "network.json").exists()

    # Add a tab: a new file, shown at once; then delete it again.
    await tab("tab-add").click()
    await tab("tab-add-dialog-name").fill("spare")
    await tab("tab-add-dialog-label").fill("Spare")
    async with page.expect_response(answered("POST", "/api/tabs")) as added:
        await tab("tab-add-dialog-ok").click()
    assert (await added.value).status == 201
    await expect(tab("tab-spare")).to_have_attribute("aria-selected", "true")
    assert json.loads((flows / "spare.json").read_text())["name"] == "Spare"
    assert await page.evaluate("portless.model.nodes.size") == 0

    await tab("tab-delete-spare").click()
    async with page.expect_response(answered("DELETE", "/api/tabs/spare")) as deleted:
        await tab("tab-delete-confirm").click()
    assert (await deleted.value).status == 200
    await expect(tab("tab-spare")).to_have_count(0)
    await expect(tab("tab-main")).to_have_attribute("aria-selected", "true")
    await node(page, "show").wait_for()
    assert not (flows / "spare.json").exists()
    assert console.unexpected(provoked=[409]) == []


async def tab_order(page: Page) -> list[str]:
    order: list[str] = await page.evaluate(
        "[...document.querySelectorAll('[data-testid=tab-bar] [role=tab]')]"
        ".map((t) => t.dataset.testid.slice(4))")
    return order


async def test_tabs_are_reordered_by_drag_or_keys_and_keep_their_order(
        tabs_page: tuple[Page, Path, Console]) -> None:
    page, _, console = tabs_page
    tab = page.get_by_test_id
    await expect(tab("tab-valve")).to_be_visible()
    assert await tab_order(page) == ["main", "network", "valve"]
    await tab("tab-valve").drag_to(tab("tab-network"))
    assert await tab_order(page) == ["main", "valve", "network"]
    await tab("tab-valve").drag_to(tab("tab-main"))  # the first tab stays first
    assert await tab_order(page) == ["main", "valve", "network"]

    await page.reload()
    await expect(tab("tab-valve")).to_be_visible()
    assert await tab_order(page) == ["main", "valve", "network"]  # this browser kept it
    await tab("tab-network").focus()
    await page.keyboard.press("Alt+ArrowLeft")
    assert await tab_order(page) == ["main", "network", "valve"]
    await expect(tab("tab-network")).to_be_focused()
    assert console.unexpected() == []
