"""Modbus RTU through a pseudo-terminal pair (socat links two ptys: pymodbus's serial
server on one end, portless on the other), so real RTU framing (CRC, unit ids on one
line) crosses a real serial device. A pty ignores the baud rate, so timing on a real
RS-485 line (3.5 character gaps at 9,600 baud) is not what this measures."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portless.devbroker import die_with_parent
from portless.testing import FlowHarness
from tests.conftest import require_program
from tests.modbus_server import ModbusServer
from tests.nodes.modbus.flows import first_message, flow, poll, status_text

pytestmark = pytest.mark.slow  # socat and a server subprocess


@pytest.fixture
def serial_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two linked pseudo-terminals (the PLC's end, portless's end), by socat."""
    require_program("/usr/bin/socat", "socat", "sudo apt install socat")
    ends = tmp_path / "plc", tmp_path / "portless"
    process = subprocess.Popen(
        ["socat", "-d", "-d", *(f"pty,raw,echo=0,link={end}" for end in ends)],
        stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
    assert process.stderr is not None
    for line in process.stderr:  # socat says when both ends are there
        if "starting data transfer loop" in line:
            break
    else:
        raise AssertionError(f"socat exited ({process.wait()})")
    yield str(ends[0]), str(ends[1])
    process.kill()
    process.wait(10)
    process.stderr.close()


def rtu(serial_port: str, **config: Any) -> dict[str, Any]:
    return {"id": "plc", "type": "modbus-connection",
            "config": {"transport": "rtu", "serial_port": serial_port, "baud_rate": 115200,
                       "parity": "none", "timeout": 0.3, "retries": 0,
                       "reconnect_min_delay": 0.1, "reconnect_max_delay": 0.5, **config}}


def writer(node_id: str, unit: int, point: dict[str, Any]) -> dict[str, Any]:
    return {"id": node_id, "type": "modbus-out",
            "config": {"connection": "plc", "unit": unit, "points": [point]}}


async def test_units_on_one_line_written_and_read(
        serial_pair: tuple[str, str], modbus_factory: Callable[..., ModbusServer]) -> None:
    plc_end, our_end = serial_pair
    server = modbus_factory(units=(1, 2), serial=plc_end)
    level = {"name": "level", "address": 0, "type": "float32", "order": "CDAB"}
    count = {"name": "count", "address": 0, "type": "int32"}
    document = flow(rtu(our_end, frame_gap=0.002),
                    writer("write-1", 1, level), writer("write-2", 2, count),
                    poll("read-1", [level], unit=1, interval=0.05),
                    poll("read-2", [count], unit=2, interval=0.05))
    async with FlowHarness(document) as h:
        await status_text(h, "plc", "connected")
        h.inject("write-1", {"payload": 12.5})
        h.inject("write-2", {"payload": -70000})
        one = await first_message(h, "read-1", lambda m: m["payload"] == 12.5)
        two = await first_message(h, "read-2", lambda m: m["payload"] == -70000)
    assert one["quality"] == two["quality"] == "good"
    assert (1, 16, 0, 2) in server.requests()  # the write, framed for unit 1
    assert (2, 16, 0, 2) in server.requests()


async def test_a_silent_unit_on_the_line_and_the_plc_restarted(
        serial_pair: tuple[str, str], modbus_factory: Callable[..., ModbusServer]) -> None:
    plc_end, our_end = serial_pair
    server = modbus_factory(units=(1, 3), slow={3: 3600}, serial=plc_end)
    point = [{"name": "level", "address": 0}]
    document = flow(rtu(our_end), poll("alive", point, unit=1, interval=0.05),
                    poll("dead", point, unit=3, interval=0.05))
    async with FlowHarness(document) as h:
        dead = await first_message(h, "dead", lambda m: True)
        await status_text(h, "plc", "timeout unit 3")
        # unit 1 goes on answering on the same line while unit 3 is waited out; each
        # try of unit 3 holds the line for its timeout, so unit 1 may be stale meanwhile
        # (never bad)
        seen = len(h.received("alive"))
        await h.wait_for("alive", seen + 10)
        assert {m["quality"] for m in h.received("alive")} <= {"good", "stale"}
        # the PLC vanishes: the serial line stays, so unit 1 times out too
        server.kill()
        gone = await first_message(h, "alive", lambda m: m["quality"].startswith("bad"))
        await status_text(h, "alive", "timeout unit 1")
        server.start()
        back = await first_message(h, "alive", lambda m: m["quality"] == "good",
                                   since=len(h.received("alive")))
    assert dead["quality"] == "bad: no answer in 0.3 s"
    assert gone["quality"] == "bad: no answer in 0.3 s"
    assert back["payload"] == 0
