"""template: a Mustache template (or plain text) rendered over the message into a
property or a context key, as text or parsed as JSON or YAML (Node-RED's template
node), with flow., global. and env. names as Node-RED gives them."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Any

from portless.nodes.core.mustache import (
    MAX_DEPTH,
    MAX_OUTPUT,
    MAX_STEPS,
    RenderLimit,
    TemplateError,
    parse,
    render,
)
from portless.nodes.core.yaml_text import YamlRefused, load_yaml
from portless.runtime import (
    MISSING,
    JsonProblems,
    Message,
    Node,
    TypedValue,
    safe_json_loads,
    typed_value_schema,
)

OUTPUTS = ("text", "json", "yaml")
_CONTEXT_NAME = re.compile(r"(flow|global)(?:\[[A-Za-z0-9_]+\])?\.(.+)", re.DOTALL)
_ENV_NAME = re.compile(r"env\.(.+)", re.DOTALL)
_parsed = lru_cache(maxsize=32)(parse)
"""Templates that come in msg.template, parsed once for as long as they keep coming."""


class Template(Node):
    type = "template"
    category = "function"
    color = "rgb(243, 181, 103)"
    icon = "template"
    schema = {
        "title": "Template",
        "description": (
            "Renders a template over the message and puts the result in a message "
            "property, or a flow or global context key, as Node-RED's template node does. "
            "With Mustache syntax, `{{payload}}` is the message's payload (`{{payload.a.b}}` "
            "goes deeper; `{{{payload}}}` or `{{& payload}}` is not HTML-escaped), "
            "`{{#list}}...{{/list}}` repeats for each item of a list (or shows its inside "
            "once for a value that is not false, 0, empty or null), `{{^x}}...{{/x}}` "
            "shows where `x` is false or empty, `{{! note}}` is a comment and "
            "`{{=<% %>=}}` changes the delimiters. A name the message lacks is looked up "
            "as Node-RED does: `{{flow.name}}` and `{{global.name}}` are context keys "
            "(a path, as `flow.totals.valves`), `{{env.NAME}}` an environment variable; "
            "anything else is empty. Values are written as JavaScript writes them (a "
            "list as its items joined by commas, an object as `[object Object]`, 2.0 as "
            "2). With plain syntax the template is the text itself.\n\n"
            "Output `json` or `yaml` parses the result (strictly, as the json and yaml "
            "nodes do), and with `json` a message's texts are escaped for a JSON string "
            "(backslash, newline, tab...; not quotes), so `{\"note\": \"{{payload}}\"}` "
            "stays JSON. A message's `template` is used where this node's template is "
            "empty. A result that is no JSON or YAML, or a template that fails, is an "
            "error with the message, so a catch node can take it.\n\n"
            "Differences from Node-RED, on purpose: a render is bounded: it writes at most "
            f"{MAX_OUTPUT:,} characters and visits at most {MAX_STEPS:,} tags and "
            f"texts (each pass of a section over a list counting anew), and sections nest "
            f"at most {MAX_DEPTH} deep; past that it is an error with the message. A "
            "template that does not parse stops the node from starting, with "
            "mustache.js's reason (Node-RED fails each message). With output `json`, "
            "texts inside sections are escaped too (Node-RED escapes only those outside "
            "any section, so a newline in a list item breaks its JSON). `flow[store].name` "
            "reads the tab's own context, whatever the store (a tab has one store here). "
            "Only a value's own data is read (`{{payload.toString}}` is empty; Node-RED "
            "calls JavaScript's method). A partial, `{{> name}}`, renders nothing (Node-RED "
            "has none to give, and fails the message). A null item of a list a section "
            "walks is an empty view (mustache.js fails the message). "
            f"`msg.template` must be a text of at most {MAX_OUTPUT:,} characters."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property": typed_value_schema(
                "Property", "Where the result goes: a message property, or a flow or "
                "global context key (Node-RED's field and fieldType).",
                kinds=("msg", "flow", "global"), default={"kind": "msg", "value": "payload"}),
            "template": {
                "title": "Template", "type": "string", "x-widget": "code",
                "x-language": "mustache",
                "default": "This is the payload: {{payload}} !",
                "description": "The template; empty to take the message's `template`."},
            "syntax": {
                "title": "Syntax", "enum": ["mustache", "plain"], "default": "mustache",
                "description": "`mustache`: tags are filled in; `plain`: the text as it is."},
            "output": {
                "title": "Output as", "enum": list(OUTPUTS), "default": "text",
                "description": "`text`: the result as it is; `json` or `yaml`: the value "
                               "the result holds, parsed."},
        },
    }

    async def start(self) -> None:
        config = self.config
        self._target = TypedValue(config["property"], self)
        self._where = ("msg." if self._target.kind == "msg" else
                       f"{self._target.kind} context key ") + str(self._target.value)
        self._text: str = config["template"]
        self._mustache = config["syntax"] == "mustache"
        self._output: str = config["output"]
        self._template = None
        if self._mustache and self._text:
            try:
                self._template = parse(self._text)
            except TemplateError as exc:
                raise ValueError(f"the template does not parse: {exc}") from None

    def on_input(self, msg: Message) -> None:
        text, template = self._text, self._template
        if not text and "template" in msg:
            text = msg["template"]
            if not isinstance(text, str):
                self.error(f"msg.template must be a text, not {type(text).__name__}", msg)
                return
            if len(text) > MAX_OUTPUT:
                self.error(f"msg.template is {len(text):,} characters long; at most "
                           f"{MAX_OUTPUT:,} are read", msg)
                return
            if self._mustache:
                try:
                    template = _parsed(text)
                except TemplateError as exc:
                    self.error(f"msg.template does not parse: {exc}", msg)
                    return
        result = text
        if template is not None:
            try:
                result = render(template, msg, self._lookup,
                                json_strings=self._output == "json")
            except (RenderLimit, ValueError) as exc:
                self.error(f"The template failed: {exc}", msg)
                return
        value = self._parsed(result, msg)
        if value is None:
            return
        try:
            if value[0] is MISSING:  # YAML holding nothing: js-yaml's undefined
                self._target.delete(msg)
            elif not self._target.set(msg, value[0]):
                self.error(f"Cannot set {self._where}: a value on the way is no object",
                           msg)
                return
        except ValueError as exc:  # a context that cannot keep it
            self.error(f"Cannot set {self._where}: {exc}", msg)
            return
        self.send(msg)

    def _lookup(self, name: str) -> Any:
        """A name the message lacks: Node-RED's env.NAME, flow.key and global.key."""
        env = _ENV_NAME.fullmatch(name)
        if env:
            return os.environ.get(env.group(1), MISSING)
        context = _CONTEXT_NAME.fullmatch(name)
        if context is None:
            return MISSING
        store = self.flow_context if context.group(1) == "flow" else self.global_context
        return store.get(context.group(2), MISSING)

    def _parsed(self, result: str, msg: Message) -> tuple[Any] | None:
        """The value to set, in a tuple (None after an error with the message)."""
        if self._output == "text":
            return (result,)
        try:
            if self._output == "json":
                return (safe_json_loads(result),)
            return (load_yaml(result),)
        except json.JSONDecodeError as exc:
            self.error(f"Unexpected token in JSON at position {exc.pos}: {exc.msg} (the "
                       "rendered template)", msg)
        except (JsonProblems, YamlRefused) as exc:
            self.error(f"The rendered template is refused {self._output.upper()}: {exc}",
                       msg)
        return None
