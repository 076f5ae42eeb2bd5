"""Flow pieces for the Modbus tests: a connection, a poll group, a write node."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

from portless.runtime import Message
from portless.testing import FlowHarness


def connection(port: int, node_id: str = "plc", **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "modbus-connection",
            "config": {"host": "127.0.0.1", "port": port, "timeout": 0.5, "retries": 0,
                       "reconnect_min_delay": 0.05, "reconnect_max_delay": 0.5, **config}}


def poll(node_id: str, points: Sequence[dict[str, Any]], connection: str = "plc",
         **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "modbus-in",
            "config": {"connection": connection, "points": list(points), "interval": 0.1,
                       **config}}


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


async def status_text(h: FlowHarness, node_id: str, text: str, since: int = 0,
                      timeout: float = 10.0) -> None:
    """Wait until ``node_id`` shows a status holding ``text``."""
    await h.wait_event(lambda e: e.node_id == node_id and e.kind == "status"
                       and text in str(e.data.get("text")), since=since, timeout=timeout)


async def write_registers(port: int, address: int, values: Sequence[int], unit: int = 1,
                          table: str = "holding-register") -> None:
    """Set registers (or coils, with ``table="coil"``) with a plain pymodbus client."""
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, reconnect_delay=0)
    try:
        assert await client.connect()
        if table == "coil":
            response = await client.write_coils(address, [bool(v) for v in values],
                                                device_id=unit)
        else:
            response = await client.write_registers(address, list(values), device_id=unit)
        assert not response.isError(), response
    finally:
        client.close()
        await asyncio.sleep(0)


async def read_registers(port: int, address: int, count: int, unit: int = 1,
                         table: str = "holding-register") -> list[int] | list[bool]:
    """Read registers (or coils) with a plain pymodbus client."""
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, reconnect_delay=0)
    try:
        assert await client.connect()
        if table == "coil":
            response = await client.read_coils(address, count=count, device_id=unit)
            return list(response.bits[:count])
        response = await client.read_holding_registers(address, count=count, device_id=unit)
        assert not response.isError(), response
        return list(response.registers)
    finally:
        client.close()


async def first_message(h: FlowHarness, node_id: str, wanted: Callable[[Message], bool],
                        since: int = 0, timeout: float = 10.0) -> Message:
    """The first message ``node_id`` sent from ``since`` on that is ``wanted``."""
    async with asyncio.timeout(timeout):
        while True:
            for msg in h.received(node_id)[since:]:
                if wanted(msg):
                    return msg
            await h.changed()
