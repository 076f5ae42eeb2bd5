"""Shared fixtures: a flow-file writer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[..., Path]:
    """Write a flow document (or raw text) to a file and return its path."""
    def write(content: dict[str, Any] | str, name: str = "flow.json") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2),
                        encoding="utf-8")
        return path
    return write
