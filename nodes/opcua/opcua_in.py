"""opcua-in: read OPC UA variables by subscription (the server reports changes) or by
polling, over a shared opcua-connection; one message per value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from portless.nodes.link_state import LinkState
from portless.nodes.opcua.opcua_connection import OpcUaConnection
from portless.nodes.opcua.opcua_schema import CONNECTION_FIELD, node_id_schema
from portless.runtime import Message, Node, fields_are, make_message

if TYPE_CHECKING:
    from asyncua import ua

    from portless.nodes.opcua.opcua_poll import PollReader
    from portless.nodes.opcua.opcua_subscription import SubscriptionReader

MAX_ITEMS = 10000
TOPIC_TEXT = r"^[^\u0000-\u001f\u007f-\u009f]*$"


class OpcUaIn(Node):
    type = "opcua-in"
    category = "network"
    color = "#c7e9c0"
    icon = "bridge"
    inputs = 0
    outputs = 1
    schema = {
        "title": "OPC UA in",
        "description": (
            "Reads OPC UA variables, by subscription (the server sends changes: publishing "
            "and sampling interval, queue size, server-side deadband) or by polling, and "
            "emits one message per value: `topic` (the item's name, else its node id), "
            "`payload`, `nodeId`, `quality` (`good`, `stale` for an uncertain status or "
            "the last value when the link was lost, `bad: <reason>`), `statusCode` (its "
            "name, e.g. `Good`), `timestamp` (the source timestamp, ms since 1970) and "
            "`serverTimestamp`. After a reconnect the subscription is built again and "
            "every current value is sent again, so nothing looks frozen. A poll slower "
            "than its interval skips, and says so in the status, rather than queue."),
        "type": "object",
        "additionalProperties": False,
        "required": ["connection", "items"],
        "properties": {
            "connection": CONNECTION_FIELD,
            "items": {
                "title": "Items", "type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
                "description": "The variables to read.",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["node_id"], "properties": {
                              "node_id": node_id_schema(
                                  "Node id", "e.g. ns=2;s=Valve1.Flow"),
                              "name": {"title": "Name", "type": "string",
                                       "maxLength": 1024, "pattern": TOPIC_TEXT,
                                       "x-error": "must be text without control "
                                                  "characters",
                                       "description": "The message's topic; empty: the "
                                                      "node id."}}}},
            "mode": {"title": "Mode", "enum": ["subscribe", "poll"], "default": "subscribe",
                     "description": "subscribe: the server reports changes; poll: read "
                                    "all items every poll interval."},
            "publishing_interval": {"x-show-if": fields_are(mode="subscribe"),
                                    "title": "Publishing interval (ms)", "type": "number",
                                    "minimum": 10, "maximum": 3600000, "default": 1000,
                                    "description": "subscribe: how often the server sends "
                                                   "what changed."},
            "sampling_interval": {"x-show-if": fields_are(mode="subscribe"),
                                  "title": "Sampling interval (ms)",
                                  "type": ["number", "null"], "minimum": 0,
                                  "maximum": 3600000, "default": None,
                                  "description": "subscribe: how often the server samples "
                                                 "each item; null: the publishing "
                                                 "interval, 0: as fast as it can."},
            "queue_size": {"x-show-if": fields_are(mode="subscribe"),
                           "title": "Queue size", "type": "integer", "minimum": 1,
                           "maximum": 10000, "default": 1,
                           "description": "subscribe: samples the server keeps per item "
                                          "between two publishes (1: only the latest)."},
            "deadband": {
                "x-show-if": fields_are(mode="subscribe"),
                "title": "Deadband", "type": ["object", "null"], "default": None,
                "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
                "description": "subscribe: null, {\"absolute\": 0.5} or {\"percent\": 2} "
                               "(of the item's EURange); the server then reports only "
                               "changes beyond it.",
                "properties": {
                    "absolute": {"title": "Absolute", "type": "number", "minimum": 0},
                    "percent": {"title": "Percent", "type": "number", "minimum": 0,
                                "maximum": 100}}},
            "poll_interval": {"x-show-if": fields_are(mode="poll"),
                              "title": "Poll interval (ms)", "type": "number",
                              "minimum": 10, "maximum": 86400000, "default": 1000,
                              "description": "poll: how often all items are read."},
        },
    }

    async def start(self) -> None:
        from portless.nodes.opcua.opcua_poll import PollReader  # asyncua: lazily
        from portless.nodes.opcua.opcua_subscription import SubscriptionReader
        from portless.nodes.opcua.opcua_values import fields

        self._fields = fields
        items = self.config["items"]
        self.node_ids: list[str] = [item["node_id"] for item in items]
        # Defaults are not filled in inside list items: an absent name is the node id.
        self._topics = [item.get("name") or item["node_id"] for item in items]
        self._last: list[Message | None] = [None] * len(items)
        self._refused: dict[int, str] = {}
        self._skipped = 0
        self._skip_reason = ""
        self._problem = ""
        self._connection = cast(OpcUaConnection, self.shared_node(self.config["connection"]))
        self._link = self._connection.state
        self._reader: SubscriptionReader | PollReader = (
            SubscriptionReader(self, self.config) if self.config["mode"] == "subscribe"
            else PollReader(self, self.config))
        self._unlisten = self._connection.add_state_listener(self._on_link)
        self._connection.add_reader(self)

    async def stop(self) -> None:
        self._unlisten()
        self._connection.remove_reader(self)
        await self._reader.release()

    # --- the Reader the connection drives -----------------------------------------------
    async def attach(self, client: Any) -> None:
        from portless.nodes.opcua.opcua_reasons import describe_error

        self._refused.clear()
        self._problem = ""
        self._show_status()
        try:
            await self._reader.attach(client)
        except Exception as exc:  # the server refused the subscription, or the link went
            self.problem(f"could not {self.config['mode']}: {describe_error(exc)}")

    def detach(self) -> None:
        """The link is gone: the last values are stale now; say so once."""
        self._reader.detach()
        for index, last in enumerate(self._last):
            if last is not None and last["quality"] != "stale":
                stale = {**last, **make_message(last["payload"], last["topic"]),
                         "quality": "stale"}
                self._last[index] = stale
                self.send(stale)

    # --- the Sink the readers feed ------------------------------------------------------
    def deliver(self, index: int, data: ua.DataValue) -> None:
        msg = make_message(None, self._topics[index])
        msg.update(self._fields(data))
        msg["nodeId"] = self.node_ids[index]
        self._last[index] = msg
        self.send(msg)

    def refused(self, index: int, status: ua.StatusCode) -> None:
        """The server refused to monitor an item (a node id it does not know)."""
        from portless.nodes.opcua.opcua_reasons import status_words

        node_id = self.node_ids[index]
        self._refused[index] = status.name
        self.warn(f"{node_id}: the server refused to monitor it: "
                  f"{status_words(status.name)} ({status.name})")
        msg = make_message(None, self._topics[index])
        msg.update({"quality": f"bad: {status_words(status.name)}",
                    "statusCode": status.name, "timestamp": None,
                    "serverTimestamp": None, "nodeId": node_id})
        self.send(msg)
        self._show_status()

    def skipped(self, count: int, why: str) -> None:
        self._skipped += count
        if why != self._skip_reason:
            self.warn(f"polls skipped: {why}")
        self._skip_reason = why
        self._show_status()

    def problem(self, text: str) -> None:
        if text != self._problem:
            self.warn(text)
        self._problem = text
        self._show_status()

    # --- status -------------------------------------------------------------------------
    def _on_link(self, state: LinkState) -> None:
        self._link = state
        self._show_status()

    def _show_status(self) -> None:
        """The link's state, and this node's own trouble (refused items, skipped polls)."""
        state = self._link
        if not state.connected:
            self.status(state.fill, state.text, "ring")
            return
        notes = []
        if self._refused:
            index, name = next(iter(self._refused.items()))
            notes.append(f"{len(self._refused)} of {len(self.node_ids)} refused "
                         f"({self.node_ids[index]}: {name})")
        if self._skipped:
            notes.append(f"{self._skipped} polls skipped: {self._skip_reason}")
        if self._problem:
            notes.append(self._problem)
        if notes:
            self.status("yellow", "connected; " + "; ".join(notes))
        else:
            self.status("green", "connected")
