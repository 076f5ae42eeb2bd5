"""The flow as the editor sees it: read with an ETag, secrets masked, written and
deployed only when valid and only if nobody changed it meanwhile."""

from __future__ import annotations

import asyncio
import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portless.runtime import (
    DeployReport,
    Engine,
    FlowError,
    FlowInvalid,
    Registry,
    canonical_text,
    check_flow,
    read_flow,
    write_flow,
)

SECRET_MASK = "\u2022\u2022\u2022\u2022\u2022\u2022"
"""Sent in place of a secret's value; sent back, it means "keep the value on disk"."""


UNREADABLE = "unreadable"
"""The ETag of a flow file that is not valid JSON (mid-edit, or a bad merge)."""


class Conflict(Exception):
    """The file changed since the client read it (412), or no If-Match was sent (428)."""

    def __init__(self, status: int, etag: str) -> None:
        super().__init__(status)
        self.status = status
        self.etag = etag


@dataclass(frozen=True)
class Deployed:
    etag: str
    report: DeployReport


class FlowService:
    """Reads, checks, writes and deploys the one flow file the runtime runs."""

    def __init__(self, path: Path, engine: Engine, registry: Registry) -> None:
        self.path = path
        self.engine = engine
        self.registry = registry
        self._lock = asyncio.Lock()

    def etag(self) -> str:
        """A hash of the file's canonical text: equal files have equal tags."""
        try:
            return _etag(canonical_text(read_flow(self.path)))
        except FlowInvalid:
            return UNREADABLE

    def read(self) -> tuple[dict[str, Any], str]:
        """The flow document with every secret masked, and its ETag."""
        document = read_flow(self.path)
        masked = copy.deepcopy(document)
        for config, key, _ in self._secrets(masked):
            if config[key]:
                config[key] = SECRET_MASK
        return masked, _etag(canonical_text(document))

    async def write(self, document: dict[str, Any], if_match: str | None) -> Deployed:
        """Validate, write atomically in canonical form, deploy. Raises FlowInvalid
        (nothing written) or Conflict."""
        async with self._lock:
            try:
                current = read_flow(self.path)
                etag = _etag(canonical_text(current))
            except FlowInvalid:  # broken on disk (a bad merge): the page may overwrite it
                current, etag = {"version": 1, "nodes": []}, UNREADABLE
            if if_match is None:
                raise Conflict(428, etag)
            if if_match.strip('"') != etag:
                raise Conflict(412, etag)
            document = copy.deepcopy(document)
            self._unmask(document, current)
            flow = check_flow(document, self.registry, str(self.path))
            write_flow(self.path, document)
            report = await self.engine.deploy(flow)
            return Deployed(_etag(canonical_text(document)), report)

    def _unmask(self, document: dict[str, Any], current: dict[str, Any]) -> None:
        """Put back the secrets the client sent masked, from the file on disk."""
        on_disk = {(node_id, key): config[key]
                   for config, key, node_id in self._secrets(current)}
        lost = []
        for config, key, node_id in self._secrets(document):
            if config[key] == SECRET_MASK:
                if (node_id, key) not in on_disk:  # renamed or pasted: no value to keep
                    lost.append(FlowError(str(self.path), f"{key} is masked, but no {key} "
                                          f"is stored for this node (renamed or copied?); "
                                          f"enter it again", node_id, f"/config/{key}"))
                    continue
                config[key] = on_disk[(node_id, key)]
        if lost:
            raise FlowInvalid(lost)

    def _secrets(self, document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, Any]]:
        """(config, key, node id) of every secret field (schema ``writeOnly``) set to a
        string."""
        for node in document.get("nodes", []):
            if not isinstance(node, dict) or not isinstance(node.get("config"), dict):
                continue
            cls = self.registry.get(node.get("type", ""))
            if cls is None:
                continue
            for key, field in cls.schema.get("properties", {}).items():
                if field.get("writeOnly") and isinstance(node["config"].get(key), str):
                    yield node["config"], key, node.get("id")


def _etag(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
