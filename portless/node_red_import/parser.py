"""The parser group: json and yaml (csv as its node lands)."""

from __future__ import annotations

from typing import Any

from .source import Mapped, NotConvertible, Source

_JSON_ACTIONS = {"": "both", "str": "string", "obj": "object"}


def json_(node: Source) -> Mapped:
    action = node.text("action")
    if action not in _JSON_ACTIONS:
        raise NotConvertible(f"action: unknown action {action!r}")
    config: dict[str, Any] = {"action": _JSON_ACTIONS[action]}
    prop = node.text("property", "payload").removeprefix("msg.") or "payload"
    if prop != "payload":
        config["property"] = prop
    if node.flag("pretty"):
        config["pretty"] = True
    return Mapped("json", config)


def yaml(node: Source) -> Mapped:
    prop = node.text("property", "payload").removeprefix("msg.") or "payload"
    return Mapped("yaml", {"property": prop} if prop != "payload" else {})


TABLE = {"json": json_, "yaml": yaml}
