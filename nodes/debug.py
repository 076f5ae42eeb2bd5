"""debug: show a message property (or the whole message) in the log and the editor."""

from __future__ import annotations

import json
from typing import Any

from portless.runtime import (
    MISSING,
    Event,
    Message,
    Node,
    property_getter,
)


class Debug(Node):
    type = "debug"
    category = "common"
    color = "#87a980"
    icon = "bug"
    inputs = 1
    outputs = 0
    schema = {
        "title": "Debug",
        "description": ("Shows `msg.payload` (or another property, or the whole message) in "
                        "the log and, with the editor, in its debug sidebar."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": {"title": "Property", "type": "string", "default": "payload",
                         "x-property-path": True,
                         "description": "Message property to show."},
            "whole_message": {"title": "Whole message", "type": "boolean", "default": False,
                              "description": "Show the complete message instead."},
            "active": {"title": "Active", "type": "boolean", "default": True,
                       "description": "Turn output off without removing the node."},
        },
    }

    async def start(self) -> None:
        self._get = property_getter(self.config["property"])
        self.count = 0

    def on_input(self, msg: Message) -> None:
        self.count += 1
        if not self.config["active"]:
            return
        value = msg if self.config["whole_message"] else self._get(msg)
        shown = "undefined" if value is MISSING else _preview(value)
        self.context.publish(Event("debug", self.id, {
            "text": shown, "topic": msg.get("topic", ""), "msgid": msg.get("_msgid"),
            "property": "msg" if self.config["whole_message"] else self.config["property"]}))


def _preview(value: Any, limit: int = 1000) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= limit else text[:limit] + "…"
