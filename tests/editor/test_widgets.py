"""The form's widgets in real headless Chromium against `portless run`: the palette's
groups in Node-RED's order, the typed-value picker, rule lists whose rows are the
node's ports, and code fields; each edit is deployed and read back from the flow file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.editor.test_browser import OpenEditor, open_editor  # noqa: F401 (a fixture)

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
