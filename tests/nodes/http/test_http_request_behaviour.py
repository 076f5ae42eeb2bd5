"""http-request beyond Node-RED's spec, what a user relies on: credentials go only
where they belong and never into a message, log or the browser; redirects change the
method as HTTP says; compressed answers arrive decompressed; keep-alive reuses the
connection; a response passed to a second request is not sent back; the status."""

from __future__ import annotations

import logging

import pytest

from portless.editor.masking import SECRET_MASK, mask_document
from portless.testing import FlowHarness, arun_node
from tests.http_server import Server, closed_port

TYPE = "http-request"
SECRET = "s3cret-Pa55"


async def test_credentials_are_not_sent_to_another_host(server: Server) -> None:
    config = {"url": server.url("/redirect-elsewhere"), "response_as": "json",
              "auth_type": "basic", "username": "u", "password": SECRET}
    elsewhere = await arun_node(TYPE, config, [{}])
    here = await arun_node(TYPE, {**config, "url": server.url("/redirect-here")}, [{}])
    assert elsewhere.outputs[0][0]["responseUrl"].startswith("http://127.0.0.1:")
    assert elsewhere.outputs[0][0]["payload"] == {"authorization": None}
    assert here.outputs[0][0]["payload"]["authorization"].startswith("Basic ")


async def test_bearer_token_is_not_sent_to_another_host(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/redirect-elsewhere"),
                                 "response_as": "json", "auth_type": "bearer",
                                 "token": SECRET}, [{}])
    assert run.outputs[0][0]["payload"] == {"authorization": None}


async def test_user_and_password_in_the_url_are_basic_auth_and_shown_nowhere(
        server: Server) -> None:
    url = server.url("/authenticate").replace("://", f"://me:{SECRET}@")
    run = await arun_node(TYPE, {"response_as": "json"}, [{"url": url}])
    [sent] = run.outputs[0]
    assert sent["payload"] == {"user": "me", "pass": SECRET}
    assert SECRET not in sent["responseUrl"]


async def test_secrets_stay_out_of_errors_and_logs(caplog: pytest.LogCaptureFixture
                                                   ) -> None:
    """${ENV} placeholders in the config; the request fails; the password is in no
    message, event or log line."""
    port = closed_port()
    document = {"version": 1, "nodes": [
        {"id": "get", "type": TYPE, "config": {
            "url": f"http://127.0.0.1:{port}/", "auth_type": "basic",
            "username": "${HTTP_USER}", "password": "${HTTP_PASSWORD}",
            "proxy_password": "${HTTP_PASSWORD}"}},
        {"id": "url-creds", "type": TYPE, "config": {}}]}
    with caplog.at_level(logging.DEBUG):
        async with FlowHarness(document, env={"HTTP_USER": "me",
                                              "HTTP_PASSWORD": SECRET}) as h:
            h.inject("get", {})
            h.inject("url-creds", {"url": f"http://me:{SECRET}@127.0.0.1:{port}/"})
            sent = [*await h.wait_for("get"), *await h.wait_for("url-creds")]
    assert [m["statusCode"] for m in sent] == ["ECONNREFUSED", "ECONNREFUSED"]
    sent[1].pop("url")  # the message's own, as it came
    shown = repr(sent) + repr(h.events) + caplog.text
    assert SECRET not in shown


def test_the_editor_never_gets_the_secrets() -> None:
    from portless.testing import _installed

    document = {"version": 1, "nodes": [{"id": "get", "type": TYPE, "config": {
        "url": "https://api.example/", "auth_type": "basic", "username": "me",
        "password": SECRET, "token": SECRET, "proxy_password": SECRET}}]}
    masked = mask_document(document, _installed())
    config = masked["nodes"][0]["config"]
    assert (config["password"], config["token"], config["proxy_password"]) == (
        SECRET_MASK, SECRET_MASK, SECRET_MASK)
    assert SECRET not in repr(masked)


@pytest.mark.parametrize(("path", "method", "payload"), [
    ("/see-other", "POST", "hello"),  # 303: a GET of the new place
])
async def test_a_303_redirect_becomes_a_get(server: Server, path: str, method: str,
                                            payload: str) -> None:
    run = await arun_node(TYPE, {"method": method, "url": server.url(path)},
                          [{"payload": "x"}])
    assert run.outputs[0][0]["payload"] == payload


