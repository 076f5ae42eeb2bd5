"""opcua-connection's security against a real asyncua server with Basic256Sha256:
SignAndEncrypt and Sign with certificates made by the fixture, the server's certificate
verified against the trust list (a server presenting another is refused), the server
refusing this client's certificate, usernames and passwords from ${ENV}, and files
that cannot be read."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.opcua_server import Certificates, OpcUaServer

pytestmark = pytest.mark.slow  # each test starts an OPC UA server process

COUNTER = "ns=2;s=Valve1.Counter"
PASSWORD = "s3cret-valve-pw"


def secure_flow(url: str, certificates: Certificates, trust: Path | None = None,
                mode: str = "SignAndEncrypt", **config: Any) -> dict[str, Any]:
    security = {"mode": mode, "certificate_file": str(certificates.client_cert),
                "private_key_file": str(certificates.client_key),
                "trust": str(trust or certificates.server_cert)}
    return {"version": 1, "nodes": [
        {"id": "plc", "type": "opcua-connection",
         "config": {"endpoint": url, "security": security, "reconnect_min_delay": 0.1,
                    "reconnect_max_delay": 0.5, **config}},
        {"id": "in", "type": "opcua-in",
         "config": {"connection": "plc", "publishing_interval": 50,
                    "items": [{"node_id": COUNTER}]}},
        {"id": "out", "type": "opcua-out",
         "config": {"connection": "plc", "node_id": "ns=2;s=Valve1.Flow"}}]}


def statuses(h: FlowHarness, node_id: str) -> list[str]:
    return [e.data.get("text", "") for e in h.events
            if e.node_id == node_id and e.kind == "status"]


async def status_of(h: FlowHarness, node_id: str, check: Callable[[str], bool]) -> str:
    event = await h.wait_event(lambda e: e.node_id == node_id and e.kind == "status"
                               and check(e.data.get("text", "")), timeout=20)
    return str(event.data["text"])


@pytest.mark.parametrize("mode", ["SignAndEncrypt", "Sign"])
async def test_secure_session_reads_and_writes(
        opcua_factory: Callable[..., OpcUaServer], opcua_certificates: Certificates,
        mode: str) -> None:
    server = opcua_factory(certificates=opcua_certificates)
    async with FlowHarness(secure_flow(server.url, opcua_certificates, mode=mode)) as h:
        messages = await h.wait_for("in", 3, timeout=20)
        h.inject("out", {"payload": 4.5})
        (confirmed,) = await h.wait_for("out", 1, timeout=10)
    assert all(msg["quality"] == "good" for msg in messages)
    assert confirmed["payload"] == 4.5
    assert "connected" in statuses(h, "plc")


async def test_trust_may_be_a_directory(opcua_factory: Callable[..., OpcUaServer],
                                        opcua_certificates: Certificates,
                                        tmp_path: Path) -> None:
    server = opcua_factory(certificates=opcua_certificates)
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(opcua_certificates.client_cert, trusted / "someone-else.pem")
    shutil.copy(opcua_certificates.server_cert, trusted / "plc-1.pem")
    (trusted / "README.txt").write_text("not a certificate, not read")
    async with FlowHarness(secure_flow(server.url, opcua_certificates, trust=trusted)) as h:
        await h.wait_for("in", 1, timeout=20)


async def test_server_with_an_untrusted_certificate_is_refused(
        opcua_factory: Callable[..., OpcUaServer], opcua_certificates: Certificates,
        caplog: pytest.LogCaptureFixture) -> None:
    """A server presenting another certificate (same application URI: a stand-in on the
    network) gets nothing: not the session, not the password."""
    server = opcua_factory(certificates=opcua_certificates, impostor=True,
                           users={"operator": PASSWORD})
    document = secure_flow(server.url, opcua_certificates, username="operator",
                           password="${PLC_PASSWORD}")
    async with FlowHarness(document, env={"PLC_PASSWORD": PASSWORD}) as h:
        text = await status_of(h, "plc", lambda t: t.startswith("server certificate"))
        await status_of(h, "in", lambda t: t == text)  # the readers say it too
        h.inject("out", {"payload": 1.0})
        await h.wait_event(lambda e: e.kind == "error" and e.node_id == "out", timeout=20)
        assert h.received("in") == []
        assert "connected" not in statuses(h, "plc")
    assert text.startswith("server certificate not trusted: CN=impostor (SHA-256 ")
    assert text.endswith(f") is not in {opcua_certificates.server_cert}")
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in repr(e.data) for e in h.events)


async def test_server_refusing_this_client_certificate_says_so(
        opcua_factory: Callable[..., OpcUaServer], opcua_certificates: Certificates) -> None:
    server = opcua_factory(certificates=opcua_certificates,
                           trusted_clients=[opcua_certificates.other_server_cert])
    async with FlowHarness(secure_flow(server.url, opcua_certificates)) as h:
        text = await status_of(h, "plc", lambda t: "client's certificate" in t)
    assert text.startswith("the server refused this client's certificate (Bad")
    assert text.endswith("): add it to the server's trusted certificates")


@pytest.mark.parametrize(("username", "password", "expected"), [
    ("operator", PASSWORD, "connected"),
    ("operator", "wrong", "username or password refused (BadUserAccessDenied)"),
    ("", "", "the server refuses anonymous sessions"),
])
async def test_username_and_password(
        opcua_factory: Callable[..., OpcUaServer], opcua_certificates: Certificates,
        caplog: pytest.LogCaptureFixture, username: str, password: str,
        expected: str) -> None:
    server = opcua_factory(certificates=opcua_certificates, users={"operator": PASSWORD})
    document = secure_flow(server.url, opcua_certificates, username=username,
                           password="${PLC_PASSWORD}" if password else "")
    caplog.set_level(logging.DEBUG)
    async with FlowHarness(document, env={"PLC_PASSWORD": password}) as h:
        await status_of(h, "plc", lambda t: t.startswith(expected))
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in repr(e.data) for e in h.events)


async def test_server_without_the_policy_says_what_it_offers(
        opcua_server: OpcUaServer, opcua_certificates: Certificates) -> None:
    async with FlowHarness(secure_flow(opcua_server.url, opcua_certificates)) as h:
        text = await status_of(h, "plc", lambda t: t.startswith("the server offers"))
    assert text == "the server offers no Basic256Sha256 SignAndEncrypt endpoint (it " \
                   "offers: None)"


@pytest.mark.parametrize(("field", "make", "expected"), [
    ("certificate_file", lambda path: None, "No such file or directory"),
    ("private_key_file", lambda path: path.write_text("not a key"),
     "cannot be read as a PEM or DER certificate or key (or the key's password is wrong)"),
    ("trust", lambda path: path.mkdir(),
     "holds no certificate (files ending in .pem, .crt, .cer, .der)"),
])
async def test_unreadable_files_name_their_field(
        opcua_certificates: Certificates, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        field: str, make: Callable[[Path], Any], expected: str) -> None:
    """The connection fails to start (at deploy, not at each attempt) saying why."""
    path = tmp_path / "bad"
    make(path)
    document = secure_flow("opc.tcp://127.0.0.1:1", opcua_certificates)
    document["nodes"][0]["config"]["security"][field] = str(path)
    async with FlowHarness(document) as h:
        await h.wait_event(lambda e: e.node_id == "plc" and e.kind == "status"
                           and e.data.get("fill") == "red", timeout=10)
    (failed,) = [r.getMessage() for r in caplog.records if "node plc failed" in r.getMessage()]
    assert failed == f"node plc failed to start: ValueError: security.{field} {path}: {expected}"


async def test_verification_off_connects_to_anyone_and_warns(
        opcua_factory: Callable[..., OpcUaServer], opcua_certificates: Certificates,
        caplog: pytest.LogCaptureFixture) -> None:
    server = opcua_factory(certificates=opcua_certificates, impostor=True)
    document = secure_flow(server.url, opcua_certificates)
    document["nodes"][0]["config"]["security"]["verify"] = False
    async with FlowHarness(document) as h:
        await h.wait_for("in", 1, timeout=20)
    assert "OPC UA SERVER CERTIFICATE VERIFICATION IS OFF" in caplog.text
    assert any(e.kind == "warning" and e.node_id == "plc"
               and "verification is off" in str(e.data) for e in h.events)
