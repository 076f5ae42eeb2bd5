"""expression: a JSONata expression evaluated on each message into a property, for
users who want a computed value without writing code."""

from __future__ import annotations

from portless.runtime import JSONATA_KEYWORD, Message, Node, TypedValue, typed_value_schema


class Expression(Node):
    type = "expression"
    category = "function"
    color = "#e2d96e"
    icon = "node"
    schema = {
        "title": "Expression",
        "description": (
            "Evaluates a JSONata expression on each message (the message is its input, "
            "as in Node-RED's change node: `payload * 2`, `$round(payload.temp, 1)`, "
            "`$flowContext(\"limit\")`, `$globalContext(\"site\")`, `$env(\"LINE_ID\")`) "
            "and puts the result into a message property, or a flow or global context "
            "key, then sends the message on. An expression that fails drops the message "
            "with an error catch nodes get; one that yields nothing sets null. No code "
            "runs: the expression is bounded in time and depth, so it is allowed where "
            "`--no-function-nodes` refuses function nodes."),
        "type": "object",
        "additionalProperties": False,
        "required": ["expression"],
        "properties": {
            "expression": {"title": "Expression", "type": "string", JSONATA_KEYWORD: True,
                           "default": "payload",
                           "description": "The JSONata expression, with the message as "
                                          "its input."},
            "property": typed_value_schema(
                "Property", "Where the result goes: a message property, or a flow or "
                            "global context key.",
                kinds=("msg", "flow", "global"), default={"kind": "msg", "value": "payload"}),
        },
    }

    async def start(self) -> None:
        self._value = TypedValue({"kind": "jsonata", "value": self.config["expression"]},
                                 self).get
        self._target = TypedValue(self.config["property"], self)

    def on_input(self, msg: Message) -> None:
        try:
            value = self._value(msg)
            if not self._target.set(msg, value):
                self.error(f"cannot set msg.{self._target.value}: a part of the way is "
                           f"not an object or list", msg)
                return
        except ValueError as exc:  # a failed expression, or a context that refused it
            self.error(str(exc), msg)
            return
        self.send(msg)
