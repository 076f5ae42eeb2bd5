"""Errors as values with a place: the file, the node id and the field they are about."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with control characters and lone surrogates written as escapes (a
    newline as \\n), so an error about a hostile value stays one printable line."""
    return _UNPRINTABLE.sub(
        lambda match: _SHORT_ESCAPES.get(match[0], f"\\u{ord(match[0]):04x}"), text)


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow, printed as ``FILE: node ID: /config/field: sentence``
    (``FILE: node ID (INNER): ...`` for a node inside a subflow instance)."""

    file: str
    message: str
    node_id: str | None = None
    pointer: str = ""
    inner: str = ""
    """Inside a subflow instance (``node_id``), which node: "subflow:pump, inner node
    filter"; the pointer is then that inner node's."""

    def __str__(self) -> str:
        parts = [self.file]
        if self.node_id is not None:
            parts.append(f"node {self.node_id}" + (f" ({self.inner})" if self.inner else ""))
        if self.pointer:
            parts.append(self.pointer)
        parts.append(self.message)
        return printable(": ".join(parts))


class FlowInvalid(Exception):
    """A flow that cannot run; carries every error found, not just the first."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class RegistryError(Exception):
    """Two sources define the same node type, or a node class is malformed."""
