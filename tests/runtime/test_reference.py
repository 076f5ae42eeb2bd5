"""docs/nodes.md is generated from the node schemas and must not go stale."""

from __future__ import annotations

from pathlib import Path

from portless.runtime import Registry
from portless.runtime.reference import node_reference
from tests.nodetypes import Rules, Split

DOCS = Path(__file__).resolve().parents[2] / "docs" / "nodes.md"


def test_node_reference_is_up_to_date() -> None:
    registry = Registry.discover()
    built_ins = [cls for cls in registry if registry.source(cls.type) == "built-in"]
    assert DOCS.read_text(encoding="utf-8") == node_reference(built_ins), (
        "docs/nodes.md is stale: run `portless docs -o docs/nodes.md`")


def test_reference_documents_every_config_field() -> None:
    text = DOCS.read_text(encoding="utf-8")
    registry = Registry.discover()
    for cls in (c for c in registry if registry.source(c.type) == "built-in"):
        for field in cls.schema.get("properties", {}):
            assert f"| `{field}` |" in text, f"{cls.type}.{field} missing from docs/nodes.md"


def test_outputs_that_follow_the_config_are_described_in_words() -> None:
    text = node_reference([Rules, Split])
    assert "Category: function; 1 input, outputs from the config (one per rule; 2 with " \
           "the defaults).\n" in text
    assert "Category: function; 1 input, 2 outputs.\n" in text
