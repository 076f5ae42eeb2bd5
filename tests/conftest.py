"""Shared fixtures: a flow-file writer, real mosquitto brokers, real OPC UA servers."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from tests.mosquitto import MOSQUITTO, Mosquitto
from tests.opcua_server import Certificates, OpcUaServer, make_certificates


@pytest.fixture(autouse=True)
def _no_log_handler_outlives_its_test() -> Iterator[None]:
    """``main()`` called in process sets the root logger up for its process, as a command
    does: its handler writes to the test's captured stderr, which closes with the test.
    Remove it after the test, so the next one's log lines are not written there."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in root.handlers[:]:
        if type(handler) in (logging.StreamHandler, logging.handlers.RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[..., Path]:
    """Write a flow document (or raw text) to a file and return its path."""
    def write(content: dict[str, Any] | str, name: str = "flow.json") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2),
                        encoding="utf-8")
        return path
    return write


def require_program(path: str, name: str, install: str) -> None:
    """Skip a test whose program is missing on a developer's machine; fail it in CI,
    where .ci/run installs it, so a missing install never passes as a skip."""
    if Path(path).exists() or shutil.which(name):
        return
    message = f"{name} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Server(Protocol):
    def start(self) -> None: ...

    def kill(self) -> None: ...


ServerT = TypeVar("ServerT", bound=Server)


def server_factory(kind: Callable[..., ServerT], workdir: Path, default_name: str
                   ) -> Iterator[Callable[..., ServerT]]:
    """Yield a function that makes and starts servers of ``kind`` (each in its own
    directory below ``workdir``); kill them all, by PID, afterwards."""
    made: list[ServerT] = []

    def make(name: str = default_name, **options: Any) -> ServerT:
        server = kind(workdir / name, **options)
        made.append(server)
        server.start()
        return server

    yield make
    for server in made:
        server.kill()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Make (and at the end stop, by PID) real mosquitto brokers on free 127.0.0.1 ports."""
    require_program(MOSQUITTO, "mosquitto", "sudo apt install mosquitto mosquitto-clients")
    yield from server_factory(Mosquitto, tmp_path, "broker")


@pytest.fixture
def mosquitto(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """A plain mosquitto (anonymous, persistence on) on a free 127.0.0.1 port."""
    return mosquitto_factory()


@pytest.fixture
def opcua_factory(tmp_path: Path) -> Iterator[Callable[..., OpcUaServer]]:
    """Make (and at the end kill, by PID) real asyncua OPC UA servers, each its own
    process on a free 127.0.0.1 port (tests/opcua_server.py)."""
    yield from server_factory(OpcUaServer, tmp_path, "plc")


@pytest.fixture
def opcua_server(opcua_factory: Callable[..., OpcUaServer]) -> OpcUaServer:
    """A server with security None, anonymous, Valve1.Counter going up every 50 ms."""
    return opcua_factory()


@pytest.fixture(scope="session")
def opcua_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """OPC UA application certificates: a server's, a client's, an impostor server's."""
    return make_certificates(tmp_path_factory.mktemp("opcua-certificates"))
