"""The remote editor's protocol on the management broker: MQTT 5 request/response.

An engineer's request is published (QoS 1) on ``<prefix>/<device>/request`` with a
response topic ``<prefix>/<device>/response/<session>`` and correlation data; the device
answers there with the same correlation data, and streams node status and debug output,
while a lease lasts, on ``<prefix>/<device>/live/<session>``.

Every request is signed with the engineer's Ed25519 key (one the device trusts for
bundles: who may deploy may look), over its canonical JSON after a domain prefix of its
own, and names the device, the session, its correlation data and the time, so a
request can be neither sent to another device, nor answered on another topic, nor
replayed. The broker's ACL is the first fence; this one holds without it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portless.runtime import safe_json

from .bundle import canonical_bytes
from .keys import TrustedKey, key_id
from .limits import MAX_BUNDLE_BYTES

FORMAT = "portless-request/1"
_DOMAIN = b"portless-request/1\n"
MAX_REQUEST_BYTES = MAX_BUNDLE_BYTES + 64 * 1024
"""The largest request read: a deploy carries a whole bundle, and a little more."""
MAX_SKEW_SECONDS = 120.0
"""How far a request's time may be from the device's clock (and how long its id is
remembered, so that a copy of it is refused)."""
MAX_CORRELATION_BYTES = 64
SESSION = re.compile(r"[A-Za-z0-9_-]{8,64}")
KINDS = ("hello", "http", "deploy", "live")
"""hello: who the device is and what runs; http: one editor API call; deploy: a signed
bundle for the page's Deploy; live: start, renew (a lease in seconds) or stop (0) the
stream of node status and debug output."""


class RequestRefused(ValueError):
    """A request the device does not act on; ``status`` is the HTTP-like answer."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status


@dataclass(frozen=True)
class Topics:
    """The remote editor's topics of one device."""

    prefix: str
    device: str

    @property
    def request(self) -> str:
        return f"{self.prefix}/{self.device}/request"

    def response(self, session: str) -> str:
        return f"{self.prefix}/{self.device}/response/{session}"

    def live(self, session: str) -> str:
        return f"{self.prefix}/{self.device}/live/{session}"


def new_session() -> str:
    """A session id: names the engineer's response and live topics."""
    return secrets.token_urlsafe(12)


def sign_request(request: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The request document (UTF-8 JSON) signed with ``key``; ``request`` holds the
    kind's fields, and device, session, id and at (see ``request_fields``)."""
    signed = {"format": FORMAT, **request}
    signature = key.sign(canonical_bytes(signed, _DOMAIN))
    return json.dumps({"request": signed, "key_id": key_id(key.public_key()),
                       "signature": base64.b64encode(signature).decode("ascii")}).encode()


def request_fields(kind: str, device: str, session: str, correlation: bytes,
                   **fields: Any) -> dict[str, Any]:
    """A request of ``kind`` to ``device`` as the engineer side builds it."""
    return {"kind": kind, "device": device, "session": session, "id": correlation.hex(),
            "at": round(time.time(), 3), **fields}


def verify_request(data: bytes, trusted: dict[str, TrustedKey], device: str,
                   session: str, correlation: bytes, now: float) -> tuple[dict[str, Any],
                                                                      TrustedKey]:
    """The signed request and its signer, once it is this device's, for the session
    and correlation data it came with, fresh and signed by a trusted key; raises
    RequestRefused (400, 401 or 413) saying why not. Replays are the caller's to
    refuse (it remembers the ids)."""
    if len(data) > MAX_REQUEST_BYTES:
        raise RequestRefused(413, f"the request is {len(data)} bytes; at most "
                                  f"{MAX_REQUEST_BYTES} are read")
    try:
        document = safe_json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, safe_json.JsonProblems) as exc:
        raise RequestRefused(400, f"the request is not a JSON document: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"request", "key_id",
                                                          "signature"}:
        raise RequestRefused(400, "the request must be an object of request, key_id and "
                                  "signature")
    signed, named = document["request"], document["key_id"]
    if not isinstance(signed, dict) or not isinstance(named, str):
        raise RequestRefused(400, "request: must be an object; key_id: a string")
    trusted_key = trusted.get(named)
    if trusted_key is None:
        raise RequestRefused(401, f"signed by key {named[:32]!r}, which this device does "
                                  f"not trust")
    try:
        signature = base64.b64decode(str(document["signature"]), validate=True)
        trusted_key.key.verify(signature, canonical_bytes(signed, _DOMAIN))
    except (binascii.Error, InvalidSignature, ValueError):
        raise RequestRefused(401, f"bad signature: the request was not signed by key "
                                  f"{named}, or changed after it was") from None
    expected = {"format": FORMAT, "device": device, "session": session,
                "id": correlation.hex()}
    for field, value in expected.items():
        if signed.get(field) != value:
            raise RequestRefused(400, f"request/{field}: must be {value!r} (the request "
                                      f"names another device, session or correlation)")
    if signed.get("kind") not in KINDS:
        raise RequestRefused(400, f"request/kind: one of {', '.join(KINDS)}")
    at = number(signed.get("at"))
    if at is None or abs(now - at) > MAX_SKEW_SECONDS:
        raise RequestRefused(401, f"request/at: the request's time is more than "
                                  f"{MAX_SKEW_SECONDS:g} s from the device's clock (a "
                                  f"replay, or a clock that is wrong)")
    return signed, trusted_key


def number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else (true and false included)."""
    return float(value) if type(value) in (int, float) else None


def answer(status: int, body: Any, etag: str | None = None) -> bytes:
    """A response's payload: the status, the ETag (if any) and the JSON body."""
    return json.dumps({"status": status, "etag": etag, "body": body},
                      default=str).encode("utf-8")
