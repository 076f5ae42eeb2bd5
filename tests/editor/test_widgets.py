"""The form's widgets in real headless Chromium against `portless run`: the palette's
groups in Node-RED's order, the typed-value picker, rule lists whose rows are the
node's ports, and code fields; each edit is deployed and read back from the flow file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.editor.browser import center, drag, node, open_form, wire
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


async def paste(page: Page, item: dict[str, Any]) -> None:
    """Add a node as a paste does: the page takes it as it is."""
    await page.evaluate(
        "item => portless.model.transaction('paste', () => portless.model.add(item))", item)


SHOWN_AS_WRITTEN: list[tuple[dict[str, Any], str, str, str]] = [
    ({"property": "payload"}, "property", '"payload"', "must be an object"),
    ({"rules": [1, "two"]}, "rules", '[\n  1,\n  "two"\n]', "must be an object"),
    ({"property": {"kind": "cookie", "value": "session"}}, "property",
     '{\n  "kind": "cookie",\n  "value": "session"\n}', "must be one of"),
]
"""A switch config a widget cannot show, the field, its JSON text and its error."""


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


async def test_change_rules_reorder_by_drag_and_buttons_and_keep_what_each_takes(
        open_editor: OpenEditor) -> None:  # noqa: F811
    def rule(action: str, key: str) -> dict[str, Any]:
        found: dict[str, Any] = {"action": action, "property": {"kind": "msg", "value": key}}
        if action == "set":
            found["value"] = {"kind": "string", "value": key.upper()}
        return found

    session = await open_editor({"version": 1, "nodes": [
        {"id": "edit", "type": "change", "x": 100, "y": 100,
         "config": {"rules": [rule("set", "a"), rule("set", "b"), rule("delete", "c")]}}]})
    page = session.page
    tray = await open_form(page, "edit")
    await expect(rows(tray)).to_have_count(3)
    # A delete takes no value: its row does not offer one.
    await expect(rows(tray).nth(2).locator('[data-field="/config/rules/2/value/kind"]')
                 ).to_be_hidden()
    # Drag the third row's handle above the first.
    # (the first row's handle is above its middle: the dragged row lands before it)
    await drag(page, await center(rows(tray).nth(2).get_by_test_id("list-handle")),
               await center(rows(tray).nth(0).get_by_test_id("list-handle")))
    await expect(rows(tray).nth(0).locator('[data-field="/config/rules/0/property/value"]')
                 ).to_have_value("c")
    # Then the first down one place with its button, and the last up with Alt+Up.
    await rows(tray).nth(0).get_by_test_id("list-down").click()
    await rows(tray).nth(2).locator('[data-field="/config/rules/2/action"]').focus()
    await page.keyboard.press("Alt+ArrowUp")
    # A rule turned from set into delete loses its value.
    await rows(tray).nth(0).locator('[data-field="/config/rules/0/action"]').select_option(
        "delete")
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    assert saved(session.server.flow)["edit"]["config"]["rules"] == [
        rule("delete", "a"), rule("set", "b"), rule("delete", "c")]
    assert session.console.unexpected() == []


async def test_a_code_field_keeps_indentation_and_numbers_its_lines(
        open_editor: OpenEditor) -> None:  # noqa: F811
    session = await open_editor({"version": 1, "nodes": [
        {"id": "code", "type": "function", "x": 100, "y": 100, "config": {}}]})
    page = session.page
    tray = await open_form(page, "code")
    area = tray.locator('textarea[data-field="/config/code"]')
    await expect(area).to_have_class(re.compile(r"\bcode\b"))
    await area.press("Control+a")
    await area.press("Delete")
    # Enter keeps the indentation and adds a level after a line ending in ":";
    # Shift+Tab takes one off, Tab puts one on. (text typed, or a key pressed)
    for step in ("if msg['payload'] > 1:", "Enter", "msg['big'] = True", "Enter",
                 "return msg", "Enter", "Shift+Tab", "msg['big'] = False", "Enter", "Tab",
                 "Shift+Tab", "return msg"):
        if step in ("Enter", "Tab", "Shift+Tab"):
            await page.keyboard.press(step)
        else:
            await page.keyboard.type(step)
    code = ("if msg['payload'] > 1:\n    msg['big'] = True\n    return msg\n"
            "msg['big'] = False\nreturn msg")
    await expect(area).to_have_value(code)
    await expect(tray.locator('[data-row="/config/code"] .code-lines')).to_have_text(
        "1\n2\n3\n4\n5")
    # The focus stays in the field: Tab indented, it did not move on.
    assert await area.evaluate("el => el === document.activeElement")
    # Selected lines indent and outdent together.
    await area.evaluate("el => el.setSelectionRange(0, el.value.indexOf('return msg'))")
    await page.keyboard.press("Tab")
    await expect(area).to_have_value("\n".join(
        f"    {line}" for line in code.splitlines()[:3]) + "\n" + "\n".join(
        code.splitlines()[3:]))
    await page.keyboard.press("Shift+Tab")
    await expect(area).to_have_value(code)
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    assert saved(session.server.flow)["code"]["config"]["code"] == code
    assert session.console.unexpected() == []


async def test_a_config_the_widgets_cannot_show_is_shown_as_written_with_its_error(
        open_editor: OpenEditor) -> None:  # noqa: F811
    many = [{"operator": "==", "value": {"kind": "number", "value": i}} for i in range(100)]
    session = await open_editor({"version": 1, "nodes": [
        {"id": "wide", "type": "switch", "x": 100, "y": 300, "config": {"rules": many}}]})
    page = session.page
    # A file with it does not run; a pasted node can be anything. Not a typed value, not
    # a list of rules, a kind the picker does not offer: JSON text, as written, and why
    # (never the first kind or an empty list instead).
    for i, (config, key, text, error) in enumerate(SHOWN_AS_WRITTEN):
        await paste(page, {"id": f"odd-{i}", "type": "switch", "x": 100, "y": 100 + 50 * i,
                           "config": config})
        tray = await open_form(page, f"odd-{i}")
        await expect(tray.locator(f'textarea[data-field="/config/{key}"]')).to_have_value(text)
        await expect(tray.locator(f'[data-error-for="/config/{key}"]')).to_contain_text(error)
        await tray.get_by_test_id("form-cancel").click()
    # A long script: a gutter of 20,000 line numbers, one text.
    await paste(page, {"id": "long", "type": "function", "x": 100, "y": 400,
                       "config": {"code": "x = 1\n" * 19999 + "return msg"}})
    tray = await open_form(page, "long")
    gutter = tray.locator('[data-row="/config/code"] .code-lines')
    assert (await gutter.text_content() or "").endswith("\n19999\n20000")
    await tray.get_by_test_id("form-cancel").click()
    # The most rules a switch may have: a row and a port each; no more can be added.
    tray = await open_form(page, "wide")
    await expect(rows(tray)).to_have_count(100)
    await expect(tray.get_by_test_id("list-add-/config/rules")).to_be_disabled()
    await expect(node(page, "wide").locator('[data-port^="out-"]')).to_have_count(100)
    assert session.console.unexpected() == []


async def test_an_inject_form_shows_the_fields_of_its_repeat_and_keeps_only_those(
        open_editor: OpenEditor) -> None:  # noqa: F811
    session = await open_editor({"version": 1, "nodes": [
        {"id": "tick", "type": "inject", "x": 100, "y": 100,
         "config": {"repeat": "interval", "interval": 5}}]})
    page = session.page
    tray = await open_form(page, "tick")
    field = {key: tray.locator(f'[data-field="/config/{key}"]')
             for key in ("interval", "cron", "at", "once_delay", "time_zone")}
    await expect(field["interval"]).to_be_visible()
    for key in ("cron", "at", "once_delay", "time_zone"):
        await expect(field[key]).to_be_hidden()
    await tray.locator('[data-field="/config/repeat"]').select_option("cron")
    await expect(field["interval"]).to_be_hidden()
    await expect(field["cron"]).to_be_visible()
    await expect(field["time_zone"]).to_be_visible()
    await field["cron"].fill("*/5 * * * *")
    await tray.locator('[data-field="/config/once"]').check()
    await expect(field["once_delay"]).to_be_visible()
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    # The interval went with its repeat; the once delay, untouched, stays out.
    assert saved(session.server.flow)["tick"]["config"] == {
        "repeat": "cron", "cron": "*/5 * * * *", "once": True}

    # A daily repeat on weekdays: a checkbox a day.
    tray = await open_form(page, "tick")
    await tray.locator('[data-field="/config/repeat"]').select_option("daily")
    days = tray.locator('[data-field="/config/days"]')
    await expect(days.locator("input:checked")).to_have_count(7)
    for day in ("sat", "sun"):
        await days.locator(f'[data-choice="{day}"]').uncheck()
    await field["at"].fill("07:30")
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    assert saved(session.server.flow)["tick"]["config"] == {
        "repeat": "daily", "once": True, "at": "07:30",
        "days": ["mon", "tue", "wed", "thu", "fri"]}
    assert session.console.unexpected() == []


async def test_a_join_form_shows_the_fields_of_its_mode_and_keeps_only_those(
        open_editor: OpenEditor) -> None:  # noqa: F811
    session = await open_editor({"version": 1, "nodes": [
        {"id": "gather", "type": "join", "x": 100, "y": 100, "config": {}},
        {"id": "page", "type": "template", "x": 100, "y": 200, "config": {}}]})
    page = session.page
    tray = await open_form(page, "gather")
    field = {key: tray.locator(f'[data-field="/config/{key}"]')
             for key in ("build", "count", "joiner", "joiner_bytes", "join_with",
                         "key_property", "reduce_expression", "reduce_right", "max_messages")}
    # auto: by msg.parts, nothing of the other modes shows.
    await expect(field["max_messages"]).to_be_visible()
    for key in field.keys() - {"max_messages"}:
        await expect(field[key]).to_be_hidden()
    mode = tray.locator('[data-field="/config/mode"]')
    await mode.select_option("manual")
    await expect(field["build"]).to_be_visible()
    await expect(field["count"]).to_be_visible()
    await expect(field["joiner"]).to_be_hidden()  # an array has no joiner
    await field["build"].select_option("string")
    await expect(field["joiner"]).to_be_visible()
    await field["join_with"].select_option("bytes")
    await expect(field["joiner"]).to_be_hidden()
    await expect(field["joiner_bytes"]).to_be_visible()
    await field["build"].select_option("object")
    await expect(field["key_property"]).to_be_visible()
    await expect(field["join_with"]).to_be_hidden()
    await mode.select_option("reduce")
    for key in ("build", "count", "key_property"):
        await expect(field[key]).to_be_hidden()
    await expect(field["reduce_right"]).to_be_visible()
    area = field["reduce_expression"]
    await area.press("Control+a")
    await area.press("Delete")
    await page.keyboard.type("$A + payload")
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    # What was chosen for manual went with the mode.
    assert saved(session.server.flow)["gather"]["config"] == {
        "mode": "reduce", "reduce_expression": "$A + payload"}

    # A template's text is a code area labelled mustache.
    tray = await open_form(page, "page")
    await expect(tray.locator('textarea[data-field="/config/template"]')).to_have_class(
        re.compile(r"\bcode\b"))
    await expect(tray.locator('.code-field[data-language="mustache"]')).to_have_count(1)
    assert session.console.unexpected() == []


async def test_a_link_out_picks_its_link_ins_from_the_canvas_by_name_and_keeps_others(
        open_editor: OpenEditor) -> None:  # noqa: F811
    session = await open_editor({"version": 1, "nodes": [
        {"id": "in-a", "type": "link-in", "name": "alarms", "x": 300, "y": 100, "config": {}},
        {"id": "in-b", "type": "link-in", "x": 300, "y": 200, "config": {}},
        {"id": "send", "type": "link-out", "x": 100, "y": 100, "config": {"links": ["in-b"]}},
        {"id": "back", "type": "link-out", "x": 100, "y": 300, "config": {"mode": "return"}}]})
    page = session.page
    tray = await open_form(page, "send")
    links = tray.locator('[data-field="/config/links"]')
    await expect(links.locator("label")).to_have_text(["alarms (in-a)", "in-b"])
    await expect(links.locator('[data-choice="in-b"]')).to_be_checked()
    await links.locator('[data-choice="in-a"]').check()
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    # The one it had first stays first; the new one comes after it.
    assert saved(session.server.flow)["send"]["config"] == {"links": ["in-b", "in-a"]}

    # A return link-out has no links to pick.
    tray = await open_form(page, "back")
    await expect(tray.locator('[data-field="/config/links"]')).to_be_hidden()
    await tray.get_by_test_id("form-cancel").click()

    # An id not on this tab (pasted, or of another tab) is listed as such, checked.
    await paste(page, {"id": "far", "type": "link-out", "x": 100, "y": 400,
                       "config": {"links": ["elsewhere", "in-a"]}})
    tray = await open_form(page, "far")
    links = tray.locator('[data-field="/config/links"]')
    await expect(links.locator("label")).to_have_text(
        ["alarms (in-a)", "in-b", "elsewhere (not on this tab)"])
    await expect(links.locator('[data-choice="elsewhere"]')).to_be_checked()
    await links.locator('[data-choice="elsewhere"]').uncheck()
    await tray.get_by_test_id("form-done").click()
    status, _ = await deploy(page)
    assert status == 200
    assert saved(session.server.flow)["far"]["config"] == {"links": ["in-a"]}
    assert session.console.unexpected() == []