async def test_a_307_redirect_keeps_the_method_and_body(server: Server) -> None:
    run = await arun_node(TYPE, {"method": "POST", "url": server.url("/temporary"),
                                 "response_as": "json"}, [{"payload": "kept"}])
    [sent] = run.outputs[0]
    assert sent["payload"]["body"] == "kept"
    assert sent["redirectList"] == [{"location": "/postInspect"}]


async def test_a_compressed_answer_arrives_decompressed(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/gzip")}, [{}])
    [sent] = run.outputs[0]
    assert sent["headers"]["content-encoding"] in ("gzip", "deflate", "br")
    assert sent["payload"] == "hello " * 1000


async def test_a_compressed_answer_is_bounded_after_decompression(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/gzip"),
                                 "max_response_bytes": 1024}, [{}])
    assert run.outputs[0][0]["statusCode"] == "ETOOLARGE"


@pytest.mark.parametrize(("keep_alive", "connections"), [(True, 1), (False, 3)])
async def test_keep_alive_reuses_the_connection(server: Server, keep_alive: bool,
                                                connections: int) -> None:
    run = await arun_node(TYPE, {"url": server.url("/connection"),
                                 "keep_alive": keep_alive}, [{}, {}, {}])
    assert len({m["payload"] for m in run.outputs[0]}) == connections


async def test_a_response_passed_to_a_second_request_is_not_sent_back(
        server: Server) -> None:
    """Node-RED's "should ignore unmodified x-node-red-request-node header": the first
    answer's headers (content-type application/json among them) reach the second node
    as msg.headers, which sends none of them."""
    document = {"version": 1, "nodes": [
        {"id": "first", "type": TYPE, "config": {"url": server.url("/json-valid"),
                                                 "response_as": "json"},
         "wires": [["second"]]},
        {"id": "second", "type": TYPE, "config": {
            "method": "POST", "url": server.url("/postInspect"), "response_as": "json"}}]}
    async with FlowHarness(document) as h:
        h.inject("first", {})
        [sent] = await h.wait_for("second")
    received = sent["payload"]["headers"]
    assert "x-node-red-request-node" not in received
    assert "date" not in received
    assert received["content-type"] == "application/json"  # the body's own


async def test_the_status_says_requesting_then_clears(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/text")}, [{}])
    assert [(s.get("fill"), s.get("text") or "") for s in run.statuses][-2:] == [
        ("blue", "requesting"), (None, "")]


async def test_a_failure_shows_its_code(server: Server) -> None:
    run = await arun_node(TYPE, {"url": f"http://127.0.0.1:{closed_port()}/"}, [{}])
    assert (run.statuses[-1]["fill"], run.statuses[-1]["text"]) == ("red", "ECONNREFUSED")


async def test_digest_sha_512_256_is_refused_clearly(server: Server) -> None:
    """Node-RED's truncated SHA-512 is not RFC 7616's SHA-512-256: refused, not guessed."""
    run = await arun_node(TYPE, {"url": server.url("/authenticate-digest-sha-512-256"),
                                 "auth_type": "digest", "username": "xxxuser",
                                 "password": "digest-test-password"}, [{}])
    [error] = run.errors
    assert error.startswith("digest auth: Unsupported hash algorithm: SHA-512-256"), error
    assert run.outputs[0][0]["statusCode"] == "EAUTH"



async def test_a_get_payload_as_the_body(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/proxyAuthenticate"),
                                 "get_payload": "body", "response_as": "json"},
                          [{"payload": {"a": 1}}])
    assert run.outputs[0][0]["payload"]["body"] == '{"a":1}'


@pytest.mark.parametrize("template", ["/te{{placeholder}}", "/te{{{placeholder}}}",
                                      "/te{{ msg.placeholder }}"])
async def test_url_placeholders(server: Server, template: str) -> None:
    run = await arun_node(TYPE, {"url": server.url(template)}, [{"placeholder": "xt"}])
    assert run.outputs[0][0]["payload"] == "hello"


async def test_a_missing_placeholder_is_empty(server: Server) -> None:
    run = await arun_node(TYPE, {"url": server.url("/text{{nothing}}")}, [{}])
    assert run.outputs[0][0]["payload"] == "hello"


async def test_a_placeholder_that_is_no_property_fails_the_start() -> None:
    document = {"version": 1, "nodes": [{"id": "get", "type": TYPE, "config": {
        "url": "http://127.0.0.1/{{payload[0}}"}}]}
    async with FlowHarness(document) as h:
        assert h.engine.failed == {"get": "ValueError: url: {{payload[0}} is not a message "
                                          "property: unclosed '[' at position 9"}
