"""batch: make sequences out of a stream of messages, by count (with overlap), by time
interval, or by concatenating the sequences of several topics (Node-RED's batch)."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

from portless.nodes.core.sequence_groups import max_messages_schema, sequence_key
from portless.runtime import (
    Message,
    Node,
    clone_message,
    fields_are,
    make_message,
    new_msgid,
)


class Batch(Node):
    type = "batch"
    category = "sequence"
    color = "#E2D96E"
    icon = "batch"
    calls_done = True
    schema = {
        "title": "Batch",
        "description": (
            "Makes sequences of messages: each message is sent on with `msg.parts` "
            "(`id`, `index`, `count`; other fields of a `msg.parts` it had are kept) "
            "saying its place in its batch, the batch's `id` being its first message's "
            "`_msgid`.\n\n"
            "`count`: a batch of every `count` messages; with `overlap`, each batch "
            "starts with the last `overlap` messages of the one before (copies are "
            "sent). With `complete_with_parts`, a message that ends its own sequence "
            "(`msg.parts.index` + 1 = `msg.parts.count`) ends the batch early.\n"
            "`interval`: a batch of the messages that came in each `interval` seconds, "
            "timed by the event loop from the start; with `send_empty`, an interval "
            "without messages sends one message with a null payload as a sequence of "
            "one.\n"
            "`concat`: holds the sequences (`msg.parts`) of the topics in `topics`, and "
            "once each topic's first sequence is complete, sends them as one sequence, "
            "in the order of `topics` (a topic named twice is sent twice). A message "
            "whose topic is not in `topics` is dropped; one without `msg.parts` `id`, "
            "`index` and `count` is an error.\n\n"
            "`msg.reset` drops what is held, sends nothing and (`interval`) starts the "
            "interval again. At most `max_messages` messages are held: past that, "
            "everything held is dropped, with an error on the message that came (as "
            "Node-RED with `nodeMessageBufferMaxLength`). A complete node sees a "
            "message when its batch is sent or it is dropped (the one with the error "
            "goes to catch nodes instead).\n\n"
            "Differences from Node-RED, on purpose: the bound above is on by default "
            "(Node-RED holds everything unless its setting is given); in `concat`, "
            "a topic named twice takes its first sequence once (Node-RED also drops "
            "the topic's next sequence), and a dropped message is done (Node-RED "
            "never tells a complete node of it)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {"title": "Mode", "enum": ["count", "interval", "concat"],
                     "default": "count",
                     "description": "Group by number of messages, by time interval, or "
                                    "concatenate sequences."},
            "count": {"x-show-if": fields_are(mode="count"),
                      "title": "Number of messages", "type": "integer", "minimum": 1,
                      "maximum": 1_000_000, "default": 10,
                      "description": "`count`: messages per batch."},
            "overlap": {"x-show-if": fields_are(mode="count"),
                        "title": "Overlap", "type": "integer", "minimum": 0, "default": 0,
                        "description": "`count`: messages a batch repeats from the one "
                                       "before (less than `count`)."},
            "complete_with_parts": {"x-show-if": fields_are(mode="count"),
                                    "title": "msg.parts also completes a batch",
                                    "type": "boolean", "default": False,
                                    "description": "`count`: the last message of a "
                                                   "sequence ends the batch."},
            "interval": {"x-show-if": fields_are(mode="interval"),
                         "title": "Interval (s)", "type": "number", "exclusiveMinimum": 0,
                         "default": 10, "description": "`interval`: seconds per batch."},
            "send_empty": {"x-show-if": fields_are(mode="interval"),
                           "title": "Send an empty message when none came",
                           "type": "boolean", "default": False,
                           "description": "`interval`: a null payload when an interval "
                                          "had no message."},
            "topics": {"x-show-if": fields_are(mode="concat"),
                       "title": "Topics", "type": "array", "default": [],
                       "maxItems": 1000, "items": {"type": "string"},
                       "description": "`concat`: the topics whose sequences are joined, "
                                      "in this order."},
            "max_messages": max_messages_schema(
                "Past this everything held is dropped with an error."),
        },
    }

    async def start(self) -> None:
        config = self.config
        self._mode: str = config["mode"]
        if self._mode == "count" and config["overlap"] >= config["count"]:
            raise ValueError(f"overlap ({config['overlap']}) must be less than count "
                             f"({config['count']})")
        self._held: list[Message] = []  # count, interval
        self._topics: dict[str, _TopicSequences] = {}  # concat
        self._held_count = 0
        self._tick: asyncio.TimerHandle | None = None
        if self._mode == "interval":
            self._arm()

    def on_input(self, msg: Message) -> None:
        if "reset" in msg:
            self._drop()
            self.done(msg)
            if self._mode == "interval":
                self._arm()
            return
        if self._mode == "concat":
            self._concat(msg)
            return
        self._held.append(msg)
        if self._mode == "count":
            self._by_count(msg)
        if len(self._held) > self.config["max_messages"]:
            self._too_many(msg)

    # --- count ---------------------------------------------------------------------------------
    def _by_count(self, msg: Message) -> None:
        parts = msg.get("parts")
        ends = self.config["complete_with_parts"] and isinstance(parts, dict) \
            and _ends_sequence(parts)
        if len(self._held) < self.config["count"] and not ends:
            return
        batch, overlap = self._held, self.config["overlap"]
        self._send_batch(batch, copies=overlap > 0)
        kept = len(batch) - overlap if overlap else len(batch)
        for held in batch[:kept]:
            self.done(held)
        self._held = batch[kept:]

    # --- interval --------------------------------------------------------------------------
    def _arm(self) -> None:
        self.cancel_timer(self._tick)
        loop = asyncio.get_running_loop()
        self._due = loop.time() + self.config["interval"]
        self._tick = self.call_later(self.config["interval"], self._interval_ends)

    def _interval_ends(self) -> None:
        # the next interval is timed from when this one was due, so batches do not drift
        self._due += self.config["interval"]
        delay = max(0.0, self._due - asyncio.get_running_loop().time())
        self._tick = self.call_later(delay, self._interval_ends)
        batch, self._held = self._held, []
        if batch:
            self._send_batch(batch, copies=False)
            for msg in batch:
                self.done(msg)
        elif self.config["send_empty"]:
            empty = make_message(None)
            empty["parts"] = {"id": new_msgid(), "index": 0, "count": 1}
            self.send(empty)

    # --- concat -----------------------------------------------------------------------
    def _concat(self, msg: Message) -> None:
        topic = msg.get("topic")
        if not isinstance(topic, str) or topic not in self.config["topics"]:
            self.done(msg)
            return
        parts = msg.get("parts")
        if not (isinstance(parts, dict) and {"id", "index", "count"} <= parts.keys()):
            self.error("a message to concatenate needs msg.parts with id, index and count",
                       msg)
            self.done(msg)
            return
        self._topics.setdefault(topic, _TopicSequences()).add(msg, parts)
        self._held_count += 1
        if self._held_count > self.config["max_messages"]:
            self._too_many(msg)
            return
        firsts = [self._topics[t].first_complete() if t in self._topics else None
                  for t in self.config["topics"]]
        if any(first is None for first in firsts):
            return
        batch = [held for first in firsts if first is not None for held in first]
        for name in dict.fromkeys(self.config["topics"]):
            self._held_count -= len(self._topics[name].pop_first())
        self._send_batch(batch, copies=True)
        for held in {id(msg): msg for msg in batch}.values():  # a topic named twice
            self.done(held)

    # --- shared ----------------------------------------------------------------------------
    def _send_batch(self, batch: list[Message], *, copies: bool) -> None:
        sequence_id = batch[0].get("_msgid")
        for index, msg in enumerate(batch):
            out = clone_message(msg) if copies else msg
            if not isinstance(out.get("parts"), dict):
                out["parts"] = {}
            out["parts"].update(id=sequence_id, index=index, count=len(batch))
            self.send(out)

    def _too_many(self, msg: Message) -> None:
        dropped = self._drop(failed=msg)
        self.error(f"more than {self.config['max_messages']} messages held: all "
                   f"{len(dropped)} dropped", msg)

    def _drop(self, failed: Message | None = None) -> list[Message]:
        """Forget every held message; the messages. Each is done but ``failed``, the
        message an error goes with (a complete node hears of it no more than Node-RED's,
        a catch node does)."""
        dropped = self._held + [msg for sequences in self._topics.values()
                                for msg in sequences.messages()]
        self._held, self._topics, self._held_count = [], {}, 0
        for msg in dropped:
            if msg is not failed:
                self.done(msg)
        return dropped


class _TopicSequences:
    """One topic's sequences in order of their first message (concat mode)."""

    def __init__(self) -> None:
        self._groups: dict[Hashable, tuple[list[Message], Any]] = {}

    def add(self, msg: Message, parts: dict[str, Any]) -> None:
        key = sequence_key(parts["id"])
        group, count = self._groups.get(key, ([], parts["count"]))
        group.append(msg)
        self._groups[key] = (group, count)

    def first_complete(self) -> list[Message] | None:
        """The oldest sequence if all of it is in, else None."""
        for group, count in self._groups.values():
            return group if count == len(group) else None
        return None

    def pop_first(self) -> list[Message]:
        key = next(iter(self._groups))
        return self._groups.pop(key)[0]

    def messages(self) -> list[Message]:
        return [msg for group, _ in self._groups.values() for msg in group]


def _ends_sequence(parts: dict[str, Any]) -> bool:
    index, count = parts.get("index"), parts.get("count")
    return isinstance(index, int | float) and isinstance(count, int | float) \
        and index + 1 == count
