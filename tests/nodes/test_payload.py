"""Payload formats: what mqtt-out puts on the wire and how mqtt-in reads it back."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from portless.nodes.payload import PayloadError, decode, encode, preview


@pytest.mark.parametrize(("payload", "fmt"), [
    ({"flow": 12.5, "tags": ["a", "b"]}, "json"),
    ({"flow": 12.5, "raw": b"\x00\x01"}, "msgpack"),
    ("Grüße", "text"),
    (b"\x00\xff", "raw"),
])
def test_encode_then_decode_gives_the_payload_back(payload: Any, fmt: str) -> None:
    assert decode(encode(payload, fmt), fmt) == payload


@pytest.mark.parametrize(("data", "content_type", "expected"), [
    (b'{"a": 1}', None, {"a": 1}),
    (b"42", None, 42),
    (b"open", None, "open"),
    (b"\xff\xfe", None, b"\xff\xfe"),
    (b"42", "text/plain; charset=utf-8", "42"),
    (msgpack.packb({"a": 1}), "application/msgpack", {"a": 1}),
    (b'{"a": 1}', "application/octet-stream", b'{"a": 1}'),
    (b'{"a": 1}', "application/vnd.api+json", {"a": 1}),
])
def test_auto_goes_by_content_type_then_json_then_text_then_bytes(
        data: bytes, content_type: str | None, expected: Any) -> None:
    assert decode(data, "auto", content_type) == expected


@pytest.mark.parametrize(("payload", "fmt", "message"), [
    (float("inf"), "json", "cannot encode float as json"),
    (object(), "msgpack", "cannot encode object as msgpack"),
    (b"\xff", "text", "cannot encode bytes as text"),
    (3, "raw", "cannot send a int as raw bytes"),
])
def test_unencodable_payloads_are_clear_errors(payload: Any, fmt: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        encode(payload, fmt)


@pytest.mark.parametrize(("data", "fmt"), [(b"not json", "json"), (b"\xc1", "msgpack"),
                                           (b"\xff", "text")])
def test_undecodable_payloads_are_clear_errors(data: bytes, fmt: str) -> None:
    with pytest.raises(PayloadError, match=f"not valid {fmt}"):
        decode(data, fmt)


def test_preview_is_short_hex_with_the_length() -> None:
    assert preview(bytes(range(20))) == \
        "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f ... (20 bytes)"
    assert preview(b"\x01") == "01 (1 bytes)"
