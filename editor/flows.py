"""The flow as the editor sees it: read with an ETag, secrets masked, deployed (by the
runtime's deploy service) only when valid and only if nobody changed it meanwhile.

The ETag is an HMAC of the file's canonical text under a key made at each start: a
plain hash of text holding a literal password would let a token holder guess the
password offline. What is the editor's own runs as the deploy service's gate, in its
worker thread under its lock: the ETag compared, masked secrets put back, the allowed
paths checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portless.editor.masking import mask_document, restore_secrets
from portless.editor.paths import AllowedPaths
from portless.runtime import (
    DeployOutcome,
    DeployService,
    Engine,
    Flow,
    FlowError,
    FlowInvalid,
    Gate,
    Registry,
    canonical_text,
    read_flow,
)
from portless.runtime.file_watch import file_stamp

MAX_NODES = 20_000
"""The most nodes a flow sent from the editor may have (the body is capped at 8 MB too)."""
_TOO_MANY = (f"more than {MAX_NODES:,} nodes: too big a flow for the editor; split it, "
             f"or check it with `portless validate`")

UNREADABLE = "unreadable"
"""The ETag of a flow file that is not valid JSON (mid-edit, or a bad merge)."""
_EMPTY: dict[str, Any] = {"version": 1, "nodes": []}


class Conflict(Exception):
    """The file changed since the client read it (412), or no If-Match was sent (428)."""

    def __init__(self, status: int, etag: str) -> None:
        super().__init__(status)
        self.status = status
        self.etag = etag


@dataclass(frozen=True)
class Deployed:
    etag: str
    outcome: DeployOutcome


class FlowService:
    """Reads one flow file (a tab) for the editor and has the deploy service deploy it."""

    def __init__(self, path: Path, engine: Engine, registry: Registry,
                 allowed_paths: AllowedPaths | None = None,
                 deploys: DeployService | None = None) -> None:
        """``allowed_paths``: the files a deploy may name (None: any, for tests);
        ``deploys``: the process's deploy service (None: one for this file alone)."""
        self.path = path
        self.allowed_paths = allowed_paths
        self.engine = engine
        self.registry = registry
        self.deploys = deploys or DeployService(engine, registry, [path])
        self._etag_key = secrets.token_bytes(32)
        self.written: set[str] = set()
        """ETags of the texts deploys wrote: the watcher does not report those."""
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

    def _current(self) -> tuple[dict[str, Any], str]:
        """The document on disk and its ETag; a file broken on disk (a bad merge) reads
        as an empty flow, which the page may overwrite."""
        try:
            return self._on_disk()
        except FlowInvalid:
            return _EMPTY, UNREADABLE

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
        await self.deploys.validate(self.path, document, Gate(
            before_check=self._restore_secrets,
            after_check=lambda flow: self._check_paths(flow, skip_references=True)))

    async def write(self, document: dict[str, Any], if_match: str | None) -> Deployed:
        """Validate, write atomically in canonical form, deploy. Raises FlowInvalid
        (nothing written) or Conflict. Takes ``document`` over (a parsed request body):
        masked secrets are put back into it."""
        checked: list[Flow] = []
        etags: list[str] = []
        outcome = await self.deploys.deploy(self.path, document, self.gate(
            if_match, checked, etags))
        stamp = self.deploys.stamps.get(self.path)
        if outcome.file == "written" and stamp is not None:  # a big flow is not read back
            self._known = (stamp, checked[0].document, etags[0])
        return Deployed(self.etag(), outcome)

    def gate(self, if_match: str | None, checked: list[Flow] | None = None,
             etags: list[str] | None = None) -> Gate:
        """The editor's checks around a deploy of this file: refuse unless the file is
        as the client read it (Conflict), put the masked secrets back, check the paths
        (each checked flow into ``checked``), and record the written text's ETag (into
        ``etags`` and ``written``, before the file changes: the watcher never logs it)."""
        def before_check(document: dict[str, Any]) -> None:
            etag = self._current()[1]
            if if_match is None:
                raise Conflict(428, etag)
            if if_match.strip('"') != etag:
                raise Conflict(412, etag)
            self._refuse_too_big(document)
            self._restore_secrets(document)

        def after_check(flow: Flow) -> None:
            self._check_paths(flow)
            if checked is not None:
                checked.append(flow)

        def before_write(text: str) -> None:
            etag = self._etag(text)
            self.written.add(etag)
            if etags is not None:
                etags.append(etag)

        return Gate(before_check, after_check, before_write)

    def _restore_secrets(self, document: dict[str, Any]) -> None:
        restore_secrets(document, self._current()[0], self.registry, str(self.path))

    def _check_paths(self, flow: Flow, skip_references: bool = False) -> None:
        """``skip_references``: a ``${NAME}`` kept from the file is the deploy's to judge."""
        if self.allowed_paths is not None:
            self.allowed_paths.check(flow, self.registry, skip_references)

    def _refuse_too_big(self, document: dict[str, Any]) -> None:
        nodes = document.get("nodes")
        if isinstance(nodes, list) and len(nodes) > MAX_NODES:
            raise FlowInvalid([FlowError(str(self.path), _TOO_MANY)])

    def _etag(self, text: str) -> str:
        return hmac.new(self._etag_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
