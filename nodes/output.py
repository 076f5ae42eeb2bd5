"""output: drive a channel from a message property (a file such as a sysfs GPIO or a
setpoint file, the log, or a simulated channel that shows its value as status)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import deque
from typing import Any

from portless.runtime import (
    MISSING,
    Message,
    Node,
    atomic_write,
    property_getter,
)

log = logging.getLogger("portless.output")

WAITING_WRITES = 100
"""Values a file channel holds while the disk is busy; past this the oldest waiting one
is skipped (and counted), never the newest, so the file always ends at the last value."""


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
            "`log` logs it; `sim` keeps it and shows it as the node's status. File writes "
            "run in a worker thread, one at a time in arrival order; while the disk is "
            f"busy up to {WAITING_WRITES} values wait, and past that the oldest waiting "
            "value is skipped (with a warning), so the file always ends at the latest."),
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
                         "x-property-path": True,
                         "description": "Message property holding the value."},
        },
        "if": {"properties": {"target": {"const": "file"}}},
        "then": {"properties": {"path": {"minLength": 1}}},
    }

    async def start(self) -> None:
        self._get = property_getter(self.config["property"])
        self.value: Any = None
        self._waiting: deque[tuple[str, bytes]] = deque()
        self._skipped = 0
        self._writing = False
        self._closing = False
        self._wake = asyncio.Event()
        if self.config["target"] == "file":
            self._writer = self.spawn(self._write_in_order(), "file writer")

    async def stop(self) -> None:
        """Write what is still waiting (the engine bounds this with its stop timeout)."""
        if self.config["target"] == "file":
            self._closing = True
            self._wake.set()
            await self._writer

    @property
    def pending(self) -> bool:
        return super().pending or self._writing or bool(self._waiting)

    def on_input(self, msg: Message) -> None:
        value = self._get(msg)
        if value is MISSING or value is None:
            self.warn(f"msg.{self.config['property']} is missing; nothing written")
            return
        target = self.config["target"]
        if target == "file":
            text = _as_text(value)  # here, so a value that cannot be text fails its message
            if len(self._waiting) >= WAITING_WRITES:
                self._waiting.popleft()
                self._skipped += 1
            self._waiting.append((text, (text + "\n").encode("utf-8")))
            self._wake.set()
        elif target == "log":
            log.info("node %s: output %s", self.id, _as_text(value))
        else:
            self.value = value
            self.status("blue", _as_text(value)[:40])

    async def _write_in_order(self) -> None:
        """The node's one writer: the blocking write (two fsyncs when atomic) runs in a
        worker thread, so the event loop never waits for the disk."""
        path, atomic = self.config["path"], self.config["write_mode"] == "atomic"
        while self._waiting or not self._closing:
            if not self._waiting:
                self._wake.clear()
                await self._wake.wait()
                continue
            text, data = self._waiting.popleft()
            if self._skipped:
                self.warn(f"the file is slower than the flow: {self._skipped} older "
                          f"value(s) skipped, the newest are written")
                self._skipped = 0
            self._writing = True
            try:
                await asyncio.to_thread(_write_file, path, data, atomic)
            except OSError as exc:
                self.warn(f"cannot write {path}: {exc.strerror or exc}")
                self.status("red", f"write failed: {exc.strerror or exc}"[:80], "ring")
                continue
            except Exception as exc:  # reported like an on_input error; the writer goes on
                self.context.node_failed(self, exc)
                continue
            finally:
                self._writing = False
            self.status("green", text[:40])


def _write_file(path: str, data: bytes, atomic: bool) -> None:
    """Runs in a worker thread: replace the file atomically, or write it in place (sysfs)."""
    if atomic:
        atomic_write(path, data)
        return
    # Without blocking: a FIFO with no reader is an error (ENXIO), not a thread stuck in
    # open() that keeps the process from exiting; files and sysfs are not affected.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC,
                 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _as_text(value: Any) -> str:
    """How a value looks in a channel file: GPIO-style 1/0 for booleans, JSON for objects."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, separators=(",", ":"), default=str)
