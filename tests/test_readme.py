"""README's node table: every built-in node type, one row each, under the palette group
its class names (in the editor's order of groups, editor/static/palette.js), and nothing
that is not a built-in type."""

from __future__ import annotations

import re
from pathlib import Path

from portless.runtime import Registry

ROOT = Path(__file__).resolve().parent.parent


def palette_order() -> list[str]:
    """The editor's order of the palette's groups (its ORDER constant)."""
    source = (ROOT / "editor" / "static" / "palette.js").read_text()
    match = re.search(r"const ORDER = \[([^\]]*)\]", source)
    assert match is not None
    return re.findall(r"'([^']+)'", match.group(1))


def node_table() -> list[tuple[str, str, str]]:
    """(group, node type, what it does) of each row of README's "Nodes" table; a row
    with an empty group cell is in the group above it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Nodes\n", 1)[1].split("\n## ", 1)[0]
    rows, group = [], ""
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) != 3 or cells[0] == "group":
            continue
        group = cells[0] or group
        rows.append((group, cells[1].strip("`"), cells[2]))
    return rows


def test_the_readme_lists_every_built_in_node_type_under_its_group() -> None:
    registry = Registry.discover()
    built_in = {cls.type: cls.category for cls in registry
                if registry.source(cls.type) == "built-in"}
    rows = node_table()
    assert sorted(node for _, node, _ in rows) == sorted(built_in)
    assert {node: group for group, node, _ in rows} == built_in
    assert all(text for _, _, text in rows)
    runs = [group for number, (group, _, _) in enumerate(rows)
            if number == 0 or rows[number - 1][0] != group]
    assert len(runs) == len(set(runs))  # each group's rows together
    assert runs == sorted(runs, key=palette_order().index)  # in the palette's order
