"""http-request when things go wrong: a server that never answers, hostile answers
(a huge body, an endless stream, invalid JSON, control characters in headers, a
redirect loop, not HTTP at all), refused requests; each an error tied to the message,
so a catch node takes it, and never unbounded memory or a wedged node."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portless.testing import FlowHarness, arun_node
from tests.http_server import Server, closed_port, start_raw

TYPE = "http-request"


def flow(config: dict[str, Any]) -> dict[str, Any]:
    """The node under test, a catch watching it."""
    return {"version": 1, "nodes": [
        {"id": "get", "type": TYPE, "config": config},
        {"id": "caught", "type": "catch", "config": {"scope": "nodes", "nodes": ["get"]}}]}


async def test_a_server_that_never_answers_is_a_timeout_a_catch_node_takes(
        server: Server) -> None:
    async with FlowHarness(flow({"url": server.url("/timeout"), "timeout": 0.2})) as h:
        h.inject("get", {"payload": "foo", "topic": "pump-7"})
        await asyncio.wait_for(server.waiting.wait(), 5)  # the server holds the request
        [caught] = await h.wait_for("caught")
        [sent] = await h.wait_for("get")
    assert caught["topic"] == "pump-7"
    assert caught["error"]["message"].startswith("no response within 0.2 s (GET http://")
    assert sent["statusCode"] == "ETIMEDOUT"
    assert sent["payload"] == f"no response within 0.2 s : {server.url('/timeout')}"


async def test_a_key_in_the_query_stays_out_of_the_error(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/timeout?apikey=SECRET"),
                                 "timeout": 0.05}, [{}])
    assert "SECRET" not in run.errors[0]
    assert "SECRET" not in run.outputs[0][0]["payload"]


async def test_msg_request_timeout_is_in_milliseconds(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/timeout")},
                          [{"requestTimeout": 50}])
    assert run.outputs[0][0]["statusCode"] == "ETIMEDOUT"
    assert run.errors == [f"no response within 0.05 s (GET {server.url('/timeout')})"]


async def test_failures_only_to_catch_sends_nothing_on(server: Server) -> None:
    config = {"url": server.url("/timeout"), "timeout": 0.1, "errors_to_catch_only": True}
    async with FlowHarness(flow(config)) as h:
        h.inject("get", {"payload": "foo"})
        [caught] = await h.wait_for("caught")
        assert h.received("get") == []
    assert caught["error"]["message"].startswith("no response within")


@pytest.mark.parametrize(("path", "config", "code", "text"), [
    ("/huge", {}, "ETOOLARGE", "the response is 67,108,864 bytes, more than the "
                               "16,777,216 this node takes (max_response_bytes)"),
    ("/endless", {"max_response_bytes": 1024 * 1024}, "ETOOLARGE",
     "the response is more than the 1,048,576 bytes this node takes"),
    ("/loop", {}, "ERR_TOO_MANY_REDIRECTS", "more than 21 redirects (max_redirects)"),
    ("/loop", {"max_redirects": 3}, "ERR_TOO_MANY_REDIRECTS", "more than 3 redirects"),
    ("/to-file", {}, "EREDIRECT", "a redirect to file:// is not followed"),
])
async def test_hostile_answers_are_errors_with_the_message(
        server: Server, path: str, config: dict[str, Any], code: str, text: str) -> None:
    run = await arun_node(TYPE, {"url": server.url(path), **config}, [{"topic": "t"}])
    [error] = run.errors
    assert error.startswith(text), error
    [sent] = run.outputs[0]
    assert sent["statusCode"] == code
    assert sent["topic"] == "t"
    assert sent["payload"].startswith(text)


@pytest.mark.parametrize(("answer", "code", "text"), [
    (b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID",
     "the answer's header X-Bad has a control character in it"),
    (b"HTTP/1.1 200 OK\r\nX-Bad: a\x7fb\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID",
     "the answer's header X-Bad has a control character in it"),
    (b"HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID",
     "the answer is not valid HTTP: Invalid HTTP header"),
    (b"HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 2\r\n\r\nok", "HPE_INVALID",
     "the answer is not valid HTTP"),
    (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", "HPE_INVALID",
     "the answer is not valid HTTP: Got more than 8190 bytes"),
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(1000)) + b"\r\n",
     "HPE_INVALID", "the answer is not valid HTTP: Too many headers"),
    (b"\x00\x01\x02 not http at all\r\n\r\n", "HPE_INVALID",
     "the answer is not valid HTTP: Bad status line"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HPE_INVALID",
     "the answer is not valid HTTP: Invalid character in chunk size"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", "ECONNRESET",
     "the response was cut off"),
    (b"", "ECONNRESET", "the server closed the connection without an answer"),
], ids=["control-char-header", "del-header", "nul-header", "cr-header", "huge-header",
        "1000-headers", "not-http", "bad-chunk", "short-body", "closed"])
async def test_answers_that_are_not_valid_http_are_refused(
        answer: bytes, code: str, text: str) -> None:
    raw = await start_raw(answer)
    try:
        run = await arun_node(TYPE, {"url": raw.url()}, [{}])
    finally:
        await raw.stop()
    [sent] = run.outputs[0]
    assert sent["statusCode"] == code
    assert run.errors[0].startswith(text), run.errors


async def test_a_header_that_is_not_utf8_arrives_as_text() -> None:
    raw = await start_raw(b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 2\r\n\r\nok")
    try:
        run = await arun_node(TYPE, {"url": raw.url()}, [{}])
    finally:
        await raw.stop()
    assert run.outputs[0][0]["headers"]["x-name"] == "caf\ufffd"


async def test_bare_line_feeds_are_read_as_most_clients_do() -> None:
    """Node-RED's "broken headers" answer: Node.js refuses it unless insecureHTTPParser;
    aiohttp reads it (a difference the schema's description lists)."""
    raw = await start_raw(b"HTTP/1.0 200\nContent-Type: text/plain\n\nHelloWorld")
    try:
        run = await arun_node(TYPE, {"url": raw.url(), "response_as": "json"}, [{}])
    finally:
        await raw.stop()
    assert run.outputs[0][0]["payload"] == "HelloWorld"


async def test_connection_refused_says_so() -> None:
    port = closed_port()
    run = await arun_node(TYPE, {"url": f"http://127.0.0.1:{port}/x"}, [{}])
    assert run.outputs[0][0]["statusCode"] == "ECONNREFUSED"
    assert run.errors[0].startswith(f"cannot connect to 127.0.0.1:{port}: ")


async def test_json_too_deep_is_a_warning_and_the_text(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/deep-json"), "response_as": "json"},
                          [{}])
    assert run.outputs[0][0]["payload"].startswith("[[[")
    assert run.warnings[0].startswith("JSON parse error")


@pytest.mark.parametrize(("msg", "error"), [
    ({"url": "http://127.0.0.1/", "headers": {"X-Evil": "a\r\nX-Injected: 1"}},
     "header X-Evil: a line break"),
    ({"url": "http://127.0.0.1/", "headers": {"bad name": "x"}},
     "header name 'bad name' is not a valid"),
    ({"url": "http://example.com/\n"}, "the URL has a control character"),
    ({"url": "http:///nohost"}, "the URL has no host"),
    ({"url": "file:///etc/passwd"}, "only http:// and https://"),
    ({"url": "javascript:alert(1)"}, "not a URL"),
    ({"url": 5}, "no URL"),
    ({"url": "http://127.0.0.1/", "payload": {"a": float("nan")}, "method": "POST"},
     "the payload cannot be sent as JSON"),
    ({"url": "http://127.0.0.1/", "payload": "x", "method": "GET /x HTTP/1.1"},
     "msg.method must be an HTTP method"),
    ({"url": "http://127.0.0.1/", "method": "\u0413\u0415\u0422"},
     "msg.method must be an HTTP method"),
    ({"url": "http://127.0.0.1/", "cookies": {"bad name": "x"}},
     "cookie name 'bad name' is not a valid"),
    ({"url": "http://127.0.0.1/", "cookies": {"a": {"value": "x\r\ny", "encode": False}}},
     "cookie a: a control character"),
])
async def test_bad_messages_are_errors_and_send_nothing(msg: dict[str, Any],
                                                        error: str) -> None:
    method = "msg.method" if "method" in msg else "GET"
    run = await arun_node(TYPE, {"method": method}, [msg])
    assert run.outputs == [[]]
    assert run.errors[0].startswith(error), run.errors


async def test_a_get_payload_for_the_query_must_be_an_object(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/getQueryParams"),
                                 "get_payload": "query"}, [{"payload": "a=1"}])
    assert run.outputs == [[]]
    assert run.errors == ["a payload sent as the query string must be an object"]


async def test_messages_are_handled_one_at_a_time_in_order(server: Server) -> None:
    messages = [{"payload": {"n": n}} for n in range(5)]
    run = await arun_node(TYPE, {"url": server.url("/getQueryParams"),
                                 "get_payload": "query", "response_as": "json"}, messages)
    assert [m["payload"]["query"] for m in run.outputs[0]] == [
        {"n": str(n)} for n in range(5)]


def test_the_input_queue_is_bounded() -> None:
    from portless.nodes.http.http_request import HttpRequest

    queue = HttpRequest.schema["properties"]["input_queue"]
    assert queue["default"] == {"size": 100, "when_full": "block"}
    assert queue["properties"]["size"]["maximum"] == 10_000
