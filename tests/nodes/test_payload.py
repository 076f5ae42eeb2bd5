"""Payload formats: what mqtt-out puts on the wire and how mqtt-in reads it back."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest

from portless.nodes.payload import MAX_DEPTH, PayloadError, decode, encode, preview


@pytest.mark.parametrize(("payload", "fmt"), [
    ({"flow": 12.5, "tags": ["a", "b"]}, "json"),
    ({"flow": 12.5, "raw": b"\x00\x01"}, "msgpack"),
    ("Grüße", "text"),
    (b"\x00\xff", "raw"),
])
def test_encode_then_decode_gives_the_payload_back(payload: Any, fmt: str) -> None:
    assert decode(encode(payload, fmt), fmt) == payload


@pytest.mark.parametrize("number", [0, -7, 10**30, 12.5, -0.0, 1e-7, 1e300, True, None])
def test_a_number_is_written_as_json_writes_it(number: Any) -> None:
    assert encode(number, "json") == json.dumps(number).encode()


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
    (float("nan"), "json", "cannot encode float as json"),
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


def nested_json(levels: int) -> bytes:
    """Objects and arrays in turn, ``levels`` deep, around a number."""
    opening = [b'{"a":' if level % 2 else b"[" for level in range(levels)]
    closing = [b"}" if level % 2 else b"]" for level in reversed(range(levels))]
    return b"".join(opening) + b"1" + b"".join(closing)


@pytest.mark.parametrize("fmt", ["json", "auto"])
def test_json_nested_up_to_max_depth_decodes_and_deeper_is_refused(fmt: str) -> None:
    assert decode(nested_json(MAX_DEPTH), fmt) is not None
    with pytest.raises(PayloadError, match=f"json nested deeper than {MAX_DEPTH} levels"):
        decode(nested_json(MAX_DEPTH + 1), fmt)
    with pytest.raises(PayloadError, match="nested deeper"):  # past Python's own stack
        decode(b"[" * 100_000 + b"]" * 100_000, fmt)


@pytest.mark.parametrize("value", [
    ["[{" * 500],
    ['\\"' + "[" * 500, "\\", '"]]]', "\\\\\"{{{" * 200],  # escaped quotes, backslashes
    {"k[" * 200: "]" * 300},
])
def test_brackets_inside_json_strings_are_not_nesting(value: Any) -> None:
    assert decode(json.dumps(value).encode(), "json") == value


def test_nesting_is_found_between_strings_full_of_brackets() -> None:
    deep = json.dumps({"]]]\\\"": ["[[[" * 100]})  # 2 levels, strings say otherwise
    data = "[" * (MAX_DEPTH - 1) + deep + "]" * (MAX_DEPTH - 1)
    with pytest.raises(PayloadError, match="nested deeper"):
        decode(data.encode(), "json")
    assert decode(data[1:-1].encode(), "json") is not None  # exactly MAX_DEPTH


def test_msgpack_nested_up_to_max_depth_decodes_and_deeper_is_refused() -> None:
    assert decode(b"\x91" * MAX_DEPTH + b"\x00", "msgpack") is not None
    for levels in (MAX_DEPTH + 1, 5000):  # 5,000 passes msgpack's own stack of 1,024
        with pytest.raises(PayloadError, match=f"msgpack nested deeper than {MAX_DEPTH}"):
            decode(b"\x91" * levels + b"\x00", "msgpack")


def test_nan_and_infinity_are_not_json_numbers_as_in_javascript() -> None:
    for constant in (b"NaN", b"Infinity", b"[-Infinity]"):
        with pytest.raises(PayloadError, match="is not JSON"):
            decode(constant, "json")
    assert decode(b"NaN", "auto") == "NaN"  # auto: not JSON, so text


@pytest.mark.parametrize(("data", "fmt"), [(b"[1, 2, 3]", "json"), (b"[1, 2, 3]", "auto"),
                                           (msgpack.packb([1, 2, 3, 4, 5, 6]), "msgpack")])
def test_a_payload_longer_than_max_size_is_not_parsed(data: bytes, fmt: str) -> None:
    assert decode(data, fmt, max_size=len(data)) is not None
    with pytest.raises(PayloadError, match=f"{len(data)} bytes is more than max_decode_size"):
        decode(data, fmt, max_size=len(data) - 1)


def test_max_size_does_not_limit_what_is_not_parsed() -> None:
    long_text = b"valve open " * 100
    assert decode(long_text, "auto", max_size=10) == long_text.decode()
    assert decode(long_text, "text", max_size=10) == long_text.decode()
    assert decode(long_text, "raw", max_size=10) == long_text


@pytest.mark.parametrize(("payload", "sent"), [
    ("Grüße", "Grüße"), ({"a": "ü", "b": [1, 2]}, '{"a":"ü","b":[1,2]}'), (42, "42"),
    (True, "true"), (None, "null"), ([1, "a"], '[1,"a"]')])
def test_text_sends_a_text_as_it_is_and_anything_else_as_compact_json(payload: Any,
                                                                      sent: str) -> None:
    """As Node-RED's mqtt out does (JSON.stringify), so an imported flow sends the same."""
    assert encode(payload, "text") == sent.encode("utf-8")
