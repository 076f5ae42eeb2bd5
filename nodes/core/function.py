"""function: Python code run on each message (Node-RED's function node, in Python).

The code is trusted: it runs in the runtime's process with the runtime's rights, and
``portless run --no-function-nodes`` refuses flows that contain it (docs/security.md).
"""

from __future__ import annotations

import builtins
import os
import re
from types import MappingProxyType
from typing import Any

from portless.runtime import (
    MAX_OUTPUTS,
    PYTHON_KEYWORD,
    PYTHON_SCRIPT_KEYWORD,
    Message,
    Node,
    code_failure,
    compile_body,
    compile_script,
)

from .function_api import NodeApi, outgoing_of

CALLS_DONE = re.compile(r"\bnode\s*\.\s*done\b")
"""Code that names ``node.done`` says itself when a message is done (Node-RED looks for
it too); other code is done with a message when it returns."""

DESCRIPTION = (
    "Runs Python code on each message. The code is the body of a function of `msg`; "
    "in scope are `msg`, `node` (`send(msg, clone=True)`, `warn`, `error(text, msg)`, "
    "`status(fill, text, shape)`, `done(msg)`, `log`, `call_later(seconds, callback)`, "
    "`cancel_timer`, and `id`, `name`, `outputs`), `context`, `flow` and `global_` (the "
    "node's, its tab's and the process's context: `get`, `set`, `delete`, `keys`), `env` "
    "(the environment, read-only) and whatever the setup code defined (its imports, "
    "say). It returns a message, a list with one entry per output (a message, a list of "
    "messages, or None), or None to send nothing; returned messages keep the incoming "
    "`_msgid`. An exception is an error on its message (catch nodes get it) naming the "
    "line of the code it came from; a returned value that is no message is one too. "
    "**Trusted code**: it runs in the runtime's process with the runtime's rights and "
    "can do anything Python can (read files, open sockets, stop the process); nothing "
    "is sandboxed. A locked-down device runs `portless run --no-function-nodes`, which "
    "refuses flows containing function nodes. Differences from Node-RED: the code is "
    "Python, and the global context is `global_` (`global` is a Python keyword); "
    "`node.done(msg)` names its message; returning more entries than outputs, or a "
    "value that is no message, is an error on the message (Node-RED drops it silently "
    "or logs it); there is no `node.on`, no per-call timeout and no `libs` list (the "
    "setup code imports what it needs). A trivial body (`return msg`) costs about 0.6 µs "
    "a message, delivery included (`python -m bench --only function`).")


class Function(Node):
    type = "function"
    category = "function"
    color = "#fdd0a2"
    icon = "function"
    calls_done = True  # done after the code returns, or where the code says
    runs_code = True
    outputs_rule = "`outputs`"
    schema = {
        "title": "Function",
        "description": DESCRIPTION,
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "code": {"title": "Code", "type": "string", PYTHON_KEYWORD: True,
                     "default": "return msg",
                     "description": "The body of a function of `msg`, run on each "
                                    "message; what it returns is sent."},
            "setup": {"title": "Setup", "type": "string", PYTHON_SCRIPT_KEYWORD: True,
                      "default": "",
                      "description": "Run once when the node starts, before any "
                                     "message; may `await`. Names it defines (imports, "
                                     "helpers) are in scope in the code."},
            "close": {"title": "Close", "type": "string", PYTHON_SCRIPT_KEYWORD: True,
                      "default": "",
                      "description": "Run once when the node stops (a deploy that "
                                     "changes it, or shutdown); may `await`."},
            "outputs": {"title": "Outputs", "type": "integer", "minimum": 0,
                        "maximum": MAX_OUTPUTS, "default": 1,
                        "description": "How many outputs the node has; a returned list "
                                       "has one entry per output."},
        },
    }

    @classmethod
    def output_count(cls, config: Any) -> int:
        return int(config["outputs"])

    async def start(self) -> None:
        self._filename = f"<function {self.id}>"
        self._namespace: dict[str, Any] = {
            "__builtins__": builtins, "__name__": f"portless.function.{self.id}",
            "node": NodeApi(self), "context": self.node_context,
            "flow": self.flow_context, "global_": self.global_context,
            "env": MappingProxyType(dict(os.environ))}
        code = self.config["code"]
        self._body = compile_body(code, self._filename, self._namespace)
        self._says_done = CALLS_DONE.search(code) is not None
        await self._script("setup")

    async def stop(self) -> None:
        try:
            await self._script("close")
        except RuntimeError as exc:
            self.warn(str(exc))

    async def _script(self, field: str) -> None:
        """Run the setup or close code in the node's namespace, awaiting it if it awaits."""
        text = self.config[field]
        if not text:
            return
        filename = f"<function {self.id} {field}>"
        try:
            running = eval(compile_script(text, filename), self._namespace)
            if running is not None:
                await running
        except Exception as exc:
            raise RuntimeError(f"{field}: {code_failure(exc, filename)}") from None

    def on_input(self, msg: Message) -> None:
        try:
            result = self._body(msg)
        except Exception as exc:  # the user's code: an error on this message
            self.error(code_failure(exc, self._filename), msg)
            return
        if result is msg and self.outputs:
            self.send(msg)
        elif result is not None:
            try:
                outgoing = outgoing_of(result, self.outputs, msg.get("_msgid"))
            except ValueError as exc:
                self.error(f"the code {exc}", msg)
                return
            if outgoing:
                self.send(outgoing)
        if not self._says_done:
            self.done(msg)
