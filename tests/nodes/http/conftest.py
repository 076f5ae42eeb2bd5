"""Fixtures for the http-request tests: a real HTTP server, an HTTPS one with a test
CA (trustme, made with the cryptography package), a real forward proxy, all on
127.0.0.1 on free ports; and no proxy from the machine's environment."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.http_proxy import Proxy
from tests.http_server import Server, start_server

PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    started = await start_server()
    yield started
    await started.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    """The test CA's certificate as a PEM file."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def tls(**fields: Any) -> dict[str, Any]:
    """A node's ``tls`` config: the defaults, and ``fields``."""
    return {"ca_file": "", "cert_file": "", "key_file": "", "verify": True,
            "server_name": "", **fields}


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[Server]:
    """HTTPS with a certificate for localhost and 127.0.0.1, signed by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    started = await start_server(context)
    yield started
    await started.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    started = await Proxy().start()
    yield started
    await started.stop()
