"""OPC UA to MQTT as a device runs it: ``portless run`` of opcua-in -> exception-filter
-> mqtt-out, against a real asyncua server and a real mosquitto. The counter's changes
reach the broker in order, a poll of a value that does not change is reported once,
the process listens on nothing, and after the PLC is killed and started again values
reach the broker again. A flow with Modbus and OPC UA nodes together listens on nothing
either (the port audit of field I/O)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lines import Lines, stop
from tests.e2e.test_cli import listening_sockets, start_headless
from tests.e2e.test_modbus_flow import field_flow
from tests.modbus_server import ModbusServer
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher
from tests.opcua_server import OpcUaServer

pytestmark = [pytest.mark.slow, pytest.mark.broker]


def pipeline(plc: str, broker_port: int) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "plc", "type": "opcua-connection",
         "config": {"endpoint": plc, "reconnect_min_delay": 0.1, "reconnect_max_delay": 0.5,
                    "keepalive": 0.5}},
        {"id": "counter", "type": "opcua-in",
         "config": {"connection": "plc", "publishing_interval": 50,
                    "items": [{"node_id": "ns=2;s=Valve1.Counter",
                               "name": "device/valve-1/counter"}]},
         "wires": [["report-by-exception"]]},
        {"id": "flow", "type": "opcua-in",
         "config": {"connection": "plc", "mode": "poll", "poll_interval": 20,
                    "items": [{"node_id": "ns=2;s=Valve1.Flow",
                               "name": "device/valve-1/flow"}]},
         "wires": [["report-by-exception"]]},
        {"id": "report-by-exception", "type": "exception-filter", "config": {},
         "wires": [["publish"]]},
        {"id": "publish", "type": "mqtt-out", "config": {"broker": "broker", "qos": 1}},
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": broker_port}},
    ]}


def values(watcher: Watcher, topic: str) -> list[Any]:
    return [json.loads(m.payload) for m in watcher.on(topic)]


async def test_opcua_values_reach_mqtt_by_exception_across_a_plc_restart(
        tmp_path: Path, write_flow: Callable[..., Path], mosquitto: Mosquitto,
        opcua_factory: Callable[..., OpcUaServer]) -> None:
    plc = opcua_factory()
    counter, flow = "device/valve-1/counter", "device/valve-1/flow"
    async with Watcher(mosquitto.port, "device/#") as watcher:
        process, _ = start_headless(write_flow(pipeline(plc.url, mosquitto.port)),
                                    tmp_path / "state")
        assert process.stderr is not None
        lines = Lines(process.stderr)
        try:
            await watcher.wait_for(5, counter, timeout=30)
            assert listening_sockets(process.pid) == []  # a client only, still
            plc.kill()
            lines.wait("connection lost")
            lines.wait("connection refused")
            before = len(watcher.on(counter))
            plc.start()
            await watcher.wait_for(before + 3, counter, timeout=30)
        finally:
            stop(process)
            lines.close()
    counts = values(watcher, counter)
    restart = next(i for i in range(1, len(counts)) if counts[i] < counts[i - 1])
    assert counts[:restart] == sorted(set(counts[:restart]))  # each change once, in order
    assert counts[restart:] == sorted(set(counts[restart:]))  # and again after the restart
    # Polled every 20 ms for seconds, unchanged (also after the restart): reported once.
    assert values(watcher, flow) == [0.0]
    assert process.returncode == 0
    assert not [line for line in lines.seen if "Traceback" in line or " ERROR " in line]


async def test_a_flow_with_modbus_and_opcua_nodes_listens_on_nothing(
        tmp_path: Path, write_flow: Callable[..., Path], mosquitto: Mosquitto,
        opcua_factory: Callable[..., OpcUaServer]) -> None:
    """The field I/O example (Modbus in and out, MQTT in and out) with an OPC UA
    reader added: once values from both PLCs reach the broker, the process still has
    no listening socket."""
    opcua = opcua_factory()
    modbus = ModbusServer(units=(1,))
    modbus.start()
    document = field_flow(modbus.port, mosquitto.port)
    opcua_nodes = pipeline(opcua.url, mosquitto.port)["nodes"]
    reader = next(node for node in opcua_nodes if node["id"] == "counter")
    reader["wires"] = [["report"]]  # the example's exception-filter
    reader["config"]["connection"] = opcua_nodes[0]["id"] = "opcua-plc"  # "plc" is Modbus
    document["nodes"] += [opcua_nodes[0], reader]
    try:
        async with Watcher(mosquitto.port, "#") as watcher:
            process, _ = start_headless(write_flow(document), tmp_path / "state")
            try:
                await watcher.wait_for(1, "plant/level", timeout=30)
                await watcher.wait_for(2, "device/valve-1/counter", timeout=30)
                assert listening_sockets(process.pid) == []
            finally:
                assert process.stderr is not None
                lines = Lines(process.stderr)
                stop(process)
                lines.close()
    finally:
        modbus.kill()
    assert process.returncode == 0
