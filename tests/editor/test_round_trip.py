"""Every shipped flow through the real editor and back, byte for byte: the page's writer
(editor/static/canonical.js) and Python's (runtime/canonical.py) agree, Export gives the
file's text, a deploy that moved nothing rewrites nothing, and moving one node changes
only its x and y lines."""

from __future__ import annotations

import difflib
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from portless.editor.masking import mask_document
from portless.runtime import Registry, canonical_text
from tests.editor.browser import (
    ROOT,
    TIMEOUT_MS,
    VIEWPORT,
    center,
    drag,
    node,
    start_server,
    stop_server,
)
from tests.editor.test_browser import demo_flow, deploy, ready
from tests.mosquitto import free_port
from tests.runtime.test_canonical import NUMBER_FORMS

pytestmark = pytest.mark.slow  # each test drives headless Chromium

SHIPPED = sorted([*ROOT.glob("flows/*.json"), *ROOT.glob("examples/*.json")])
ENVIRONMENT = {"MQTT_HOST": "127.0.0.1", "MQTT_USERNAME": "valve-1",
               "MQTT_PASSWORD": "not-a-real-password", "MQTT_CA_FILE": "/nonexistent/ca.pem"}
"""What examples/valve-tls.json asks for; its broker then fails to start, which is fine:
the flow file is what is tested, not the link."""
CANONICAL_JS = "async (document) => (await import('/static/canonical.js')).canonicalText(document)"


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        await context.close()


def on_a_free_port(shipped: Path) -> tuple[str, dict[str, Any]]:
    """The shipped flow with each broker moved to a closed loopback port (no test may
    reach a broker on 1883), as canonical text; only the port lines differ."""
    original = shipped.read_text(encoding="utf-8")
    document = json.loads(original)
    for item in document["nodes"]:
        if item["type"] in ("mqtt-broker", "sparkplug-node"):  # a sparkplug-node is one
            item["config"]["port"] = free_port()
    text = canonical_text(document)
    changed = [line for line in difflib.ndiff(original.splitlines(), text.splitlines())
               if line.startswith(("-", "+"))]
    assert all('"port": ' in line for line in changed), changed
    return text, document


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda path: str(path.relative_to(ROOT)))
async def test_a_shipped_flow_goes_through_the_browser_and_back_byte_for_byte(
        shipped: Path, tmp_path: Path, page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)  # the portless process inherits them
    text, document = on_a_free_port(shipped)
    if (shipped.parent / "subflows").is_dir():  # found beside the flow, as in flows/
        shutil.copytree(shipped.parent / "subflows", tmp_path / "subflows")
    server = await start_server(tmp_path, document, text=text)
    try:
        await page.goto(server.url)
        await ready(page)
        assert await page.evaluate(CANONICAL_JS, json.loads(text)) == text

        status, _ = await deploy(page)
        assert status == 200
        assert server.flow.read_text(encoding="utf-8") == text

        await page.keyboard.press("Control+e")  # Export: the file's text, secrets masked
        exported = await page.get_by_test_id("export-text").input_value()
        await page.keyboard.press("Escape")
        assert exported == canonical_text(mask_document(json.loads(text), Registry.discover()))

        drawn = await page.evaluate(
            "[...document.querySelectorAll('g[data-node-id]')].map((g) => g.dataset.nodeId)")
        moved = next(item for item in document["nodes"] if item["id"] in drawn)
        x, y = await center(node(page, moved["id"]))
        await drag(page, (x, y), (x + 60, y + 40))
        status, answer = await deploy(page)
        assert status == 200
        assert answer["started"] == []  # a move restarts nothing
        after = server.flow.read_text(encoding="utf-8")
        held = next(item for item in await page.evaluate("portless.model.toDocument().nodes")
                    if item["id"] == moved["id"])
        assert (held["x"], held["y"]) != (moved["x"], moved["y"])
        changed = [line for line in difflib.unified_diff(text.splitlines(), after.splitlines(),
                                                         lineterm="", n=0)
                   if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
        assert sorted(changed) == sorted([
            f'-      "x": {moved["x"]},', f'-      "y": {moved["y"]}',
            f'+      "x": {held["x"]},', f'+      "y": {held["y"]}'])
    finally:
        await stop_server(server)


async def test_the_page_and_python_write_every_number_alike(
        tmp_path: Path, page: Page) -> None:
    """The same table as tests/runtime/test_canonical.py, through Chromium's writer."""
    document = {"version": 1, "nodes": [
        {"id": f"n{index}", "type": "debug", "config": {"v": value}}
        for index, (value, _) in enumerate(NUMBER_FORMS)]}
    server = await start_server(tmp_path, {"version": 1, "nodes": []})
    try:
        await page.goto(server.url)
        await ready(page)
        written = await page.evaluate(CANONICAL_JS, document)
    finally:
        await stop_server(server)
    assert written == canonical_text(document)
    for index, (_, expected) in enumerate(NUMBER_FORMS):
        assert f'"id": "n{index}",\n      "type": "debug",\n      "config": {{\n' \
               f'        "v": {expected}\n' in written


async def test_the_flows_context_store_survives_a_deploy_from_the_browser(
        tmp_path: Path, page: Page) -> None:
    """The page reads and writes the whole document: a flow-level field it has no form
    for ("context") is kept through a change and a deploy, in its place before the
    nodes."""
    document = {"version": 1, "name": "Valve", "context": {"store": "persistent"},
                "nodes": demo_flow()["nodes"]}
    server = await start_server(tmp_path, document, text=canonical_text(document))
    try:
        await page.goto(server.url)
        await ready(page)
        drawn = await page.evaluate(
            "document.querySelector('g[data-node-id]').dataset.nodeId")
        x, y = await center(node(page, drawn))
        await drag(page, (x, y), (x + 60, y + 40))
        status, _ = await deploy(page)
        assert status == 200
        text = server.flow.read_text(encoding="utf-8")
        assert text != canonical_text(document)  # the page wrote the file: the move
        written = json.loads(text)
        assert written["name"] == "Valve"
        assert written["context"] == {"store": "persistent"}
        assert text == canonical_text(written)
        assert list(written) == ["version", "name", "context", "nodes"]
    finally:
        await stop_server(server)
