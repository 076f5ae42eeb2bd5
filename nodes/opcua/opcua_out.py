"""opcua-out: write a message's payload (or named fields of it) to OPC UA variables over
a shared opcua-connection, one write at a time, each confirmed by the server."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from portless.nodes.opcua.opcua_connection import OpcUaConnection
from portless.nodes.opcua.opcua_schema import (
    CONNECTION_FIELD,
    NODE_ID_ERROR,
    NODE_ID_PATTERN,
    node_id_schema,
)
from portless.runtime import Message, Node

if TYPE_CHECKING:
    from portless.nodes.opcua.opcua_session import Session

MAX_FIELDS = 1000
_NODE_ID = re.compile(NODE_ID_PATTERN.removesuffix("$") + r"\Z")  # $ allows a final \n


class OpcUaOut(Node):
    type = "opcua-out"
    category = "network"
    color = "#c7e9c0"
    icon = "bridge"
    inputs = 1
    outputs = 1
    input_queue_size = 100
    input_queue_max = 10000
    schema = {
        "title": "OPC UA out",
        "description": (
            "Writes `msg.payload` to the variable `node_id` (empty: `msg.topic`), or, "
            "with `fields`, each named field of the payload to its own variable in one "
            "request. The value is converted to the variable's data type, read from the "
            "server, and checked first: a value that does not fit (300 for a Byte, 2.5 "
            "for an Int16, text for a Double) is refused, never truncated. One write at "
            "a time per connection; a write is confirmed by the server's result for "
            "each variable before the next message is taken, and the message is then "
            "sent on. A refused or failed write is an error tied to its message (a "
            "catch node gets it), naming the node id and field."),
        "type": "object",
        "additionalProperties": False,
        "required": ["connection"],
        "properties": {
            "connection": CONNECTION_FIELD,
            "node_id": node_id_schema("Node id", "The variable to write msg.payload to; "
                                      "empty: msg.topic.", allow_empty=True),
            "fields": {
                "title": "Fields", "type": "array", "maxItems": MAX_FIELDS, "default": [],
                "description": "Write payload fields instead: each field of the payload "
                               "object to its variable, all in one request.",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["field", "node_id"], "properties": {
                              "field": {"title": "Field", "type": "string",
                                        "minLength": 1, "maxLength": 1024,
                                        "description": "The payload's field."},
                              "node_id": node_id_schema(
                                  "Node id", "The variable it is written to.")}}},
            "connect_wait": {"title": "Wait for the connection (s)", "type": "number",
                             "minimum": 0, "maximum": 3600, "default": 10,
                             "description": "How long a message waits for the link to "
                                            "come up before its write fails."},
        },
    }

    async def start(self) -> None:
        from portless.nodes.opcua import opcua_write  # asyncua: lazily

        self._write = opcua_write
        self._connection = cast(OpcUaConnection, self.shared_node(self.config["connection"]))
        self._unlisten = self._connection.add_state_listener(
            lambda state: self.status(state.fill, state.text,
                                      "dot" if state.connected else "ring"))

    async def stop(self) -> None:
        self._unlisten()

    async def on_input(self, msg: Message) -> None:
        targets = self._targets(msg)
        if targets is None:
            return
        try:
            session = await self._connection.session(self.config["connect_wait"])
        except ConnectionError as exc:
            self.error(f"not written: {exc}", msg)
            return
        async with self._connection.write_lock:
            problem = await self._write_all(session, targets)
        if problem:
            self.error(problem, msg)
        else:
            self.send(msg)

    async def _write_all(self, session: Session, targets: list[tuple[str, str, Any]]
                         ) -> str:
        """Convert and write every target in one request: "" when the server confirmed
        each, else what went wrong (nothing is written when a value does not fit)."""
        from portless.nodes.opcua.opcua_reasons import describe_error, status_words

        variants = []
        for node_id, field, value in targets:
            try:
                kind = await session.variant_type(node_id)
            except Exception as exc:  # an unknown node id, a lost link
                return (f"{node_id} ({field}): cannot read its data type: "
                        f"{describe_error(exc)}; nothing written")
            try:
                variants.append(self._write.to_variant(value, kind))
            except self._write.NotWritable as exc:
                return f"{node_id} ({field}): {exc}; nothing written"
        try:
            results = await session.write([node_id for node_id, _, _ in targets], variants)
        except Exception as exc:  # the link or the server failed the whole request
            return f"{_where(targets)}: the write failed: {describe_error(exc)}"
        failures = [f"{node_id} ({field}): the server refused the write: "
                    f"{status_words(result.name)} ({result.name})"
                    for (node_id, field, _), result in zip(targets, results, strict=True)
                    if not result.is_good()]
        written = len(targets) - len(failures)
        if failures and written:
            failures.append(f"the other {written} written")
        return "; ".join(failures)

    def _targets(self, msg: Message) -> list[tuple[str, str, Any]] | None:
        """(node id, where the value came from, value) for each variable to write; None,
        with the message's error, if the message does not say what to write."""
        payload = msg.get("payload")
        fields = self.config["fields"]
        if not fields:
            node_id = self.config["node_id"] or msg.get("topic")
            if not node_id:
                self.error("no node id: set the node's node_id, or msg.topic; not written",
                           msg)
                return None
            where = "msg.topic" if not self.config["node_id"] else "node_id"
            if not isinstance(node_id, str) or not _NODE_ID.match(node_id):
                self.error(f"{where}: {_shown_id(node_id)} {NODE_ID_ERROR}; not written",
                           msg)
                return None
            return [(node_id, "payload", payload)]
        if not isinstance(payload, dict):
            self.error("msg.payload must be an object holding the fields "
                       f"{', '.join(item['field'] for item in fields[:5])}; not written", msg)
            return None
        missing = [item["field"] for item in fields if item["field"] not in payload]
        if missing:
            self.error(f"msg.payload has no field {', '.join(missing[:5])}; nothing "
                       f"written", msg)
            return None
        return [(item["node_id"], f"payload.{item['field']}", payload[item["field"]])
                for item in fields]


def _where(targets: list[tuple[str, str, Any]]) -> str:
    return ", ".join(node_id for node_id, _, _ in targets[:3]) + \
        (", ..." if len(targets) > 3 else "")


def _shown_id(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:60] + "...")
    return "null" if value is None else f"a {type(value).__name__}"
