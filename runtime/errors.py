"""Errors as values with a place: the file, the node id and the field they are about."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow, printed as ``FILE: node ID: /config/field: sentence``."""

    file: str
    message: str
    node_id: str | None = None
    pointer: str = ""

    def __str__(self) -> str:
        parts = [self.file]
        if self.node_id is not None:
            parts.append(f"node {self.node_id}")
        if self.pointer:
            parts.append(self.pointer)
        parts.append(self.message)
        return ": ".join(parts)


class FlowInvalid(Exception):
    """A flow that cannot run; carries every error found, not just the first."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class RegistryError(Exception):
    """Two sources define the same node type, or a node class is malformed."""
