"""A signed bundle: the flow files a device should run, their SHA-256, a monotonic
version, the commit they came from, and an Ed25519 signature over all of it.

The signature covers the canonical encoding of the ``signed`` object (JSON, keys sorted,
no spaces, ASCII only: one byte string for one value, whoever wrote the document),
after a domain prefix so that no other signed text can pass for a bundle. A bundle is
read as hostile: size first, then safe JSON (no NaN, no deep nesting, no duplicate
keys), then an exact shape, then the key, the hashes and the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.runtime import safe_json

from .keys import TrustedKey, key_id
from .limits import MAX_BUNDLE_BYTES

FORMAT = "portless-bundle/1"
_DOMAIN = b"portless-bundle/1\n"
MAX_FILES = 100
MAX_VERSION = safe_json.SAFE_INTEGER
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.json")
"""A flow file's name in a bundle: one plain name (no directory, no ``..``), ``.json``."""
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters a flow file's text never holds (tab, CR and LF it may)."""


class BundleRefused(ValueError):
    """A bundle that must not be applied; the message says why, for a person."""


@dataclass(frozen=True)
class BundleFile:
    name: str
    content: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Bundle:
    """A bundle's signed contents, once verified (or about to be signed)."""

    version: int
    files: tuple[BundleFile, ...]
    commit: str | None = None
    rollback: bool = False

    def __post_init__(self) -> None:
        _check_version(self.version)
        _check_files([(f.name, f.content) for f in self.files])
        if self.commit is not None and not _COMMIT.fullmatch(self.commit):
            raise BundleRefused("commit: must be a git commit id (40 or 64 hex digits)")

    def signed(self) -> dict[str, Any]:
        """The object the signature covers."""
        return {"format": FORMAT, "version": self.version, "commit": self.commit,
                "rollback": self.rollback,
                "files": [{"name": f.name, "sha256": f.sha256, "content": f.content}
                          for f in self.files]}


def canonical_bytes(signed: dict[str, Any], domain: bytes = _DOMAIN) -> bytes:
    """The bytes an Ed25519 signature covers: the domain prefix (a bundle's, unless
    another kind of signed document names its own), then canonical JSON."""
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)
    return domain + text.encode("ascii")


def sign(bundle: Bundle, key: Ed25519PrivateKey) -> bytes:
    """The bundle document (UTF-8 JSON) signed with ``key``."""
    signed = bundle.signed()
    signature = key.sign(canonical_bytes(signed))
    document = {"signed": signed, "key_id": key_id(key.public_key()),
                "signature": base64.b64encode(signature).decode("ascii")}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def verify(data: bytes, trusted: dict[str, TrustedKey]) -> tuple[Bundle, TrustedKey]:
    """The bundle and the key that signed it; BundleRefused says why it is refused."""
    signed, named_key, signature = _outer(_document(data))
    trusted_key = trusted.get(named_key)
    if trusted_key is None:
        raise BundleRefused(f"signed by key {named_key}, which this device does not trust")
    bundle = _inner(signed)
    try:
        trusted_key.key.verify(signature, canonical_bytes(signed))
    except InvalidSignature:
        raise BundleRefused(f"bad signature: the bundle was changed after key "
                            f"{named_key} signed it, or not signed by it") from None
    return bundle, trusted_key


def inspect(data: bytes) -> tuple[Bundle, str]:
    """A bundle's contents and the id of the key it names, its signature not checked:
    what an engineer's tools show and publish (the device verifies)."""
    signed, named_key, _ = _outer(_document(data))
    return _inner(signed), named_key


