"""json: a message property between a JSON text and a value, both ways (Node-RED's json
node), with msg.schema validation; texts are parsed by safe_json, so hostile JSON is an
error, not a wedged runtime."""

from __future__ import annotations

import json
import math
from typing import Any

import jsonschema
import referencing.exceptions

from portless.nodes.core.parser_fields import converted_property
from portless.runtime import MISSING, JsonProblems, Message, Node, PropertyPath, safe_json_loads

ACTIONS = ("both", "string", "object")
_LARGEST_WHOLE = 1e21
"""JavaScript writes a whole number below this without a fraction or exponent."""


def _javascript_value(value: Any) -> Any:
    """The value as JSON.stringify sees it: 2.0 is 2, NaN and Infinity are null and
    bytes are a Node.js Buffer's JSON; anything else json refuses with TypeError."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < _LARGEST_WHOLE else value
    if isinstance(value, dict):
        return {key: _javascript_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_javascript_value(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return {"type": "Buffer", "data": list(value)}
    return value


class Json(Node):
    type = "json"
    category = "parser"
    color = "#DEBD5C"
    icon = "parser-json"
    schema = {
        "title": "JSON",
        "description": (
            "Converts a message property between a JSON text and the value it holds, as "
            "Node-RED's json node does: a text (or UTF-8 bytes, Node-RED's Buffer) is "
            "parsed into a value, and an object, list, number, boolean or null is written "
            "as JSON text. A message without the property passes unchanged. A text that "
            "is not JSON is an error with the message, so a catch node can take it.\n\n"
            "If the message has a `schema` (a JSON Schema, draft 7 unless it names "
            "another in `$schema`), the value is validated against it: a valid message "
            "is sent without `schema`; an invalid one is an error naming each failure, "
            "with the failures in `msg.schemaError` (`instancePath`, `schemaPath`, "
            "`keyword`, `message`, as Node-RED's ajv reports them).\n\n"
            "Differences from Node-RED, on purpose: JSON is read strictly (NaN, "
            "Infinity, a key twice in one object, integers beyond 2^53 - 1 and nesting "
            "deeper than 32 levels are errors; Node-RED keeps the last of twice-given "
            "keys and rounds big integers); `string` turns bytes into text (Node-RED "
            "passes the Buffer on); a value JSON cannot hold (a set, a date) is an error "
            "with the message (Node-RED warns and drops it); a message that fails its "
            "schema keeps its property as it came (Node-RED may have converted it); a "
            "schema that refers to another document by URL is not fetched."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": converted_property(),
            "action": {
                "title": "Action", "enum": list(ACTIONS), "default": "both",
                "description": (
                    "`both`: a text becomes a value and a value becomes a text (Node-RED's "
                    "\"Convert between JSON String & Object\"); `string`: always a text (a "
                    "text passes unchanged); `object`: always a value (a value passes "
                    "unchanged).")},
            "pretty": {
                "title": "Format JSON text", "type": "boolean", "default": False,
                "description": "Write JSON text indented by four spaces, one item a line, "
                               "as JSON.stringify(value, null, 4); otherwise on one line "
                               "without spaces."},
        },
    }

    async def start(self) -> None:
        config = self.config
        self._path = PropertyPath(config["property"])
        self._where = f"msg.{config['property']}"
        self._action = config["action"]
        self._indent: int | None = 4 if config["pretty"] else None
        self._separators = (",", ": ") if config["pretty"] else (",", ":")
        self._schema: Any = None
        self._validator: Any = None

    def on_input(self, msg: Message) -> None:
        value = self._path.get(msg)
        if value is MISSING:
            self.send(msg)
            return
        validator = None
        if msg.get("schema"):
            validator = self._compiled(msg["schema"])
            if validator is None:
                self.error("JSON Schema error: failed to compile schema", msg)
                return
        result: Any
        checked: Any
        if isinstance(value, str | bytes | bytearray):
            text = self._text(value, msg)
            if text is None:
                return
            if self._action == "string":
                result = checked = text
                if validator is not None:  # a text is validated by what it holds
                    checked = self._parsed(text, msg)
            else:
                result = checked = self._parsed(text, msg)
            if checked is MISSING:
                return
        elif self._action == "object":
            result = checked = value
        else:
            checked, result = value, self._written(value, msg)
            if result is None:
                return
        if validator is not None:
            if not self._valid(validator, checked, msg):
                return
            del msg["schema"]
        self._path.set(msg, result)
        self.send(msg)

    def _text(self, value: str | bytes | bytearray, msg: Message) -> str | None:
        if isinstance(value, str):
            return value
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            self.error(f"{self._where} is not UTF-8 text: {exc.reason} at byte "
                       f"{exc.start}", msg)
            return None

    def _parsed(self, text: str, msg: Message) -> Any:
        """The value the text holds, or MISSING after an error with the message."""
        try:
            return safe_json_loads(text)
        except json.JSONDecodeError as exc:
            self.error(f"Unexpected token in JSON at position {exc.pos}: {exc.msg} "
                       f"({self._where})", msg)
        except JsonProblems as exc:
            self.error(f"{self._where} is refused JSON: {exc}", msg)
        return MISSING

    def _written(self, value: Any, msg: Message) -> str | None:
        try:
            return json.dumps(_javascript_value(value), ensure_ascii=False,
                              indent=self._indent, separators=self._separators)
        except (TypeError, ValueError, RecursionError) as exc:
            self.error(f"Failed to convert {self._where} to JSON: {exc}", msg)
            return None

    def _compiled(self, schema: Any) -> Any:
        """A validator for the schema (the last one is kept: a flow sends the same
        schema again and again), or None if it is no schema."""
        if schema != self._schema or self._validator is None:
            try:
                cls = jsonschema.validators.validator_for(
                    schema, default=jsonschema.Draft7Validator)
                cls.check_schema(schema)
            except (jsonschema.SchemaError, TypeError, AttributeError):
                self._schema = self._validator = None
                return None
            self._schema, self._validator = schema, cls(schema)
        return self._validator

    def _valid(self, validator: Any, value: Any, msg: Message) -> bool:
        try:
            errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        except referencing.exceptions.Unresolvable as exc:  # a $ref to nowhere, or a URL
            self.error(f"JSON Schema error: a $ref cannot be resolved: {exc}", msg)
            return False
        if not errors:
            return True
        # as ajv reports them, so a flow written for Node-RED reads the same fields
        msg["schemaError"] = [
            {"instancePath": "".join(f"/{part}" for part in error.absolute_path),
             "schemaPath": "#/" + "/".join(str(p) for p in error.absolute_schema_path),
             "keyword": error.validator, "message": error.message} for error in errors]
        self.error("JSON Schema error: " + ", ".join(
            f"data{item['instancePath']} {item['message']}" for item in msg["schemaError"]),
            msg)
        return False
