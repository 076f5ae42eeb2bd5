"""split: one message per piece of a text, bytes, list or object, each with msg.parts
saying where it belongs, so a join can put them back together (Node-RED's split)."""

from __future__ import annotations

import math
from typing import Any

from portless.runtime import (
    MISSING,
    Message,
    Node,
    PropertyPath,
    clone_message,
    fields_are,
    new_msgid,
)

SPLIT_BY = ("delimiter", "bytes", "length")


class Split(Node):
    type = "split"
    category = "sequence"
    color = "#E2D96E"
    icon = "split"
    schema = {
        "title": "Split",
        "description": (
            "Splits a message property (`property`) into a sequence of messages, one per "
            "piece, each a copy of the message with the piece in that property and "
            "`msg.parts` saying where it belongs (`id`, `index`, `count`, `type`: "
            "`string`, `buffer`, `array` or `object`, and `ch` the delimiter, `len` the "
            "length, `key` the object key, `property` when it is not `payload`; a "
            "`msg.parts` the message had is kept inside as `msg.parts.parts`), as "
            "Node-RED's split does, so a join in automatic mode rebuilds the value.\n\n"
            "A text or bytes is split at each `delimiter` (text), at each "
            "`delimiter_bytes` (a byte sequence), or into pieces of `length`; a list "
            "into pieces of `array_length` items (one item: the item itself); an object "
            "into one message per key, the key also copied into `key_property` when "
            "set. Any other value (a number, a boolean) is dropped, and null is an "
            "error, as in Node-RED.\n\n"
            "With `stream`, texts and bytes are one continuous stream: the piece after "
            "the last delimiter (or the short last piece) waits to be joined to the "
            "next message's start, indexes run on across messages and no `count` is "
            "set (each message's pieces get their own `id`, as in Node-RED).\n\n"
            "Bounds: a message that would make more than `max_parts` pieces is an "
            "error naming the count, and nothing of it is sent; in stream mode, more "
            "than `max_stream_held` characters or bytes waiting for a delimiter is an "
            "error, and what waited is dropped.\n\n"
            "Differences from Node-RED, on purpose: bytes ending with the delimiter "
            "(and empty bytes) send their last, empty piece, as a text does (Node-RED "
            "counts it in `count` but never sends it, so a join waits for ever); the "
            "two bounds above (Node-RED has none); a complete node hears of each "
            "message as split takes it, also in stream mode (Node-RED: once its last "
            "piece has gone)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": {"title": "Split property", "type": "string", "default": "payload",
                         "x-property-path": True,
                         "description": "The message property to split."},
            "split_by": {"title": "Split texts and bytes by", "enum": list(SPLIT_BY),
                         "default": "delimiter",
                         "description": "`delimiter`: at each `delimiter`; `bytes`: at "
                                        "each `delimiter_bytes`; `length`: into pieces "
                                        "of `length`."},
            "delimiter": {"x-show-if": fields_are(split_by="delimiter"),
                          "title": "Delimiter", "type": "string", "minLength": 1,
                          "default": "\n",
                          "description": "The text between pieces (bytes are split at "
                                         "its UTF-8 form)."},
            "delimiter_bytes": {"x-show-if": fields_are(split_by="bytes"),
                                "title": "Delimiter bytes", "type": "array",
                                "minItems": 1, "maxItems": 1024, "default": [10],
                                "items": {"type": "integer", "minimum": 0, "maximum": 255},
                                "description": "The bytes between pieces (a text is split "
                                               "at their UTF-8 text)."},
            "length": {"x-show-if": fields_are(split_by="length"),
                       "title": "Piece length", "type": "integer", "minimum": 1,
                       "default": 1,
                       "description": "Characters or bytes per piece (the last may be "
                                      "shorter)."},
            "array_length": {"title": "List pieces of", "type": "integer", "minimum": 1,
                             "default": 1,
                             "description": "Items per piece of a list."},
            "stream": {"title": "Handle as a stream of messages", "type": "boolean",
                       "default": False,
                       "description": "Texts and bytes: carry the unfinished last piece "
                                      "over to the next message."},
            "key_property": {"title": "Copy the key to", "type": ["string", "null"],
                             "default": None,
                             "x-property-path": True,
                             "description": "Objects: the message property that gets each "
                                            "piece's key (null: none)."},
            "max_parts": {"title": "Most pieces of one message", "type": "integer",
                          "minimum": 1, "maximum": 10_000_000, "default": 10_000,
                          "description": "A message that would make more is an error (the "
                                         "default is what a join, sort or switch holds "
                                         "by default, so they can take a split back)."},
            "max_stream_held": {"title": "Most held in stream mode", "type": "integer",
                                "minimum": 1, "default": 16_777_216,
                                "description": "Characters or bytes waiting for the next "
                                               "message; past it they are dropped with "
                                               "an error."},
        },
    }

    async def start(self) -> None:
        config = self.config
        self._path = PropertyPath(config["property"])
        self._key_path = None if config["key_property"] is None \
            else PropertyPath(config["key_property"])
        self._by: str = config["split_by"]
        self._text_delimiter = (bytes(config["delimiter_bytes"]).decode("utf-8", "replace")
                                if self._by == "bytes" else config["delimiter"])
        self._bytes_delimiter = (bytes(config["delimiter_bytes"]) if self._by == "bytes"
                                 else config["delimiter"].encode())
        self._ch: Any = config["delimiter_bytes"] if self._by == "bytes" \
            else config["delimiter"]
        self._stream: bool = config["stream"]
        self._index = 0  # a stream's next index: runs on across messages
        self._rests: dict[str, Any] = {"string": "", "buffer": b""}
        """What a stream holds back for the next message, for texts and for bytes."""

    def on_input(self, msg: Message) -> None:
        value = self._path.get(msg)
        if value is MISSING:
            return
        if value is None:
            self.error(f"cannot split {self.config['property']}: it is null", msg)
            return
        parts: dict[str, Any] = {"parts": msg["parts"]} if "parts" in msg else {}
        parts["id"] = new_msgid()
        if self.config["property"] != "payload":
            parts["property"] = self.config["property"]
        if isinstance(value, str | bytes | bytearray):
            self._split_run(msg, parts, value if isinstance(value, str) else bytes(value))
        elif isinstance(value, list):
            self._split_list(msg, parts, value)
        elif isinstance(value, dict):
            self._split_object(msg, parts, value)

    # --- each kind of value --------------------------------------------------------
    def _split_run(self, msg: Message, parts: dict[str, Any], value: str | bytes) -> None:
        """A text or bytes (after what a stream held back), by delimiter or length."""
        kind = "string" if isinstance(value, str) else "buffer"
        parts["type"] = kind
        data = self._rests[kind] + value
        pieces: list[Any] | None
        if self._by == "length":
            parts.update({"ch": "", "len": self.config["length"]} if kind == "string"
                         else {"len": self.config["length"]})
            pieces = self._chunks(msg, data)
        else:
            parts["ch"] = self._ch
            delimiter = self._text_delimiter if kind == "string" else self._bytes_delimiter
            pieces = data.split(delimiter) if self._room(msg, data.count(delimiter) + 1) \
                else None
        if pieces is None:
            return
        self._rests[kind] = self._carry(msg, pieces, data[:0]) if self._stream else data[:0]
        self._emit(msg, parts, pieces)

    def _split_list(self, msg: Message, parts: dict[str, Any], value: list[Any]) -> None:
        size = self.config["array_length"]
        count = math.ceil(len(value) / size)
        if not self._room(msg, count):
            return
        parts.update(type="array", len=size)
        pieces = value if size == 1 else [value[at:at + size]
                                          for at in range(0, len(value), size)]
        self._emit(msg, parts, pieces)

    def _split_object(self, msg: Message, parts: dict[str, Any],
                      value: dict[str, Any]) -> None:
        if not self._room(msg, len(value)):
            return
        parts["type"] = "object"
        self._emit(msg, parts, list(value.values()), keys=list(value))

    # --- shared steps ----------------------------------------------------------------
    def _chunks(self, msg: Message, data: Any) -> list[Any] | None:
        """Pieces of ``length``; an empty value is one empty piece (Node-RED's count 0)."""
        size = self.config["length"]
        if not self._room(msg, math.ceil(len(data) / size)):
            return None
        return [data[at:at + size] for at in range(0, len(data), size)] or [data[:0]]

    def _carry(self, msg: Message, pieces: list[Any], empty: Any) -> Any:
        """Stream mode: take the unfinished last piece off ``pieces`` and return it (a
        last piece of a whole ``length`` is finished and stays)."""
        if self._by == "length" and len(pieces[-1]) == self.config["length"]:
            return empty
        rest = pieces.pop()
        if len(rest) > self.config["max_stream_held"]:
            self.error(f"more than {self.config['max_stream_held']} characters or bytes "
                       "held for the next message in stream mode: dropped", msg)
            return empty
        return rest

    def _room(self, msg: Message, count: int) -> bool:
        if count <= self.config["max_parts"]:
            return True
        self.error(f"the value of {self.config['property']} would split into {count} "
                   f"pieces, more than max_parts ({self.config['max_parts']}): "
                   "nothing sent", msg)
        return False

    def _emit(self, msg: Message, parts: dict[str, Any], pieces: list[Any], *,
              keys: list[str] | None = None) -> None:
        """Send one copy of ``msg`` per piece, numbered. A list's or an object's pieces
        count from 0; a text's or bytes' from 0 too unless streaming, where the numbers
        run on (and no ``count`` is set)."""
        streamed = self._stream and parts["type"] in ("string", "buffer")
        if not streamed:
            parts["count"] = len(pieces)
        first = self._index if streamed else 0
        self._path.set(msg, None)  # the copies need not carry the whole value
        for number, piece in enumerate(pieces):
            out = clone_message(msg)
            out["_msgid"] = new_msgid()
            out["parts"] = {**parts, "index": first + number}
            self._path.set(out, piece)
            if keys is not None:
                out["parts"]["key"] = keys[number]
                if self._key_path is not None:
                    self._key_path.set(out, keys[number])
            self.send(out)
        if streamed:
            self._index = first + len(pieces)
