"""The example flows Node-RED ships with its core nodes, read from the Node-RED 4 the
differential tests run (tests/node_red.py installs it where need be): its
@node-red/nodes package carries them, so no file of Node-RED's is copied into portless.
Tests that need them skip, saying why, where Node-RED cannot be installed."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.node_red import node_red_or_skip


def examples_dir(red_js: Path) -> Path:
    """The examples of the @node-red/nodes package beside (npm hoists it) or inside
    the node-red package whose red.js is given."""
    package = red_js.parent
    for candidate in (package.parent / "@node-red/nodes/examples",
                      package / "node_modules/@node-red/nodes/examples"):
        if candidate.is_dir():
            return candidate
    pytest.skip(f"Node-RED at {package} has no @node-red/nodes/examples directory")


@functools.cache
def _root() -> Path:
    return examples_dir(node_red_or_skip())


@functools.cache
def example_paths() -> list[str]:
    """The example files, as paths under the examples directory, or a skip."""
    root = _root()
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.json"))


def example_text(path: str) -> str:
    return (_root() / path).read_text(encoding="utf-8")
