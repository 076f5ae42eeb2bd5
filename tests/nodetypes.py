"""Small node types for engine and flow tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portless.runtime import Message, Node


class Double(Node):
    """Doubles msg.payload; raises on a payload of "boom" (for error-isolation tests)."""

    type = "test-double"
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"factor": {"type": "number", "default": 2}}}

    def on_input(self, msg: Message) -> None:
        if msg["payload"] == "boom":
            raise ValueError("cannot double boom")
        msg["payload"] = msg["payload"] * self.config["factor"]
        self.send(msg)


class Split(Node):
    """Two outputs: even payloads to port 0, odd ones to port 1."""

    type = "test-split"
    outputs = 2

    def on_input(self, msg: Message) -> None:
        self.send([msg, None] if msg["payload"] % 2 == 0 else [None, msg])


class Connection(Node):
    """A shared connection; counts how often it was started."""

    type = "test-connection"
    inputs = 0
    outputs = 0
    shared = True
    schema = {"type": "object", "properties": {"url": {"type": "string", "default": "x"}}}
    starts = 0

    async def start(self) -> None:
        Connection.starts += 1


class Client(Node):
    """Uses a Connection referenced from its config."""

    type = "test-client"
    schema = {"type": "object", "required": ["connection"],
              "properties": {"connection": {"type": "string", "x-ref": "test-connection"},
                             "label": {"type": "string", "default": ""}}}

    async def start(self) -> None:
        self.connection = self.shared_node(self.config["connection"])

    def on_input(self, msg: Message) -> None:
        msg["via"] = self.connection.id
        self.send(msg)


class Tunnel(Node):
    """A shared connection that may run through another one (``via``), to any depth;
    it refuses to start before the one it runs through. Records starts and stops."""

    type = "test-tunnel"
    inputs = 0
    outputs = 0
    shared = True
    schema = {"type": "object", "properties": {
        "via": {"type": "string", "x-ref": "test-tunnel", "default": ""},
        "label": {"type": "string", "default": ""}}}
    log: list[str] = []

    async def start(self) -> None:
        if self.config["via"]:
            via = self.shared_node(self.config["via"])
            if not getattr(via, "up", False):
                raise RuntimeError(f"{via.id} is not up yet")
        self.up = True
        Tunnel.log.append(f"start {self.id}")

    async def stop(self) -> None:
        self.up = False
        Tunnel.log.append(f"stop {self.id}")


class TunnelUser(Node):
    """Uses a Tunnel; refuses to start before it and records its stop."""

    type = "test-tunnel-user"
    schema = {"type": "object", "required": ["tunnel"],
              "properties": {"tunnel": {"type": "string", "x-ref": "test-tunnel"}}}

    async def start(self) -> None:
        tunnel = self.shared_node(self.config["tunnel"])
        if not getattr(tunnel, "up", False):
            raise RuntimeError(f"{tunnel.id} is not up yet")
        Tunnel.log.append(f"start {self.id}")

    async def stop(self) -> None:
        Tunnel.log.append(f"stop {self.id}")


class Device(Node):
    """Opens the device its config names; fails to start when that is "missing"."""

    type = "test-device"
    schema = {"type": "object", "properties": {"device": {"type": "string", "default": "adc0"}}}

    async def start(self) -> None:
        if self.config["device"] == "missing":
            raise OSError("no such device")


class Rules(Node):
    """One output per rule, as Node-RED's switch: a message leaves on the port of each
    rule whose value equals its payload."""

    type = "test-rules"
    outputs_rule = "one per rule"
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "rules": {"type": "array", "items": {"type": "number"}, "default": [0, 1],
                  "maxItems": 50}}}

    @classmethod
    def output_count(cls, config: Mapping[str, Any]) -> int:
        return len(config["rules"])

    def on_input(self, msg: Message) -> None:
        self.send([msg if msg["payload"] == value else None
                   for value in self.config["rules"]])


class Answers(Node):
    """Its output_count answers the config's ``answer``, whatever it is, or raises for
    "raise": a plugin with a broken output_count."""

    type = "test-answers"
    schema = {"type": "object", "properties": {"answer": {"default": 1}}}

    @classmethod
    def output_count(cls, config: Mapping[str, Any]) -> int:
        if config["answer"] == "raise":
            raise RuntimeError("no idea")
        return config["answer"]  # type: ignore[no-any-return]



class Watcher(Node):
    """Watches other nodes (errors, status or completions) and sends on what it gets:
    catch, status and complete in one test type."""

    type = "test-watcher"
    inputs = 0
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "kind": {"enum": ["error", "status", "complete"], "default": "error"},
        "scope": {"enum": ["all", "tab", "nodes"], "default": "tab"},
        "nodes": {"type": "array", "items": {"type": "string"}, "default": []},
        "uncaught": {"type": "boolean", "default": False}}}

    async def start(self) -> None:
        self.watch(self.config["kind"], self.config["scope"], self.config["nodes"],
                   uncaught=self.config["uncaught"])

    def on_input(self, msg: Message) -> None:
        self.send(msg)


class Reporter(Node):
    """Does what msg.payload says, then sends the message on: ``{"status": text}``,
    ``{"error": text}`` (with the message), ``{"error_alone": text}`` (without),
    ``{"raise": text}``, ``{"raise_later": text}`` (in a timer); anything else passes.
    A ``{"status": ""}`` clears the status."""

    type = "test-reporter"

    def on_input(self, msg: Message) -> None:
        order = msg["payload"] if isinstance(msg["payload"], dict) else {}
        if "status" in order:  # an empty text clears the status
            self.status("green", order["status"]) if order["status"] else self.status()
        if "error" in order:
            self.error(order["error"], msg)
        if "error_alone" in order:
            self.error(order["error_alone"])
        if "raise" in order:
            raise RuntimeError(order["raise"])
        if "raise_later" in order:
            self.call_later(0, _raise, order["raise_later"])
        self.send(msg)


def _raise(text: str) -> None:
    raise RuntimeError(text)


class Pair(Node):
    """Holds a message until the next one arrives, then sends both: done with a message
    only when it says so (``calls_done``)."""

    type = "test-pair"
    calls_done = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: Message | None = None

    def on_input(self, msg: Message) -> None:
        if self.held is None:
            self.held = msg
            return
        for each in (self.held, msg):
            self.send(each)
            self.done(each)
        self.held = None


TEST_TYPES: list[type[Node]] = [Double, Split, Connection, Client, Tunnel, TunnelUser, Device,
                                Rules, Answers, Watcher, Reporter, Pair]
