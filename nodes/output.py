"""output: drive a channel from a message property (a file such as a sysfs GPIO or a
setpoint file, the log, or a simulated channel that shows its value as status)."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from portless.runtime import (
    MISSING,
    PROPERTY_PATH_ERROR,
    PROPERTY_PATH_PATTERN,
    Message,
    Node,
    atomic_write,
    property_getter,
)

log = logging.getLogger("portless.output")


class Output(Node):
    type = "output"
    category = "output"
    color = "#e2d96e"
    icon = "valve"
    inputs = 1
    outputs = 0
    schema = {
        "title": "Output",
        "description": (
            "Drives a channel from `msg.payload` (or another property). `target: file` writes "
            "the value as text (numbers as written, true/false as 1/0, objects as JSON); "
            "`log` logs it; `sim` keeps it and shows it as the node's status."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "target": {"title": "Target", "enum": ["sim", "file", "log"], "default": "sim",
                       "description": "Where the value goes."},
            "path": {"title": "File path", "type": "string", "default": "", "x-path": "write",
                     "description": "File to write (target `file`)."},
            "write_mode": {
                "title": "Write mode", "enum": ["atomic", "direct"], "default": "atomic",
                "description": "`atomic` writes a temp file and renames it over the target, so "
                               "a reader never sees half a value; use `direct` for sysfs "
                               "files, which cannot be replaced."},
            "property": {"title": "Property", "type": "string", "default": "payload",
                         "pattern": PROPERTY_PATH_PATTERN, "x-error": PROPERTY_PATH_ERROR,
                         "description": "Message property holding the value."},
        },
        "if": {"properties": {"target": {"const": "file"}}},
        "then": {"properties": {"path": {"minLength": 1}}},
    }

    async def start(self) -> None:
        self._get = property_getter(self.config["property"])
        self.value: Any = None

    def on_input(self, msg: Message) -> None:
        value = self._get(msg)
        if value is MISSING or value is None:
            self.warn(f"msg.{self.config['property']} is missing; nothing written")
            return
        target = self.config["target"]
        if target == "file":
            self._write(value)
        elif target == "log":
            log.info("node %s: output %s", self.id, _as_text(value))
        else:
            self.value = value
            self.status("blue", _as_text(value)[:40])

    def _write(self, value: Any) -> None:
        path = self.config["path"]
        data = _as_text(value).encode("utf-8") + b"\n"
        try:
            if self.config["write_mode"] == "atomic":
                atomic_write(path, data)
            else:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
        except OSError as exc:
            self.warn(f"cannot write {path}: {exc.strerror or exc}")
            self.status("red", f"write failed: {exc.strerror or exc}"[:80], "ring")
            return
        self.status("green", _as_text(value)[:40])


def _as_text(value: Any) -> str:
    """How a value looks in a channel file: GPIO-style 1/0 for booleans, JSON for objects."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, separators=(",", ":"), default=str)
