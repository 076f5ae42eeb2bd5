"""The Import dialog and a pasted Node-RED export, in headless Chromium against a real
`portless run`: the export is recognised, converted on request, its report shown; the
converted nodes go on the canvas (the JavaScript function dimmed, as disabled), deploy,
and the flow file validates. A portless flow pasted there imports as before."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import expect

from tests.editor.browser import node
from tests.editor.test_browser import OpenEditor, deploy, open_editor, portless_validate

pytestmark = pytest.mark.slow  # each test drives headless Chromium
__all__ = ["open_editor"]  # the fixture, used by name

EXPORT = [
    {"id": "tab1", "type": "tab", "label": "Line 4"},
    {"id": "tick", "type": "inject", "z": "tab1", "name": "tick",
     "props": [{"p": "payload", "v": "21", "vt": "num"}], "repeat": "", "once": False,
     "x": 120, "y": 80, "wires": [["filter"]]},
    {"id": "filter", "type": "rbe", "z": "tab1", "name": "changed", "func": "rbe",
     "gap": "", "start": "", "inout": "out", "septopics": True, "property": "payload",
     "topi": "topic", "x": 300, "y": 80, "wires": [["js"]]},
    {"id": "js", "type": "function", "z": "tab1", "name": "double",
     "func": "msg.payload *= 2;\nreturn msg;", "outputs": 1, "x": 480, "y": 80,
     "wires": [["show"]]},
    {"id": "show", "type": "debug", "z": "tab1", "name": "", "active": True,
     "complete": "false", "x": 660, "y": 80, "wires": []},
    {"id": "web", "type": "http in", "z": "tab1", "name": "REST", "url": "/x",
     "method": "get", "x": 120, "y": 180, "wires": [["show"]]},
]


async def test_a_pasted_node_red_export_is_converted_reported_imported_and_deployed(
        open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": []})
    page = session.page
    await page.get_by_test_id("import").click()
    dialog = page.get_by_test_id("dialog-import")
    await dialog.get_by_test_id("import-text").fill(json.dumps(EXPORT))
    await expect(dialog.get_by_test_id("node-red-detected")).to_contain_text(
        "This is a Node-RED export (6 nodes)")

    await dialog.get_by_test_id("node-red-convert").click()
    await expect(dialog.get_by_test_id("node-red-summary")).to_have_text(
        "3 nodes converted: 1 debug, 1 inject, 1 rbe")
    await expect(dialog.get_by_test_id("node-red-kept-disabled")).to_contain_text(
        "function 'double' (js): its code is JavaScript")
    await expect(dialog.get_by_test_id("node-red-not-converted")).to_contain_text(
        "http in 'REST' (web): it would open a listening port")

    await dialog.get_by_test_id("node-red-import").click()
    await expect(dialog).to_have_count(0)
    await expect(node(page, "filter")).to_be_visible()
    await expect(node(page, "js")).to_have_class(re.compile(r"\bdisabled\b"))
    await expect(node(page, "filter")).not_to_have_class(re.compile(r"\bdisabled\b"))
    await expect(node(page, "web")).to_contain_text("not converted: http in 'REST'")

    status, _ = await deploy(page)
    assert status == 200
    written = json.loads(session.server.flow.read_text(encoding="utf-8"))
    by_id = {entry["id"]: entry for entry in written["nodes"]}
    assert by_id["filter"]["type"] == "exception-filter"
    assert by_id["js"]["disabled"] is True
    assert by_id["js"]["wires"] == [["show"]]
    code, output = await portless_validate(session.server.flow)
    assert code == 0, output
    assert session.console.unexpected() == []


async def test_a_broken_export_says_why_and_imports_nothing(open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": []})
    page = session.page
    await page.get_by_test_id("import").click()
    dialog = page.get_by_test_id("dialog-import")
    broken = [{"id": "a", "type": "inject", "z": "t", "wires": [["gone"]]}]
    await dialog.get_by_test_id("import-text").fill(json.dumps(broken))
    await dialog.get_by_test_id("import-confirm").click()  # Import converts it first
    await expect(dialog.get_by_test_id("node-red-error")).to_have_text(
        "the pasted export: node a: /wires/0/0: wire to missing node 'gone'")
    assert await page.evaluate("portless.model.nodes.size") == 0
    assert session.console.unexpected(provoked=[400]) == []


async def test_portless_nodes_pasted_there_import_as_before(open_editor: OpenEditor) -> None:
    session = await open_editor({"version": 1, "nodes": []})
    page = session.page
    await page.get_by_test_id("import").click()
    dialog = page.get_by_test_id("dialog-import")
    ours = {"version": 1, "nodes": [{"id": "note", "type": "comment", "name": "hello",
                                     "config": {}, "x": 100, "y": 100}]}
    await dialog.get_by_test_id("import-text").fill(json.dumps(ours))
    await expect(dialog.get_by_test_id("node-red-offer")).to_be_hidden()
    await dialog.get_by_test_id("import-confirm").click()
    await expect(node(page, "note")).to_be_visible()
    assert session.console.unexpected() == []
