"""Large bundles in chunks: the desired message is then a small manifest, and the bundle
travels in retained QoS 1 chunks on ``<prefix>/<device>/bundle/<sha256>/<i>``.

A manifest is not signed (the bundle it names is): the device trusts none of it beyond
what it can check. It takes chunks only from its own bundle topic, holds at most the
manifest's size (at most MAX_BUNDLE_BYTES), refuses a chunk of the wrong length, checks
the whole against the SHA-256 before the agent sees it, and gives up on chunks that do
not all arrive within the timeout. Every refusal is a sentence the device reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portless.runtime import safe_json

from .limits import MAX_BUNDLE_BYTES, MAX_CHUNKS

FORMAT = "portless-chunked-bundle/1"
MAX_MANIFEST_BYTES = 4096
TIMEOUT = 120.0
"""Seconds from a manifest's arrival until every chunk must have arrived."""
_SHA256 = re.compile(r"[0-9a-f]{64}")
_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")
_KEYS = {"format", "version", "sha256", "size", "chunks", "chunk_size", "topic"}


class ChunksRefused(ValueError):
    """A manifest or chunk that cannot make a bundle; the sentence says why."""


@dataclass(frozen=True)
class Manifest:
    version: int | None
    """The version of the bundle, as the engineer said (unchecked until it is whole)."""
    sha256: str
    size: int
    chunks: int
    chunk_size: int
    topic: str

    def chunk_length(self, index: int) -> int:
        return self.chunk_size if index < self.chunks - 1 \
            else self.size - self.chunk_size * (self.chunks - 1)

    def encode(self) -> bytes:
        return json.dumps({"format": FORMAT, "version": self.version, "sha256": self.sha256,
                           "size": self.size, "chunks": self.chunks,
                           "chunk_size": self.chunk_size, "topic": self.topic}).encode()


def bundle_topic(prefix: str, device: str, sha256: str) -> str:
    return f"{prefix}/{device}/bundle/{sha256}"


