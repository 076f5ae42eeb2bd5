"""The form's widgets in real headless Chromium against `portless run`: the palette's
groups in Node-RED's order, the typed-value picker, rule lists whose rows are the
node's ports, and code fields; each edit is deployed and read back from the flow file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from playwright.async_api import Locator, Page, expect

from tests.editor.browser import node, open_form, wire
from tests.editor.test_browser import (  # noqa: F401 (open_editor is a fixture)
    OpenEditor,
    deploy,
    open_editor,
)

pytestmark = pytest.mark.slow  # each test drives headless Chromium

PLUGIN = '''from portless.runtime import Node


class Gadget(Node):
    """A type in a category of a plugin's own: its group comes after Node-RED's."""

    type = "test-gadget"
    category = "gadgets"
    schema = {"type": "object", "properties": {}}
'''
NODE_RED_ORDER = ("subflows", "common", "function", "network", "input", "output", "sequence",
                  "parser", "storage")
"""Node-RED 4's palette groups, in its order (coreCategories in its palette.js)."""


def saved(path: Path) -> dict[str, Any]:
    """The flow file's nodes by id, as the last deploy wrote them."""
    return {n["id"]: n for n in json.loads(path.read_text())["nodes"]}


async def test_the_palette_groups_come_in_node_reds_order(
        open_editor: OpenEditor, tmp_path: Path) -> None:  # noqa: F811
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "gadget.py").write_text(PLUGIN)
    session = await open_editor({"version": 1, "nodes": []}, ("--nodes-dir", str(plugins)))
    page = session.page
    groups = await page.locator(".palette-group").evaluate_all(
        "sections => sections.map((s) => s.dataset.category)")
    # The built-ins and the example plugins installed with them (append-file: storage);
    # a group with no types yet (sequence) is not shown.
    assert {"common", "function", "network", "input", "output", "parser",
            "storage"} <= set(groups)
    assert groups == [*(name for name in NODE_RED_ORDER if name in groups), "gadgets"]
    common = page.locator('.palette-group[data-category="common"] .palette-node')
    assert "debug" in await common.evaluate_all("nodes => nodes.map((n) => n.dataset.type)")
    assert session.console.unexpected() == []


def rows(tray: Locator, key: str = "rules") -> Locator:
    return tray.locator(f'[data-field="/config/{key}"] > .list-rows > .list-row')


async def route_of(page: Page) -> tuple[dict[str, Any], list[list[str]]]:
    found: dict[str, Any] = await page.evaluate("portless.model.get('route')")
    return found["config"], found.get("wires", [])


