"""modbus-connection against a real pymodbus server: a unit that does not answer while
another keeps its rate, and the server killed and restarted (reconnect, quality bad
then good, the status in words)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from portless.testing import FlowHarness
from tests.modbus_server import ModbusServer
from tests.nodes.modbus.flows import (
    connection,
    first_message,
    flow,
    poll,
    status_text,
    write_registers,
)

pytestmark = pytest.mark.slow  # server subprocesses, killed and restarted


async def test_a_unit_that_does_not_answer_never_delays_another(
        modbus_factory: Callable[..., ModbusServer]) -> None:
    server = modbus_factory(units=(1, 3), slow={3: 3600})  # unit 3 never answers
    points = [{"name": "level", "address": 0}]
    document = flow(connection(server.port, timeout=0.5, retries=1),
                    poll("alive", points, unit=1, interval=0.1),
                    poll("dead", points, unit=3, interval=0.1))
    async with FlowHarness(document) as h:
        await h.wait_for("alive", 1)
        dead = (await h.wait_for("dead", 1, timeout=5))[0]
        await status_text(h, "plc", "timeout unit 3")
        await status_text(h, "dead", "timeout unit 3")
        # while unit 3 keeps timing out (0.5 s, twice), unit 1 is read every 0.1 s
        loop = asyncio.get_running_loop()
        start, seen = loop.time(), len(h.received("alive"))
        await h.wait_for("alive", seen + 20, timeout=5)
        took = loop.time() - start
        qualities = {m["quality"] for m in h.received("alive")}
        dead_messages = h.received("dead")
    assert dead["payload"] is None
    assert dead["quality"] == "bad: no answer in 0.5 s"
    assert took < 20 * 0.1 * 1.5, f"20 polls of unit 1 took {took:.2f} s"
    assert qualities == {"good"}
    assert len(dead_messages) == 1  # bad once, not at every poll


async def test_server_killed_and_restarted(
        modbus_factory: Callable[..., ModbusServer]) -> None:
    server = modbus_factory(units=(1,))
    await write_registers(server.port, 0, [42])
    document = flow(connection(server.port), poll("group", [{"name": "level", "address": 0}],
                                                  interval=0.1))
    async with FlowHarness(document) as h:
        await status_text(h, "plc", "connected")
        assert (await h.wait_for("group", 1))[0]["quality"] == "good"
        mark, count = len(h.events), len(h.received("group"))
        server.kill()  # mid-stream: the socket is gone without a goodbye
        bad = await h.wait_event(lambda e: e.node_id == "group" and e.kind == "status"
                                 and e.data.get("fill") == "red", since=mark)
        await status_text(h, "plc", "connection refused", since=mark)
        await status_text(h, "group", "connection refused", since=mark)
        lost = await first_message(h, "group", lambda m: m["quality"] != "good", count)
        assert lost["payload"] is None
        assert lost["quality"] in ("bad: connection lost", "bad: connection refused")
        mark = len(h.events)
        count = len(h.received("group"))
        server.start()
        await write_registers(server.port, 0, [43])
        await status_text(h, "plc", "connected", since=mark)
        back = await h.wait_for("group", count + 1)
        reasons = [m["quality"] for m in h.received("group") if m["quality"] != "good"]
    assert bad.data["text"] in ("connection lost", "connection refused")
    assert back[count]["quality"] == "good"
    assert back[count]["payload"] in (0, 43)
    # bad was said once per reason, not at every poll while the server was away
    assert len(reasons) == len(set(reasons))


async def test_status_says_why_it_cannot_connect() -> None:
    from tests.mosquitto import free_port
    port = free_port()  # nothing listens there
    document = flow(connection(port), poll("group", [{"name": "level", "address": 0}]))
    async with FlowHarness(document) as h:
        await status_text(h, "plc", "connection refused")
        first = (await h.wait_for("group", 1))[0]
    assert first["quality"] == "bad: connection refused"


async def test_a_serial_port_that_is_missing(tmp_path: Any) -> None:
    missing = str(tmp_path / "ttyUSB9")
    plc = connection(502, transport="rtu", serial_port=missing)
    document = flow(plc, poll("group", [{"name": "level", "address": 0}]))
    async with FlowHarness(document) as h:
        await status_text(h, "plc", f"serial port {missing} missing")
