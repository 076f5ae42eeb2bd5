"""exception-filter: report by exception (placeholder; being written)."""

from __future__ import annotations

from portless.runtime import Message, Node


class ExceptionFilter(Node):
    type = "exception-filter"
    category = "function"

    def on_input(self, msg: Message) -> None:
        self.send(msg)
