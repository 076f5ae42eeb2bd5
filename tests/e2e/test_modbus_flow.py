"""The field I/O example (flows/field-io.json) as a device runs it: ``portless run``
with a simulated PLC (a real pymodbus server) read by modbus-in, reported by exception
through exception-filter and mqtt-out to a real mosquitto, and a command path mqtt-in
-> modbus-out back to the PLC. The process opens no listening socket (a port audit
with Modbus nodes)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import listening_sockets, start_headless
from tests.modbus_server import ModbusServer
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.nodes.modbus.flows import read_registers, write_registers

pytestmark = [pytest.mark.broker, pytest.mark.slow]  # portless and the PLC as processes
ROOT = Path(__file__).resolve().parents[2]


def field_flow(plc_port: int, broker_port: int) -> dict[str, Any]:
    """The shipped example (flows/field-io.json) with its PLC and broker on these
    ports, polled every 50 ms."""
    document: dict[str, Any] = json.loads((ROOT / "flows" / "field-io.json").read_text())
    for node in document["nodes"]:
        config = node["config"]
        if node["type"] == "modbus-connection":
            config.update(port=plc_port, reconnect_min_delay=0.05, reconnect_max_delay=0.5)
        if node["type"] == "mqtt-broker":
            config.update(port=broker_port, reconnect_min_delay=0.05,
                          reconnect_max_delay=0.5)
        if node["type"] == "modbus-in":
            config["interval"] = 0.05
    return document


def values(watcher: Watcher, topic: str) -> list[Any]:
    return [json.loads(m.payload) for m in watcher.on(topic)]


async def test_plc_to_broker_by_exception_and_commands_back(
        tmp_path: Path, mosquitto: Mosquitto, write_flow: Callable[..., Path]) -> None:
    plc = ModbusServer(units=(1,))
    plc.start()
    process = None
    try:
        await write_registers(plc.port, 0, [0x0000, 0x4248, 215])  # 50.0 (CDAB), 21.5
        async with Watcher(mosquitto.port, "plant/#") as watcher:
            process, _ = start_headless(write_flow(field_flow(plc.port, mosquitto.port)),
                                        tmp_path / "state")
            assert listening_sockets(process.pid) == []  # a client of PLC and broker only
            await watcher.wait_for(1, "plant/level")
            await watcher.wait_for(1, "plant/temperature")
            assert values(watcher, "plant/level") == [50.0]
            assert values(watcher, "plant/temperature") == [pytest.approx(21.5)]
            await write_registers(plc.port, 0, [0x0000, 0x4249])  # 50.25: a change
            await watcher.wait_for(2, "plant/level")
            watcher.publish("plant/cmd", json.dumps(55))  # the command path
            setpoints = await watcher.wait_for(2, "plant/setpoint")
            assert [json.loads(m.payload) for m in setpoints] == [0, 55]
            assert await read_registers(plc.port, 5, 1) == [55]
            # polled every 50 ms meanwhile, but only changes were reported
            assert values(watcher, "plant/level") == [50.0, 50.25]
            assert len(values(watcher, "plant/temperature")) == 1
            assert listening_sockets(process.pid) == []
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=20)[1]
        assert process.returncode == 0
        assert "Traceback" not in rest
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        plc.kill()