def _document(data: bytes) -> Any:
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"the bundle is {len(data)} bytes; at most {MAX_BUNDLE_BYTES} "
                            f"are read")
    try:
        document = safe_json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BundleRefused("the bundle is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BundleRefused(f"the bundle is not JSON: {exc}") from None
    except safe_json.JsonProblems as exc:
        raise BundleRefused(f"the bundle holds values JSON readers disagree on: {exc}") \
            from None
    return document


def _outer(document: Any) -> tuple[dict[str, Any], str, bytes]:
    _exact_keys(document, {"signed", "key_id", "signature"}, "the bundle")
    if not isinstance(document["key_id"], str) or not _KEY_ID.fullmatch(document["key_id"]):
        raise BundleRefused("key_id: must be 32 hex digits")
    try:
        signature = base64.b64decode(_text(document["signature"], "signature"),
                                     validate=True)
    except binascii.Error:
        signature = b""
    if len(signature) != 64:
        raise BundleRefused("signature: must be 64 bytes of base64 (an Ed25519 signature)")
    return document["signed"], document["key_id"], signature


def _inner(signed: dict[str, Any]) -> Bundle:
    _exact_keys(signed, {"format", "version", "commit", "rollback", "files"}, "signed")
    if signed["format"] != FORMAT:
        raise BundleRefused(f"signed/format: must be {FORMAT!r} (this portless reads no "
                            f"other)")
    if not isinstance(signed["rollback"], bool):
        raise BundleRefused("signed/rollback: must be true or false")
    commit = signed["commit"]
    if commit is not None:
        _text(commit, "signed/commit")
    files = signed["files"]
    if not isinstance(files, list):
        raise BundleRefused("signed/files: must be a list")
    pairs = []
    for index, entry in enumerate(files):
        place = f"signed/files/{index}"
        _exact_keys(entry, {"name", "sha256", "content"}, place)
        name = _text(entry["name"], f"{place}/name")
        content = _text(entry["content"], f"{place}/content")
        digest = _text(entry["sha256"], f"{place}/sha256")
        if not _SHA256.fullmatch(digest):
            raise BundleRefused(f"{place}/sha256: must be 64 lowercase hex digits")
        pairs.append((name, content))
        _check_files(pairs)  # the name before its content's hash is compared
        if hashlib.sha256(content.encode("utf-8")).hexdigest() != digest:
            raise BundleRefused(f"{place}: the content of {name} does not match its sha256 "
                                f"(tampered or damaged)")
    return Bundle(version=signed["version"], commit=commit, rollback=signed["rollback"],
                  files=tuple(BundleFile(name, content) for name, content in pairs))


def _check_version(version: object) -> None:
    if type(version) is not int or not 1 <= version <= MAX_VERSION:
        raise BundleRefused(f"version: must be a whole number from 1 to {MAX_VERSION}")


def _check_files(pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        raise BundleRefused("files: a bundle holds at least one flow file")
    if len(pairs) > MAX_FILES:
        raise BundleRefused(f"files: at most {MAX_FILES} flow files in a bundle")
    seen: set[str] = set()
    for name, content in pairs:
        if not FILE_NAME.fullmatch(name) or ".." in name:
            raise BundleRefused(f"file name {name!r}: must be a plain name ending in .json "
                                f"(letters, digits, '.', '_', '-'; no directory, no '..')")
        if name in seen:
            raise BundleRefused(f"file name {name!r}: appears twice")
        seen.add(name)
        if _CONTROL.search(content):
            raise BundleRefused(f"{name}: the content holds control characters; a flow "
                                f"file is JSON text")


def _exact_keys(value: Any, keys: set[str], place: str) -> None:
    if not isinstance(value, dict):
        raise BundleRefused(f"{place}: must be an object")
    missing, extra = keys - value.keys(), value.keys() - keys
    if missing or extra:
        parts = [f"missing {', '.join(sorted(missing))}" if missing else "",
                 f"unknown {', '.join(sorted(extra))}" if extra else ""]
        raise BundleRefused(f"{place}: {'; '.join(p for p in parts if p)}")


def _text(value: Any, place: str) -> str:
    if not isinstance(value, str):
        raise BundleRefused(f"{place}: must be a string")
    return value
