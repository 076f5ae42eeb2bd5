"""The flow as the editor sees it: read with an ETag, secrets masked, written and
deployed only when valid and only if nobody changed it meanwhile.

The ETag is an HMAC of the file's canonical text under a key made at each start: a
plain hash of text holding a literal password would let a token holder guess the
password offline. Parsing, checking and writing a big flow run in a worker thread
(bounded by CHECK_SECONDS), so the flow's timers and MQTT link keep running meanwhile.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from portless.editor.masking import mask_document, restore_secrets
from portless.editor.paths import AllowedPaths
from portless.runtime import (
    DeployReport,
    Engine,
    Flow,
    FlowError,
    FlowInvalid,
    Registry,
    canonical_text,
    check_flow,
    read_flow,
    write_flow,
)

T = TypeVar("T")
CHECK_SECONDS = 30.0
"""The longest a validate or deploy may spend checking a flow before it is refused."""
MAX_NODES = 20_000
"""The most nodes a flow sent from the editor may have (the body is capped at 8 MB too)."""
_TOO_MANY = (f"more than {MAX_NODES:,} nodes: too big a flow for the editor; split it, "
             f"or check it with `portless validate`")

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

    def __init__(self, path: Path, engine: Engine, registry: Registry,
                 allowed_paths: AllowedPaths | None = None) -> None:
        """``allowed_paths``: the files a deploy may name (None: any, for tests)."""
        self.path = path
        self.allowed_paths = allowed_paths
        self.engine = engine
        self.registry = registry
        self._lock = asyncio.Lock()
        self._etag_key = secrets.token_bytes(32)
        self.written: set[str] = set()
        """ETags of the texts this service wrote: the watcher does not report those."""

    def etag(self) -> str:
        """A keyed hash of the file's canonical text: equal files have equal tags."""
        try:
            return self._etag(canonical_text(read_flow(self.path)))
        except FlowInvalid:
            return UNREADABLE

    def read(self) -> tuple[dict[str, Any], str]:
        """The flow document with every secret masked, and its ETag."""
        document = read_flow(self.path)
        return mask_document(document, self.registry), self._etag(canonical_text(document))

    async def validate(self, document: dict[str, Any]) -> None:
        """Check a flow as `portless validate --skip-env` would; raises FlowInvalid."""
        if len(document.get("nodes") or ()) > MAX_NODES:
            raise FlowInvalid([FlowError(str(self.path), _TOO_MANY)])
        await _in_thread(check_flow, document, self.registry, str(self.path),
                         resolve_env=False)

    async def write(self, document: dict[str, Any], if_match: str | None) -> Deployed:
        """Validate, write atomically in canonical form, deploy. Raises FlowInvalid
        (nothing written) or Conflict."""
        async with self._lock:
            flow = await _in_thread(self._check, document, if_match)
            etag = await asyncio.to_thread(self._write, flow.document)
            report = await self.engine.deploy(flow)
            return Deployed(etag, report)

    def _check(self, document: dict[str, Any], if_match: str | None) -> Flow:
        """Compare the ETag, put the masked secrets back, check (in a worker thread)."""
        try:
            current = read_flow(self.path)
            etag = self._etag(canonical_text(current))
        except FlowInvalid:  # broken on disk (a bad merge): the page may overwrite it
            current, etag = {"version": 1, "nodes": []}, UNREADABLE
        if if_match is None:
            raise Conflict(428, etag)
        if if_match.strip('"') != etag:
            raise Conflict(412, etag)
        document = copy.deepcopy(document)
        restore_secrets(document, current, self.registry, str(self.path))
        if len(document.get("nodes") or ()) > MAX_NODES:
            raise FlowInvalid([FlowError(str(self.path), _TOO_MANY)])
        flow = check_flow(document, self.registry, str(self.path))
        if self.allowed_paths is not None:
            self.allowed_paths.check(flow, self.registry)
        return flow

    def _write(self, document: dict[str, Any]) -> str:
        """Write the checked flow atomically (in a worker thread); its new ETag."""
        etag = self._etag(canonical_text(document))
        self.written.add(etag)  # before the file changes, so the watcher never reports it
        write_flow(self.path, document)
        return etag

    def _etag(self, text: str) -> str:
        return hmac.new(self._etag_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


async def _in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a check in a worker thread, refused after CHECK_SECONDS (the thread then
    finishes on its own; a check changes nothing, so nothing is left half done)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(function, *args, **kwargs),
                                      CHECK_SECONDS)
    except TimeoutError:
        raise FlowInvalid([FlowError("<request>", f"checking this flow took longer than "
                                                  f"{CHECK_SECONDS:g} s; nothing was written")]
                          ) from None
