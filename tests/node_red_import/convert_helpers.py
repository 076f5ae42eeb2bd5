"""Converting an export in a test, and checking the result as ``portless validate
--tabs`` and ``fmt --check`` would: written to a directory, read back, checked."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from portless.node_red_import.convert import CONFIG_TYPES, Conversion, convert
from portless.node_red_import.export import parse_export
from portless.node_red_import.write import write_conversion
from portless.runtime import Registry, canonical_text, load_subflows
from portless.runtime.flow import load_flow
from portless.runtime.tabs import load_tabs

FIXTURES = Path(__file__).with_name("fixtures")


def converted(nodes: list[dict[str, Any]], name: str = "export.json") -> Conversion:
    return convert(parse_export(json.dumps(nodes), name), name)


def written_and_valid(conversion: Conversion, directory: Path) -> dict[str, Any]:
    """Write the files, then check them as portless does (every tab together, every
    subflow on its own, each in canonical form); the documents by relative path."""
    paths = write_conversion(conversion, directory)
    for path in paths:
        assert path.read_text(encoding="utf-8") == canonical_text(
            json.loads(path.read_text(encoding="utf-8"))), path
    registry = Registry.discover()
    if (directory / "subflows").is_dir():
        load_subflows(registry, directory / "subflows")
    assert registry.load_errors == []
    tabs = sorted(path for path in paths if path.parent == directory)
    if tabs:
        load_tabs(tabs, registry, resolve_env=False)
    for path in paths:
        if path.parent.name == "subflows":
            load_flow(path, registry, resolve_env=False)
    return {str(path.relative_to(directory)): json.loads(path.read_text()) for path in paths}


def accounted(nodes: list[dict[str, Any]], conversion: Conversion) -> None:
    """Every node of the export is in the report exactly once: converted, kept disabled,
    not converted, flattened, or a tab or subflow definition."""
    report = conversion.report
    by_type = Counter(str(node["type"]) for node in nodes)
    told = Counter(report.converted)
    told.update(entry.type for entry in report.kept_disabled)
    told.update(entry.type for entry in report.refused)
    told.update(report.flattened)
    told.update({kind: by_type[kind] for kind in ("tab", "subflow") if by_type[kind]})
    assert told == by_type
    assert len({entry.node_id for entry in report.refused}) == len(report.refused)
    placed = {node["id"] for document in conversion.files.values()
              for node in document["nodes"]}
    for node in nodes:
        canvas = node["type"] not in ("tab", "subflow", "group", "junction", *CONFIG_TYPES)
        if canvas and "wires" in node:
            assert any(node["id"] == each or each.startswith(node["id"][:3])
                       for each in placed), node["id"]
