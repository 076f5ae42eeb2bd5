"""http-request over TLS, against a real HTTPS server whose certificate a test CA
(trustme, made with the cryptography package) signed: verified by default, so the
unknown CA is refused with a clear error; accepted with the CA file; a client
certificate where the server asks for one; verification off only when said, loudly.
Node-RED's "protocol" cases re-expressed (pfx files are not supported: PEM only)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from portless.testing import FlowHarness, arun_node
from tests.http_server import Server, start_server
from tests.nodes.http.conftest import tls

TYPE = "http-request"


@pytest.fixture
async def client_cert_server(ca: trustme.CA) -> AsyncIterator[Server]:
    """HTTPS that asks for a client certificate signed by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_OPTIONAL  # /getClientCert says 401 without one
    started = await start_server(context)
    yield started
    await started.stop()


async def test_an_unknown_ca_is_refused_with_a_clear_error(tls_server: Server) -> None:
    run = await arun_node(TYPE, {"url": tls_server.url("/text")}, [{}])
    [sent] = run.outputs[0]
    assert sent["statusCode"] == "ECERT"
    [error] = run.errors
    assert error.startswith("the server's certificate was refused (unable to get local "
                            "issuer certificate); give the CA that signed it in "
                            "tls.ca_file"), error


async def test_the_ca_file_makes_it_trusted(tls_server: Server, ca_file: str) -> None:
    run = await arun_node(TYPE, {"url": tls_server.url("/text"), "tls": tls(
        ca_file=ca_file)}, [{}])
    [sent] = run.outputs[0]
    assert (sent["payload"], sent["statusCode"]) == ("hello", 200)
    assert sent["responseUrl"].startswith("https://")
    assert run.errors == run.warnings == []


async def test_a_url_without_scheme_is_https_with_a_tls_config(tls_server: Server,
                                                               ca_file: str) -> None:
    """Node-RED's "should use tls-config" (and its URL without http://)."""
    bare = tls_server.url("/text").removeprefix("https://")
    run = await arun_node(TYPE, {"url": bare, "tls": tls(ca_file=ca_file)}, [{}])
    assert run.outputs[0][0]["responseUrl"] == tls_server.url("/text")


async def test_a_name_that_is_not_in_the_certificate_is_refused(
        tls_server: Server, ca_file: str, ca: trustme.CA) -> None:
    run = await arun_node(TYPE, {"url": tls_server.url("/text"), "tls": tls(
        ca_file=ca_file, server_name="elsewhere.example")}, [{}])
    assert run.outputs[0][0]["statusCode"] == "ECERT"
    assert "Hostname mismatch" in run.errors[0] or "doesn't match" in run.errors[0], \
        run.errors


async def test_turning_verification_off_is_said_loudly(
        tls_server: Server, caplog: pytest.LogCaptureFixture) -> None:
    """Node-RED's tls-config with verifyservercert false."""
    with caplog.at_level(logging.WARNING):
        run = await arun_node(TYPE, {"url": tls_server.url("/text"),
                                     "tls": tls(verify=False)}, [{}])
    assert run.outputs[0][0]["payload"] == "hello"
    assert run.warnings == ["TLS certificate verification is off"]
    assert any("VERIFICATION IS OFF" in r.getMessage() for r in caplog.records)


async def test_msg_reject_unauthorized_cannot_turn_verification_off(
        tls_server: Server) -> None:
    """Node-RED's "should use msg.rejectUnauthorized", refused on purpose: a message
    must not decide whether certificates are checked."""
    run = await arun_node(TYPE, {"url": tls_server.url("/text")},
                          [{"rejectUnauthorized": False}])
    assert run.outputs[0][0]["statusCode"] == "ECERT"
    assert run.warnings == ["msg.rejectUnauthorized is ignored: certificates are checked "
                            "as the node's tls config says"]


async def test_a_client_certificate_is_sent(client_cert_server: Server, ca: trustme.CA,
                                            ca_file: str, tmp_path: Path) -> None:
    client = ca.issue_cert("device-1")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    client.cert_chain_pems[0].write_to_path(str(cert))
    client.private_key_pem.write_to_path(str(key))
    url = client_cert_server.url("/getClientCert")
    with_cert = await arun_node(TYPE, {"url": url, "tls": tls(
        ca_file=ca_file, cert_file=str(cert), key_file=str(key))}, [{}])
    without = await arun_node(TYPE, {"url": url, "tls": tls(ca_file=ca_file)}, [{}])
    assert (with_cert.outputs[0][0]["payload"], with_cert.outputs[0][0]["statusCode"]) == (
        "hello", 200)
    assert without.outputs[0][0]["statusCode"] == 401


async def test_a_missing_ca_file_fails_the_start_naming_the_field(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    document = {"version": 1, "nodes": [{"id": "get", "type": TYPE, "config": {
        "url": "https://127.0.0.1/", "tls": tls(ca_file=missing)}}]}
    async with FlowHarness(document) as h:
        assert h.engine.failed == {
            "get": f"ValueError: tls.ca_file {missing}: No such file or directory"}


def test_tls_is_the_same_schema_as_the_broker_s() -> None:
    from portless.nodes.http.http_request import HttpRequest
    from portless.nodes.mqtt.mqtt_broker import MqttBroker

    ours = HttpRequest.schema["properties"]["tls"]["oneOf"][1]["properties"]
    broker = MqttBroker.schema["properties"]["tls"]["oneOf"][1]["properties"]
    assert ours.keys() == broker.keys()
    assert ours["verify"]["default"] is True

