"""What an import did, for a person: converted nodes by type, what was approximated,
what was not converted and why; as text for the terminal and JSON for the editor."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from portless.runtime.errors import printable


@dataclass(frozen=True)
class Entry:
    """One remark about one Node-RED node."""

    node_id: str
    type: str
    name: str
    text: str

    def line(self) -> str:
        named = f" '{self.name}'" if self.name else ""
        return printable(f"{self.type}{named} ({self.node_id}): {self.text}")


@dataclass
class Report:
    source: str
    converted: Counter[str] = field(default_factory=Counter)
    """Node-RED type -> how many were converted (approximated ones included)."""
    approximated: list[Entry] = field(default_factory=list)
    kept_disabled: list[Entry] = field(default_factory=list)
    """Kept in the flow, disabled, because they cannot run as they are (JavaScript)."""
    refused: list[Entry] = field(default_factory=list)
    flattened: Counter[str] = field(default_factory=Counter)
    """group / junction -> how many were flattened away."""
    files: list[str] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)
    """The ${ENV} names the converted files need set."""

    @property
    def complete(self) -> bool:
        """Everything converted: nothing refused and nothing kept disabled."""
        return not self.refused and not self.kept_disabled

    def text(self) -> str:
        total = sum(self.converted.values())
        lines = [printable(f"{self.source}: {total} node(s) converted"
                           + (", everything" if self.complete else ""))]
        lines += [f"  {count:4d}  {kind}" for kind, count in sorted(self.converted.items())]
        if self.flattened:
            lines.append("flattened: " + ", ".join(
                f"{count} {kind}(s)" for kind, count in sorted(self.flattened.items())))
        for title, entries in (("approximated", self.approximated),
                               ("kept disabled", self.kept_disabled),
                               ("not converted", self.refused)):
            if entries:
                lines.append(f"{title} ({len(entries)}):")
                lines += [f"  {entry.line()}" for entry in entries]
        if self.environment:
            lines.append("set in the environment: " + ", ".join(self.environment))
        if self.files:
            lines.append("files: " + ", ".join(self.files))
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        def entries(items: list[Entry]) -> list[dict[str, str]]:
            return [{"id": e.node_id, "type": e.type, "name": e.name, "text": e.text}
                    for e in items]

        return {"source": self.source, "complete": self.complete,
                "converted": dict(sorted(self.converted.items())),
                "approximated": entries(self.approximated),
                "kept_disabled": entries(self.kept_disabled),
                "not_converted": entries(self.refused),
                "flattened": dict(self.flattened), "files": list(self.files),
                "environment": list(self.environment)}