async def test_a_switch_rule_added_moved_and_removed_is_a_port_with_its_wire(
        open_editor: OpenEditor) -> None:  # noqa: F811
    session = await open_editor({"version": 1, "nodes": [
        {"id": "route", "type": "switch", "x": 100, "y": 100, "wires": [["one"]],
         "config": {"rules": [{"operator": "==", "value": {"kind": "number", "value": 1}}]}},
        {"id": "one", "type": "debug", "x": 400, "y": 100, "config": {}}]})
    page = session.page
    ports = node(page, "route").locator('[data-port^="out-"]')
    await expect(ports).to_have_count(1)
    tray = await open_form(page, "route")
    await expect(rows(tray)).to_have_count(1)
    # The row shows the value the operator takes, not the fields of other operators.
    first = rows(tray).nth(0)
    await expect(first.locator('[data-field="/config/rules/0/value/kind"]')).to_have_value("number")
    await expect(first.locator('[data-field="/config/rules/0/value2/kind"]')).to_be_hidden()

    # A rule added is a port on the canvas at once, before Done.
    await tray.get_by_test_id("list-add-/config/rules").click()
    await expect(rows(tray)).to_have_count(2)
    await expect(tray.get_by_test_id("form-outputs")).to_contain_text("2 outputs")
    await expect(ports).to_have_count(2)
    second = rows(tray).nth(1)
    await second.locator('[data-field="/config/rules/1/operator"]').select_option(">")
    await second.locator('[data-field="/config/rules/1/value/kind"]').select_option("number")
    await second.locator('[data-field="/config/rules/1/value/value"]').fill("5")
    # Moved up, it takes the first port; the wire of "== 1" goes with its rule.
    await second.get_by_test_id("list-up").click()
    await expect(rows(tray).nth(0).get_by_test_id("list-port")).to_have_text("\u2192 1")
    await expect(wire(page, "route", "one", 1)).to_have_count(1)
    await expect(wire(page, "route", "one", 0)).to_have_count(0)
    await tray.get_by_test_id("form-done").click()
    config, wires = await route_of(page)
    assert [rule["operator"] for rule in config["rules"]] == [">", "=="]
    assert config["rules"][0] == {"operator": ">", "value": {"kind": "number", "value": 5}}
    assert wires == [[], ["one"]]

    status, _ = await deploy(page)
    assert status == 200
    written = saved(session.server.flow)["route"]
    assert (written["config"]["rules"], written["wires"]) == (config["rules"], wires)

    # Removing the wired rule removes its port and its wire; one undo brings both back.
    tray = await open_form(page, "route")
    await rows(tray).nth(1).get_by_test_id("list-remove").click()
    await expect(ports).to_have_count(1)
    await expect(wire(page, "route", "one", 1)).to_have_count(0)
    await tray.get_by_test_id("form-done").click()
    assert (await route_of(page))[1] == [[]]
    await page.get_by_test_id("undo").click()
    await expect(ports).to_have_count(2)
    await expect(wire(page, "route", "one", 1)).to_have_count(1)
    assert await route_of(page) == (config, wires)

    # Cancel puts the ports the form showed back as they are.
    tray = await open_form(page, "route")
    await tray.get_by_test_id("list-add-/config/rules").click()
    await expect(ports).to_have_count(3)
    await tray.get_by_test_id("form-cancel").click()
    await expect(ports).to_have_count(2)
    assert session.console.unexpected() == []


async def test_a_typed_value_picks_flow_context_and_a_number_and_deploys(
        open_editor: OpenEditor) -> None:  # noqa: F811
    session = await open_editor({"version": 1, "nodes": [
        {"id": "set", "type": "change", "x": 100, "y": 100, "config": {"rules": [
            {"action": "set", "property": {"kind": "msg", "value": "payload"},
             "value": {"kind": "string", "value": "x"}}]}}]})
    page = session.page
    tray = await open_form(page, "set")
    row = rows(tray).nth(0)
    kind = row.locator('[data-field="/config/rules/0/property/kind"]')
    assert await kind.locator("option").all_text_contents() == ["msg.", "flow.", "global."]
    await kind.select_option(label="flow.")
    # The text stays when the kind changes, as in Node-RED's TypedInput.
    await expect(row.locator('[data-field="/config/rules/0/property/value"]')).to_have_value(
        "payload")
    await row.locator('[data-field="/config/rules/0/property/value"]').fill("level")
    await row.locator('[data-field="/config/rules/0/value/kind"]').select_option("number")
    value = row.locator('[data-field="/config/rules/0/value/value"]')
    await value.fill("a lot")
    await expect(row.locator('[data-error-for="/config/rules/0/value"]')).to_have_text(
        "must be a number")
    await value.fill("42")
    await expect(row.locator('[data-error-for="/config/rules/0/value"]')).to_be_hidden()
    # A boolean is a choice of true or false.
    await tray.get_by_test_id("list-add-/config/rules").click()
    added = rows(tray).nth(1)
    await added.locator('[data-field="/config/rules/1/value/kind"]').select_option("boolean")
    await added.locator('[data-field="/config/rules/1/value/value"]').select_option("false")
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    assert saved(session.server.flow)["set"]["config"]["rules"] == [
        {"action": "set", "property": {"kind": "flow", "value": "level"},
         "value": {"kind": "number", "value": 42}},
        {"action": "set", "property": {"kind": "msg", "value": "payload"},
         "value": {"kind": "boolean", "value": False}}]
    assert session.console.unexpected() == []