def split(data: bytes, version: int, prefix: str, device: str, chunk_size: int
          ) -> tuple[Manifest, list[tuple[str, bytes]]]:
    """The manifest of ``data`` and its chunks, each with its topic (the engineer's side)."""
    digest = hashlib.sha256(data).hexdigest()
    count = max(1, -(-len(data) // chunk_size))
    manifest = Manifest(version, digest, len(data), count, chunk_size,
                        bundle_topic(prefix, device, digest))
    return manifest, [(f"{manifest.topic}/{i}", data[i * chunk_size:(i + 1) * chunk_size])
                      for i in range(count)]


def read_manifest(payload: bytes) -> Manifest | None:
    """The manifest a desired message holds; None when it is not one (a bundle, which
    the agent verifies). ChunksRefused for a manifest that cannot be taken."""
    if len(payload) > MAX_MANIFEST_BYTES or b'"' + FORMAT.encode() + b'"' not in payload:
        return None
    try:
        document = safe_json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, safe_json.JsonProblems):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    if document.keys() != _KEYS:
        raise ChunksRefused(f"the chunked bundle's manifest must have exactly "
                            f"{', '.join(sorted(_KEYS))}")
    version, sha256, size = document["version"], document["sha256"], document["size"]
    count, chunk_size, topic = document["chunks"], document["chunk_size"], document["topic"]
    if version is not None and type(version) is not int:
        raise ChunksRefused("manifest version: a whole number or null")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ChunksRefused("manifest sha256: must be 64 lowercase hex digits")
    if type(size) is not int or not 1 <= size <= MAX_BUNDLE_BYTES:
        raise ChunksRefused(f"manifest size: {size!r} bytes; a bundle is 1 to "
                            f"{MAX_BUNDLE_BYTES} bytes")
    if type(count) is not int or not 1 <= count <= MAX_CHUNKS:
        raise ChunksRefused(f"manifest chunks: {count!r}; 1 to {MAX_CHUNKS} chunks")
    if type(chunk_size) is not int or chunk_size < 1 or -(-size // chunk_size) != count:
        raise ChunksRefused(f"manifest chunk_size: {chunk_size!r} bytes does not make "
                            f"{size} bytes in {count} chunks")
    return Manifest(version, sha256, size, count, chunk_size, _text(topic))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ChunksRefused("manifest topic: must be a string")
    return value


class Reassembly:
    """The device's side: follows the desired topic's manifests, gathers their chunks,
    and hands over whole, checked bundles.

    ``subscribe``/``unsubscribe`` change the management link's subscriptions;
    ``refuse(version, reason)`` reports a failed job."""

    def __init__(self, prefix: str, device: str, subscribe: Callable[[str], None],
                 unsubscribe: Callable[[str], None],
                 refuse: Callable[[int | None, str], object], timeout: float = TIMEOUT
                 ) -> None:
        self.prefix, self.device = prefix, device
        self.subscribe, self.unsubscribe, self.refuse = subscribe, unsubscribe, refuse
        self.timeout = timeout
        self._manifest: Manifest | None = None
        self._chunks: dict[int, bytes] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._completed: str | None = None
        """The SHA-256 of the last bundle handed over: a manifest seen again after a
        reconnect is not fetched again."""

    def desired(self, payload: bytes) -> bytes | None:
        """A desired message: the bundle to apply now, or None (a manifest whose chunks
        are awaited, or refused and reported)."""
        try:
            manifest = read_manifest(payload)
        except ChunksRefused as exc:
            self._stop()
            self.refuse(None, str(exc))
            return None
        if manifest is None:
            self._stop()
            self._completed = None
            return payload or None  # empty: the desired state was cleared
        if manifest.sha256 == self._completed:
            return None  # the bundle put together last, seen again after a reconnect
        if self._manifest == manifest:  # again, after a reconnect: the link's session
            self.subscribe(f"{manifest.topic}/+")  # is new, so subscribe again
            return None
        self._stop()
        expected = bundle_topic(self.prefix, self.device, manifest.sha256)
        if manifest.topic != expected:
            self.refuse(manifest.version, f"the manifest names chunks on {manifest.topic}; "
                                          f"this device takes them only from {expected}")
            return None
        self._manifest = manifest
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expire,
                                                            manifest)
        self.subscribe(f"{manifest.topic}/+")
        return None

    def chunk(self, topic: str, payload: bytes) -> bytes | None:
        """A chunk's message: the whole bundle once the last one arrived, else None."""
        manifest = self._manifest
        if manifest is None or not topic.startswith(manifest.topic + "/") or not payload:
            return None  # another bundle's chunk, or one cleared (empty)
        index_text = topic[len(manifest.topic) + 1:]
        if not _INDEX.fullmatch(index_text) or int(index_text) >= manifest.chunks:
            self._fail(f"chunk {index_text[:20]!r} is not one of the manifest's "
                       f"{manifest.chunks} chunks")
            return None
        index = int(index_text)
        if len(payload) != manifest.chunk_length(index):
            self._fail(f"chunk {index} is {len(payload)} bytes; the manifest makes "
                       f"it {manifest.chunk_length(index)}")
            return None
        self._chunks.setdefault(index, payload)
        if len(self._chunks) < manifest.chunks:
            return None
        data = b"".join(self._chunks[i] for i in range(manifest.chunks))
        digest = hashlib.sha256(data).hexdigest()
        if digest != manifest.sha256:
            self._fail(f"the chunks put together have SHA-256 {digest}, not the "
                       f"manifest's {manifest.sha256} (damaged or tampered)")
            return None
        self._stop()
        self._completed = digest
        return data

    def _fail(self, reason: str) -> None:
        version = self._manifest.version if self._manifest else None
        self._stop()
        self.refuse(version, reason)

    def _expire(self, manifest: Manifest) -> None:
        if self._manifest is manifest:
            missing = [str(i) for i in range(manifest.chunks) if i not in self._chunks]
            shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
            self._fail(f"{len(missing)} of {manifest.chunks} chunks did not arrive within "
                       f"{self.timeout:g} s (missing: {shown})")

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._manifest is not None:
            self.unsubscribe(f"{self._manifest.topic}/+")
        self._manifest = None
        self._chunks = {}
