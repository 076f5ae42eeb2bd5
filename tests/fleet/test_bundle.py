"""Bundles: what a device accepts, and every way a hostile or damaged one is refused."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.fleet.bundle import (
    MAX_BUNDLE_BYTES,
    Bundle,
    BundleFile,
    BundleRefused,
    canonical_bytes,
    sign,
    verify,
)
from portless.fleet.keys import TrustedKey, key_id

FLOW = '{\n  "version": 1,\n  "nodes": []\n}\n'
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SIGNER = Ed25519PrivateKey.generate()
TRUSTED = {key_id(SIGNER.public_key()): TrustedKey(SIGNER.public_key(), "alice")}


def bundle(**changes: Any) -> Bundle:
    fields: dict[str, Any] = {"version": 7, "commit": COMMIT, "rollback": False,
                              "files": (BundleFile("valves.json", FLOW),
                                        BundleFile("valve-2.json", '{"name": "ß"}'))}
    fields.update(changes)
    return Bundle(**fields)


def signed_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sign(bundle(**changes), SIGNER))
    return document


def test_a_signed_bundle_verifies_to_what_was_signed() -> None:
    signed = bundle(rollback=True)
    verified, key = verify(sign(signed, SIGNER), TRUSTED)
    assert verified == signed
    assert key.comment == "alice"
    assert verified.files[0].sha256 == hashlib.sha256(FLOW.encode()).hexdigest()


def test_the_signature_covers_the_canonical_encoding_not_the_layout() -> None:
    """Re-indenting or reordering a bundle's JSON changes no signed byte."""
    document = signed_document()
    compact = json.dumps(dict(reversed(document.items())), separators=(",", ":"))
    assert verify(compact.encode(), TRUSTED)[0] == bundle()


def _resign(document: dict[str, Any]) -> dict[str, Any]:
    """A hostile signer with a trusted key: the signature is good, the content is not."""
    signature = SIGNER.sign(canonical_bytes(document["signed"]))
    document["signature"] = base64.b64encode(signature).decode()
    return document


def _set(path: str, value: Any, resign: bool = False) -> Callable[[dict[str, Any]], Any]:
    def change(document: dict[str, Any]) -> Any:
        *parents, last = path.split("/")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
        return _resign(document) if resign else document
    return change


OTHER = Ed25519PrivateKey.generate()
ANY_HASH = "0" * 64

REFUSED: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("content tampered", _set("signed/files/0/content", FLOW + " "),
     "the content of valves.json does not match its sha256"),
    ("content and hash tampered", lambda d: _set(
        "signed/files/0/sha256", hashlib.sha256(b"x").hexdigest())(
        _set("signed/files/0/content", "x")(d)), "bad signature"),
    ("version raised", _set("signed/version", 8), "bad signature"),
    ("rollback flag added", _set("signed/rollback", True), "bad signature"),
    ("signature of another key", lambda d: {**d, "signature": base64.b64encode(
        OTHER.sign(canonical_bytes(d["signed"]))).decode()}, "bad signature"),
    ("unknown key", _set("key_id", key_id(OTHER.public_key())),
     "which this device does not trust"),
    ("unsigned", lambda d: {"signed": d["signed"]}, "missing key_id, signature"),
    ("signature not base64", _set("signature", "***"), "must be 64 bytes of base64"),
    ("signature short", _set("signature", "AAAA"), "must be 64 bytes of base64"),
    ("unknown field", _set("signed/extra", 1), "signed: unknown extra"),
    ("other format", _set("signed/format", "portless-bundle/2"), "must be 'portless-bundle/1'"),
    ("path in a file name", _set("signed/files/0/name", "../x.json", resign=True),
     "no directory, no '..'"),
    ("directory in a file name", _set("signed/files/0/name", "etc/x.json", resign=True),
     "no directory"),
    ("not a .json name", _set("signed/files/0/name", "x.sh", resign=True), "ending in .json"),
    ("control character in a name", _set("signed/files/0/name", "a\x1b.json", resign=True),
     "must be a plain name"),
    ("control character in content", lambda d: _resign(_set(
        "signed/files/0/sha256", hashlib.sha256(b"\x00").hexdigest())(
        _set("signed/files/0/content", "\x00")(d))), "holds control characters"),
    ("file twice", lambda d: _resign(_set("signed/files/1", d["signed"]["files"][0])(d)),
     "appears twice"),
    ("no files", _set("signed/files", [], resign=True), "at least one flow file"),
    ("version zero", _set("signed/version", 0, resign=True), "version: must be a whole"),
    ("version a float", _set("signed/version", 7.5, resign=True), "version: must be a whole"),
    ("version a bool", _set("signed/version", True, resign=True), "version: must be a whole"),
    ("commit not a commit id", _set("signed/commit", "HEAD", resign=True),
     "must be a git commit id"),
    ("hash not hex", _set("signed/files/0/sha256", "z" * 64), "64 lowercase hex digits"),
    ("content not text", _set("signed/files/0/content", 5), "content: must be a string"),
    ("files not a list", _set("signed/files", {}), "signed/files: must be a list"),
    ("a list, not an object", lambda d: [d], "the bundle: must be an object"),
]


@pytest.mark.parametrize(("case", "change", "sentence"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_changed_or_malformed_bundle_is_refused_with_the_reason(
        case: str, change: Callable[[dict[str, Any]], Any], sentence: str) -> None:
    data = json.dumps(change(signed_document())).encode()
    with pytest.raises(BundleRefused, match=None) as refused:
        verify(data, TRUSTED)
    assert sentence in str(refused.value)


HOSTILE: list[tuple[str, bytes, str]] = [
    ("huge", b" " * (MAX_BUNDLE_BYTES + 1), "at most 8388608 are read"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32"),
    ("NaN", b'{"signed": NaN}', "finite number"),
    ("duplicate key", b'{"key_id": "a", "key_id": "b"}', "more than once"),
    ("lone surrogate", b'{"x": "\\ud800"}', "surrogate"),
    ("not UTF-8", b'{"x": "\xff"}', "not UTF-8"),
    ("not JSON", b"{", "not JSON"),
    ("empty", b"", "not JSON"),
]


@pytest.mark.parametrize(("case", "data", "sentence"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bytes_are_refused_before_anything_is_trusted(
        case: str, data: bytes, sentence: str) -> None:
    with pytest.raises(BundleRefused) as refused:
        verify(data, TRUSTED)
    assert sentence in str(refused.value)


def test_a_bundle_cannot_be_made_with_a_path_for_a_name() -> None:
    with pytest.raises(BundleRefused, match="no directory"):
        bundle(files=(BundleFile("../../etc/cron.d/x.json", "{}"),))
