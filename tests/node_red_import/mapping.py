"""Helpers for the mapping tests: one Node-RED node through its mapping, and a portless
config with its schema's defaults filled in, to compare two ways of writing one config."""

from __future__ import annotations

import functools
from typing import Any

from portless.node_red_import.source import Mapped, Source
from portless.node_red_import.table import MAPPINGS
from portless.runtime import Registry
from portless.runtime.config import copy_json, fill_defaults


@functools.cache
def registry() -> Registry:
    return Registry.discover()


def mapped(node: dict[str, Any]) -> tuple[Mapped, list[str]]:
    """What the node's mapping makes of it, and the notes it made."""
    source = Source({"id": "n1", **node})
    return MAPPINGS[node["type"]](source), source.notes


def filled(node_type: str, config: dict[str, Any]) -> dict[str, Any]:
    cls = registry().get(node_type)
    assert cls is not None
    config = copy_json(config)
    fill_defaults(cls.schema, config)
    return config


def same_config(node: dict[str, Any], node_type: str, expected: dict[str, Any]) -> bool:
    """Does the Node-RED node become ``expected`` (defaults aside)?"""
    made, _ = mapped(node)
    return made.type == node_type and filled(node_type, made.config) == filled(
        node_type, expected)
