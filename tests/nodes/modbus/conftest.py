"""Fixtures: real pymodbus servers on free 127.0.0.1 ports, in subprocesses stopped by PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.modbus_server import ModbusServer


@pytest.fixture
def modbus_factory() -> Iterator[Callable[..., ModbusServer]]:
    """Start (and at the end kill) Modbus servers: ``make(units=(1, 2), slow={3: 60})``."""
    made: list[ModbusServer] = []

    def make(**options: Any) -> ModbusServer:
        server = ModbusServer(**options)
        made.append(server)
        server.start()
        return server

    yield make
    for server in made:
        server.kill()


@pytest.fixture
def modbus_server(modbus_factory: Callable[..., ModbusServer]) -> ModbusServer:
    """A server for unit 1 (and 2) on a free 127.0.0.1 port."""
    return modbus_factory(units=(1, 2))
