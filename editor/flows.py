"""The flow as the editor sees it: read with an ETag, secrets masked, written and
deployed only when valid and only if nobody changed it meanwhile.

The ETag is an HMAC of the file's canonical text under a key made at each start: a
plain hash of text holding a literal password would let a token holder guess the
password offline. Parsing, checking and writing a big flow run in a worker thread
(bounded by CHECK_SECONDS), so the flow's timers and MQTT link keep running meanwhile.
"""

from __future__ import annotations

import asyncio
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
    atomic_write,
    canonical_text,
    check_flow,
    read_flow,
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
        self._known: tuple[tuple[int, int, int], dict[str, Any], str] | None = None
        """(file stamp, document, ETag) as last read or written; never changed in place."""

    def etag(self) -> str:
        """A keyed hash of the file's canonical text: equal files have equal tags."""
        try:
            return self._on_disk()[1]
        except FlowInvalid:
            return UNREADABLE

    def _on_disk(self) -> tuple[dict[str, Any], str]:
        """The flow file's document and ETag, parsed again only when the file changed
        (its inode, size or mtime): a deploy of a big flow need not read it back."""
        stamp = file_stamp(self.path)
        if stamp is not None and self._known is not None and self._known[0] == stamp:
            return self._known[1], self._known[2]
        document = read_flow(self.path)
        etag = self._etag(canonical_text(document))
        self._known = (stamp, document, etag) if stamp is not None else None
        return document, etag

    def read(self) -> tuple[dict[str, Any], str]:
        """The flow document with every secret masked, and its ETag."""
        document, etag = self._on_disk()
        return mask_document(document, self.registry), etag

    async def validate(self, document: dict[str, Any]) -> None:
        """Check a flow as `portless validate --skip-env` would, plus what a deploy from
        the editor refuses (a mask sent elsewhere, a new ``${NAME}``, a path outside),
        so the page's problems are the deploy's; raises FlowInvalid. Takes
        ``document`` over, as ``write`` does."""
        self._refuse_too_big(document)
        await _in_thread(self._check_unwritten, document)

    def _check_unwritten(self, document: dict[str, Any]) -> None:
        try:
            current = self._on_disk()[0]
        except FlowInvalid:
            current = {"version": 1, "nodes": []}
        restore_secrets(document, current, self.registry, str(self.path))
        flow = check_flow(document, self.registry, str(self.path), resolve_env=False)
        if self.allowed_paths is not None:  # a ${NAME} kept from the file is the deploy's
            self.allowed_paths.check(flow, self.registry, skip_references=True)

    async def write(self, document: dict[str, Any], if_match: str | None) -> Deployed:
        """Validate, write atomically in canonical form, deploy. Raises FlowInvalid
        (nothing written) or Conflict. Takes ``document`` over (a parsed request body):
        masked secrets are put back into it."""
        async with self._lock:
            flow = await _in_thread(self._check, document, if_match)
            etag = await asyncio.to_thread(self._write, flow.document)
            report = await self.engine.deploy(flow)
            return Deployed(etag, report)

    def _check(self, document: dict[str, Any], if_match: str | None) -> Flow:
        """Compare the ETag, put the masked secrets back, check (in a worker thread)."""
        try:
            current, etag = self._on_disk()
        except FlowInvalid:  # broken on disk (a bad merge): the page may overwrite it
            current, etag = {"version": 1, "nodes": []}, UNREADABLE
        if if_match is None:
            raise Conflict(428, etag)
        if if_match.strip('"') != etag:
            raise Conflict(412, etag)
        self._refuse_too_big(document)
        restore_secrets(document, current, self.registry, str(self.path))
        flow = check_flow(document, self.registry, str(self.path))
        if self.allowed_paths is not None:
            self.allowed_paths.check(flow, self.registry)
        return flow

    def _write(self, document: dict[str, Any]) -> str:
        """Write the checked flow atomically (in a worker thread); its new ETag."""
        text = canonical_text(document)
        etag = self._etag(text)
        self.written.add(etag)  # before the file changes, so the watcher never reports it
        atomic_write(self.path, text.encode("utf-8"))
        stamp = file_stamp(self.path)
        self._known = (stamp, document, etag) if stamp is not None else None
        return etag

    def _refuse_too_big(self, document: dict[str, Any]) -> None:
        nodes = document.get("nodes")
        if isinstance(nodes, list) and len(nodes) > MAX_NODES:
            raise FlowInvalid([FlowError(str(self.path), _TOO_MANY)])

    def _etag(self, text: str) -> str:
        return hmac.new(self._etag_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime in ns) of a file, or None if it cannot be read: a file
    replaced (renamed over) or written differs in at least one of them."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


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
