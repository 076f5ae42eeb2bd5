"""``portless run --dev-plc``: a simulated Modbus TCP PLC on loopback for the demo and development.

Never started without the flag. For each modbus-connection node of the flow (TCP, a
loopback host) it serves pymodbus's own server on 127.0.0.1 at that node's port, for
the unit ids the flow's modbus-in and modbus-out nodes name, stopped with portless.
Every table is there (all 0) at the addresses in BLOCKS; the holding registers of
VALVE_MAP change slowly, so a report-by-exception flow has changes to report.
"""

from __future__ import annotations

import contextlib
import logging
import math
import struct
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING

from portless.devbroker import LOOPBACK_NAMES, listening
from portless.runtime import Flow

if TYPE_CHECKING:
    from pymodbus.constants import ExcCodes
    from pymodbus.simulator import SimDevice

log = logging.getLogger("portless.dev_plc")
BLOCKS = ((0, 2048), (65024, 512))
"""The addresses served in each table (start, count): the first 2,048 and the last 512;
those between answer "illegal data address". (All 65,536 take seconds to build.)"""
VALVE_MAP = ("holding registers 0-1: valve position in % (float32, word order CDAB, a "
             "60 s sine between 10 and 90, in steps of 0.5); 2: temperature in 0.1 °C "
             "(int16, 20.0 to 23.0, a 5 min sine); 5 and the rest: yours to write")
PERIOD = 60.0
"""Seconds of one valve swing: slow enough to watch, fast enough to see change."""

Action = Callable[[int, int, int, int, list[int], "list[int] | list[bool] | None"],
                  Coroutine[None, None, "ExcCodes | None"]]
"""pymodbus's SimDevice action: (function code, start address, address, count, the
table's registers (changed in place), the values written or None)."""


class DevPlcError(Exception):
    """The flow's PLC cannot be simulated (a serial line, a remote host, a port in use)."""


def plc_units(flow: Flow) -> dict[int, list[int]]:
    """Port -> unit ids of the flow's modbus-connection nodes; each must be TCP on a
    loopback host."""
    ports: dict[int, set[int]] = {}
    for spec in flow.nodes:
        if spec.type != "modbus-connection":
            continue
        if spec.config["transport"] != "tcp":
            raise DevPlcError(f"node {spec.id}: --dev-plc simulates Modbus TCP only, "
                              f"not {spec.config['transport']!r}")
        if spec.config["host"] not in LOOPBACK_NAMES:
            raise DevPlcError(
                f"node {spec.id}: --dev-plc serves only a loopback host (127.0.0.1 or "
                f"localhost), not {spec.config['host']!r}")
        units = {node.config["unit"] for node in flow.nodes
                 if node.type in ("modbus-in", "modbus-out")
                 and node.config.get("connection") == spec.id}
        ports.setdefault(spec.config["port"], set()).update(units or {1})
    return {port: sorted(units) for port, units in sorted(ports.items())}


def simulated_device(unit: int, action: Action | None = None) -> SimDevice:
    """One unit with every table (coils, discrete inputs, holding and input registers)
    at the addresses in BLOCKS, all 0; ``action`` sees each request."""
    from pymodbus.simulator import DataType, SimData, SimDevice

    def registers() -> list[SimData]:
        # values as a list, count 1: pymodbus 3.16 multiplies count in twice when it
        # checks a block, so count=2048 with one value asks for 2048**2.
        return [SimData(start, values=[0] * size, datatype=DataType.REGISTERS)
                for start, size in BLOCKS]

    def bits() -> list[SimData]:
        return [SimData(start, values=[False] * size, datatype=DataType.BITS)
                for start, size in BLOCKS]

    return SimDevice(unit, simdata=(bits(), bits(), registers(), registers()),
                     action=action)


def valve_registers(seconds: float) -> list[int]:
    """Holding registers 0-2 at ``seconds`` since start: the valve position (float32
    CDAB) and the temperature (int16, 0.1 °C)."""
    position = round((50 + 40 * math.sin(2 * math.pi * seconds / PERIOD)) * 2) / 2
    high, low = struct.unpack(">HH", struct.pack(">f", position))
    temperature = round(215 + 15 * math.sin(2 * math.pi * seconds / (5 * PERIOD)))
    return [low, high, temperature]


async def _simulate(started: float, function_code: int, start_address: int, address: int,
                    count: int, registers: list[int],
                    set_values: list[int] | list[bool] | None) -> ExcCodes | None:
    """Before a holding-register read: the valve's registers as they are now."""
    if function_code in (3, 23) and start_address == 0:
        registers[0:3] = valve_registers(time.monotonic() - started)
    return None


@contextlib.asynccontextmanager
async def dev_plcs(flow: Flow) -> AsyncIterator[None]:
    """Serve a simulated PLC on every port the flow's modbus-connection nodes use,
    while inside."""
    from pymodbus.server import ModbusTcpServer

    async with contextlib.AsyncExitStack() as stack:
        for port, units in plc_units(flow).items():
            if await listening(port):
                raise DevPlcError(f"--dev-plc: something already listens on "
                                  f"127.0.0.1:{port}; stop it or run without --dev-plc")
            action = partial(_simulate, time.monotonic())
            server = ModbusTcpServer([simulated_device(unit, action) for unit in units],
                                     address=("127.0.0.1", port))
            await server.serve_forever(background=True)
            stack.push_async_callback(server.shutdown)
            if not await listening(port):
                raise DevPlcError(f"--dev-plc: could not listen on 127.0.0.1:{port}")
            log.info("--dev-plc: simulated PLC on 127.0.0.1:%d, unit %s; %s", port,
                     ", ".join(map(str, units)), VALVE_MAP)
        yield
