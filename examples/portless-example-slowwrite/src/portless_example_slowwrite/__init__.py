"""append-file: an example portless node plugin with async input.

Each message is appended to a file, in order, one at a time, the write done in a thread
so a slow disk (an SD card, a network share) never stalls the flow: messages wait in
the bounded queue the runtime keeps for an ``async def on_input``. The node counts
what it wrote in its node context, so with a persistent context store the count
carries over a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import IO, Any

from portless.runtime import Message, Node

__all__ = ["AppendFile"]


class AppendFile(Node):
    type = "append-file"
    category = "storage"  # Node-RED's group for its file node
    color = "#e2d96e"
    icon = "file"
    inputs = 1
    outputs = 1
    # The queue the runtime keeps for this type; each node may set its own size (up to
    # the maximum) and policy in its config's `input_queue`, which the runtime adds to
    # the schema below. "block": a source upstream holds off while the queue is full.
    input_queue_size = 100
    input_queue_max = 10_000
    input_queue_when_full = "block"
    schema = {
        "title": "Append to file",
        "description": (
            "Appends each message's payload to a file, one line per message (JSON, or "
            "the text as it is), in order, without stalling the flow; passes the message "
            "on once it is written. The count of messages written is kept in the node's "
            "context."),
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {"title": "File", "type": "string", "minLength": 1, "x-path": "write",
                     "description": "File to append to; created if it is missing."},
            "format": {"title": "Line format", "enum": ["json", "text"], "default": "json",
                       "description": "`json`: the payload as one line of JSON; `text`: "
                                      "a string payload as it is (other values as JSON)."},
            "sync": {"title": "Flush to disk", "type": "boolean", "default": False,
                     "description": "fsync after each message: it survives a power cut, "
                                    "at the disk's pace."},
        },
    }

    async def start(self) -> None:
        self._file: IO[str] = await asyncio.to_thread(
            open, self.config["path"], "a", encoding="utf-8")
        self._written: int = self.node_context.get("written", 0)
        self._shown = 0.0
        self._show()

    async def on_input(self, msg: Message) -> None:
        # An exception here (a payload JSON cannot hold, a full disk) is this message's
        # error, reported like one in a plain on_input; the next message goes on.
        await asyncio.to_thread(self._append, self._line(msg["payload"]))
        self._written += 1
        self.node_context.set("written", self._written)
        queue = self.input_queue
        if (queue is not None and not queue.waiting) or time.monotonic() - self._shown >= 1:
            self._show()  # at the end of a burst, else at most once a second
        self.send(msg)

    async def stop(self) -> None:
        # The runtime never runs stop() while on_input is still writing.
        await asyncio.to_thread(self._file.close)

    def _line(self, payload: Any) -> str:
        if self.config["format"] == "text" and isinstance(payload, str):
            return payload + "\n"
        return json.dumps(payload, ensure_ascii=False, allow_nan=False) + "\n"

    def _append(self, line: str) -> None:
        """In a thread: write, and with ``sync`` wait until the disk has it."""
        self._file.write(line)
        self._file.flush()
        if self.config["sync"]:
            os.fsync(self._file.fileno())

    def _show(self) -> None:
        self._shown = time.monotonic()
        self.status("green", f"written: {self._written:,}")
