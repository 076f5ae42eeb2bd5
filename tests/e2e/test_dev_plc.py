"""The field I/O demo as the README runs it: ``portless run flows/field-io.json
--dev-broker --dev-plc``, with the flow's PLC and broker moved to free ports so the test
neither needs nor disturbs anything on 5020 or 1883. The simulated PLC is portless's
own (portless/dev_plc.py: pymodbus's server in the portless process)."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from portless.dev_plc import PERIOD, DevPlcError, dev_plcs, plc_units, valve_registers
from portless.devbroker import listening
from portless.runtime import Registry, load_flow
from tests.e2e.lines import running_lines
from tests.e2e.test_cli import listening_sockets
from tests.e2e.test_modbus_flow import field_flow, values
from tests.mosquitto import free_port
from tests.mqtt_client import Watcher
from tests.nodes.modbus.flows import connection, flow, read_registers, write_registers

LOOPBACK = "0100007F"
"""127.0.0.1 as /proc/net/tcp writes it."""


def position(registers: list[int]) -> float:
    """The valve position from holding registers 0-1 (float32, word order CDAB)."""
    value: float = struct.unpack(">f", struct.pack(">HH", registers[1], registers[0]))[0]
    return value


def sockets_of_tree(pid: int) -> list[str]:
    """Listening sockets of a process and its children (the dev broker's mosquitto)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [address for each in (pid, *map(int, children))
            for address in listening_sockets(each)]


def run_demo(flow_file: Path, state_dir: Path) -> subprocess.Popen[str]:
    """``portless run FLOW --dev-broker --dev-plc`` headless, its log on stderr."""
    return subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flow_file), "--dev-broker",
         "--dev-plc", "--no-editor", "--state-dir", str(state_dir)],
        stderr=subprocess.PIPE, text=True)


@pytest.mark.slow  # portless as a subprocess with its broker and PLC
@pytest.mark.broker
async def test_demo_runs_with_its_own_plc_and_broker_on_loopback(
        tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    plc_port, broker_port = free_port(), free_port()
    process = run_demo(write_flow(field_flow(plc_port, broker_port)), tmp_path / "state")
    with running_lines(process) as lines:
        assert any(f"--dev-plc: simulated PLC on 127.0.0.1:{plc_port}" in line
                                  for line in lines.seen)
        assert lines.seen[-1].endswith("headless (no listening sockets but the --dev ones "
                                       "on 127.0.0.1)")
        async with Watcher(broker_port, "plant/#", version="3.1.1") as watcher:
            await watcher.wait_for(4, "plant/level")  # the valve moves: changes reported
            levels = values(watcher, "plant/level")
            assert all(a != b for a, b in pairwise(levels))  # by exception
            assert all(10 <= v <= 90 and v * 2 == int(v * 2) for v in levels)
            # it changes in 0.1 °C steps within seconds (subscribed after the first)
            await watcher.wait_for(1, "plant/temperature", timeout=15)
            assert all(20 <= v <= 23 for v in values(watcher, "plant/temperature"))
            watcher.publish("plant/cmd", json.dumps(55))  # the command path
            # the setpoint read back; its first value (0) may come before the subscription
            await watcher.wait_until(lambda: 55 in values(watcher, "plant/setpoint"))
            assert values(watcher, "plant/setpoint")[-1] == 55
        assert await read_registers(plc_port, 5, 1) == [55]  # it reached the register
        found = sockets_of_tree(process.pid)
        assert f"{LOOPBACK}:{plc_port:04X}" in found
        assert f"{LOOPBACK}:{broker_port:04X}" in found
        assert all(address.startswith(f"{LOOPBACK}:") for address in found), found
    assert process.returncode == 0
    assert not await listening(plc_port)  # the PLC stopped with portless


def test_the_valve_moves_slowly_within_its_range() -> None:
    at = [position(valve_registers(PERIOD * step / 40)) for step in range(41)]
    assert (at[0], at[10], at[30]) == (50.0, 90.0, 10.0)
    assert all(abs(b - a) <= 7 for a, b in pairwise(at))  # slow: 1.5 s apart
    assert len(set(at)) > 20  # and it does move
    temperatures = [valve_registers(PERIOD * step / 8)[2] for step in range(41)]
    assert (min(temperatures), max(temperatures)) == (200, 230)  # 20.0 to 23.0 °C


async def test_the_plc_serves_the_valve_and_keeps_what_is_written(
        write_flow: Callable[..., Path]) -> None:
    port = free_port()
    plc = {**connection(port), "id": "plc"}
    document = flow(plc, {"id": "out", "type": "modbus-out",
                          "config": {"connection": "plc", "unit": 3,
                                     "points": [{"address": 5, "name": "sp"}]}})
    async with dev_plcs(load_flow(write_flow(document), Registry.discover())):
        assert 10 <= position(await read_registers(port, 0, 2, unit=3)) <= 90
        await write_registers(port, 5, [42], unit=3)
        assert await read_registers(port, 5, 1, unit=3) == [42]
    assert not await listening(port)


@pytest.mark.parametrize(("config", "error"), [
    ({"host": "plc.example.com"}, "node plc: --dev-plc serves only a loopback host"),
    ({"transport": "rtu", "serial_port": "/dev/ttyUSB0"},
     "node plc: --dev-plc simulates Modbus TCP only, not 'rtu'"),
])
def test_refuses_a_plc_it_cannot_be(config: dict[str, Any], error: str,
                                    write_flow: Callable[..., Path]) -> None:
    document = flow({**connection(free_port()), "id": "plc",
                     "config": {**connection(1)["config"], **config}})
    with pytest.raises(DevPlcError, match=error):
        plc_units(load_flow(write_flow(document), Registry.discover()))


async def test_refuses_a_port_in_use(write_flow: Callable[..., Path]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        document = flow(connection(port))
        with pytest.raises(DevPlcError, match=f"already listens on 127.0.0.1:{port}"):
            async with dev_plcs(load_flow(write_flow(document), Registry.discover())):
                pass
