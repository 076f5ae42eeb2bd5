"""yaml: a message property between a YAML text and a value, both ways (Node-RED's yaml
node); texts are read safely (yaml_text), so hostile YAML is an error, not a wedged or
exploited runtime."""

from __future__ import annotations

from typing import Any

from portless.nodes.core.parser_fields import converted_property
from portless.nodes.core.yaml_text import (
    MAX_DEPTH,
    MAX_TEXT,
    MAX_VALUES,
    YamlRefused,
    dump_yaml,
    load_yaml,
)
from portless.runtime import MISSING, Message, Node, PropertyPath


class Yaml(Node):
    type = "yaml"
    category = "parser"
    color = "#DEBD5C"
    icon = "parser-yaml"
    schema = {
        "title": "YAML",
        "description": (
            "Converts a message property between a YAML text and the value it holds, as "
            "Node-RED's yaml node does: a text is parsed into a value, an object or list "
            "(or null) is written as YAML text. A message without the property passes "
            "unchanged; a number or boolean is dropped with a warning. A text that is not "
            "YAML, or holds more than one document, is an error with the message, so a "
            "catch node can take it.\n\n"
            "YAML is read as Node-RED's js-yaml 4 reads it (YAML 1.2: `yes` and `on` are "
            "texts, `0o17` is 15, `<<` merges a mapping, a date or timestamp becomes the "
            "ISO 8601 text of its instant in UTC, which is what Node-RED's Date turns into "
            "in JSON; `!!set` becomes a mapping to nulls, `!!omap` a list of one-key "
            "mappings, `!!pairs` a list of pairs, `!!binary` bytes; keys are texts). Only "
            "YAML's own tags are read: a tag that would construct an object "
            "(`!!python/object`, or any custom tag) is an error.\n\n"
            "Writing lays the text out as js-yaml does (two spaces, a list under its key "
            "indented, keys in their order, a text of several lines as a `|` block, texts "
            "that would read as something else quoted, including YAML 1.1's `yes`, `y` and "
            "`012`; PyYAML also quotes `1_000` and `...`, which js-yaml leaves plain).\n\n"
            "Differences from Node-RED, on purpose: a hostile text is refused: more than "
            f"{MAX_TEXT:,} characters, nesting deeper than {MAX_DEPTH} levels, more than "
            f"{MAX_VALUES:,} values counting each use of an alias anew (a \"billion "
            "laughs\"), an alias inside itself, `.nan` or `.inf` (no JSON value), or an "
            "integer beyond 2^53 - 1 (Node-RED rounds it); an alias becomes a copy of "
            "what it names (in Node-RED both places are one object); UTF-8 bytes are "
            "parsed as text (Node-RED drops a Buffer with a warning); a long text is "
            "written on one line (js-yaml folds it at 80 characters); a value YAML "
            "cannot hold (a Python object) is an error with the message."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": converted_property(),
        },
    }

    async def start(self) -> None:
        self._path = PropertyPath(self.config["property"])
        self._where = f"msg.{self.config['property']}"

    def on_input(self, msg: Message) -> None:
        value = self._path.get(msg)
        if value is MISSING:
            self.send(msg)
            return
        result: Any
        if isinstance(value, str | bytes | bytearray):
            try:
                text = value if isinstance(value, str) else bytes(value).decode("utf-8")
            except UnicodeDecodeError as exc:
                self.error(f"{self._where} is not UTF-8 text: {exc.reason} at byte "
                           f"{exc.start}", msg)
                return
            try:
                result = load_yaml(text)
            except YamlRefused as exc:
                self.error(f"{self._where} is not YAML this node reads: {exc}", msg)
                return
        elif value is None or isinstance(value, dict | list):
            try:
                result = dump_yaml(value)
            except YamlRefused as exc:
                self.error(f"Failed to convert {self._where} to YAML: {exc}", msg)
                return
        else:
            self.warn(f"Dropped: {self._where} is neither a YAML text nor an object or "
                      f"list, but {type(value).__name__}")
            return
        self._path.set(msg, result)
        self.send(msg)
