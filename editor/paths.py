"""Editor access is file access as the runtime user: an `output` node writes the file it
names and an `io-in` reads one, so whoever holds the token could write
~/.ssh/authorized_keys or read the start of any file. A deploy from the editor may
therefore name only allowed paths: inside the flow's state directory or a directory
given with ``portless run --allow-path DIR``, or one of the files the flow named when
the runtime started (those were put there by whoever started it), a file named only
to be read staying read-only.

A config field holds a path when its schema says ``"x-path": "read"`` or ``"write"``
(io-in's and output's ``path``; plugins mark theirs the same way). Paths are compared
after resolving symbolic links and ``..``, relative ones from the runtime's working
directory, as the node opens them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portless.runtime import Flow, FlowError, FlowInvalid, Registry

PATH_KEYWORD = "x-path"


def path_fields(schema: Mapping[str, Any], config: Any, pointer: str = ""
                ) -> Iterator[tuple[str, str, str]]:
    """(pointer, path, "read" or "write") of every non-empty path field of a config, at
    any depth."""
    if not isinstance(config, dict):
        return
    for key, field in schema.get("properties", {}).items():
        value = config.get(key)
        if not isinstance(field, Mapping) or value is None:
            continue
        if field.get(PATH_KEYWORD) and isinstance(value, str) and value:
            yield f"{pointer}/{key}", value, field[PATH_KEYWORD]
        else:
            yield from path_fields(field, value, f"{pointer}/{key}")


def _resolved(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


@dataclass(frozen=True)
class AllowedPaths:
    """The directories and files a deploy from the editor may name. A file the flow
    named at start only to read stays read-only: a sensor channel that io-in reads must
    not become a file an output can write."""

    directories: tuple[Path, ...]
    files: frozenset[Path]
    written_files: frozenset[Path]

    @classmethod
    def at_start(cls, directories: Iterable[str | Path], flow: Flow | None,
                 registry: Registry) -> AllowedPaths:
        """The given directories, and every path ``flow`` (as started) names."""
        named = [(_resolved(path), mode) for _, (_, path, mode) in _paths(flow, registry)
                 ] if flow else []
        return cls(tuple(_resolved(d) for d in directories),
                   frozenset(path for path, _ in named),
                   frozenset(path for path, mode in named if mode != "read"))

    def allows(self, path: str, mode: str) -> bool:
        """``mode`` is the field's x-path: "read", else (to be safe) a write."""
        resolved = _resolved(path)
        return resolved in (self.files if mode == "read" else self.written_files) or any(
            resolved.is_relative_to(directory) for directory in self.directories)

    def check(self, flow: Flow, registry: Registry, skip_references: bool = False) -> None:
        """Raise FlowInvalid naming every node and field with a path outside.
        ``skip_references``: the flow was checked without its environment, so a path
        holding ``${NAME}`` cannot be judged yet."""
        errors = [FlowError(flow.file, f"{path!r} is outside the paths the editor may use "
                                       f"({self.describe()}); to allow it, start portless "
                                       f"with --allow-path DIR (docs/security.md)",
                            node_id, f"/config{pointer}")
                  for node_id, (pointer, path, mode) in _paths(flow, registry)
                  if not self.allows(path, mode)
                  and not (skip_references and "${" in path)]
        if errors:
            raise FlowInvalid(errors)

    def describe(self) -> str:
        directories = ", ".join(f"{d}/" for d in self.directories) or "no directory"
        return (f"{directories}, and the {len(self.files)} file(s) the flow named at start,"
                f" {len(self.written_files)} of them to write")


def _paths(flow: Flow, registry: Registry) -> Iterator[tuple[str, tuple[str, str, str]]]:
    """(node id, (pointer, path, mode)) of every path field of a checked flow's nodes (their
    config resolved, defaults filled in)."""
    for spec in flow.nodes:
        cls = registry.get(spec.type)
        if cls is not None:
            for found in path_fields(cls.schema, spec.config):
                yield spec.id, found
