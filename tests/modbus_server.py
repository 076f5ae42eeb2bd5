"""A real Modbus server for tests: pymodbus's own, in a subprocess, stopped by its PID.

Run as a script (``python -m tests.modbus_server --port P --units 1,2``) it serves
every table of each unit (coils, discrete inputs, holding and input registers at the
addresses in portless.dev_plc.BLOCKS, all 0), prints ``ready`` once it listens, and one
line per request it answers
(``request UNIT FUNCTION ADDRESS COUNT``), so a test counts what the client asked for.
``--slow UNIT:3600`` is a unit that does not answer.
``--serial DEVICE`` serves Modbus RTU on a serial device (one end of a pty pair)
instead of TCP. ``--slow UNIT:SECONDS`` delays that unit's answers; ``--readonly
UNIT:ADDRESS`` makes a holding register refuse writes (exception 4, device failure).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from portless.dev_plc import simulated_device
from portless.devbroker import die_with_parent
from tests.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ModbusServer:
    """One server process; ``start``/``stop``/``kill`` may be called repeatedly (same port)."""

    units: tuple[int, ...] = (1,)
    port: int = field(default_factory=free_port)
    serial: str = ""
    slow: dict[int, float] = field(default_factory=dict)
    readonly: dict[int, int] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    """Every line the server printed, across its restarts."""
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    def start(self, timeout: float = 20.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        command = [sys.executable, "-m", "tests.modbus_server", "--port", str(self.port),
                   "--units", ",".join(map(str, self.units))]
        if self.serial:
            command += ["--serial", self.serial]
        command += [arg for unit, seconds in self.slow.items()
                    for arg in ("--slow", f"{unit}:{seconds}")]
        command += [arg for unit, address in self.readonly.items()
                    for arg in ("--readonly", f"{unit}:{address}")]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        preexec_fn=die_with_parent)
        self._reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        self._reader.start()
        first = len(self.output)
        self._wait(lambda: "ready" in self.output[first:], timeout, "ready")

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._changed:
                self.output.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.output.append("(exited)")
            self._changed.notify_all()

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                raise AssertionError(f"modbus server: no {what} in {timeout:g} s; it "
                                     f"printed:\n" + "\n".join(self.output[-40:]))

    def requests(self) -> list[tuple[int, int, int, int]]:
        """(unit, function code, address, count) of every request answered so far."""
        with self._changed:
            return [_request(line) for line in self.output if line.startswith("request ")]

    def wait_requests(self, count: int, timeout: float = 10.0
                      ) -> list[tuple[int, int, int, int]]:
        """The requests once at least ``count`` were answered (fails after ``timeout``)."""
        self._wait(lambda: sum(line.startswith("request ") for line in self.output) >= count,
                   timeout, f"{count} requests")
        return self.requests()

    def stop(self) -> None:
        """SIGTERM by PID, as an operator stops it."""
        self._end(kill=False)

    def kill(self) -> None:
        """SIGKILL by PID: the server vanishes mid-stream."""
        self._end(kill=True)

    def _end(self, kill: bool) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill() if kill else process.terminate()
        process.wait(10)
        if self._reader is not None:
            self._reader.join(10)
        if process.stdout is not None:
            process.stdout.close()
        self.process = self._reader = None


# --- the server process ---------------------------------------------------------------
def _serve(args: argparse.Namespace) -> None:
    from pymodbus import FramerType
    from pymodbus.constants import ExcCodes
    from pymodbus.server import ModbusSerialServer, ModbusTcpServer

    slow = dict(_pair(text) for text in args.slow)
    readonly = dict(_pair(text) for text in args.readonly)

    async def action(unit: int, function_code: int, start_address: int, address: int,
                     count: int, current_registers: list[int],
                     set_values: list[int] | list[bool] | None) -> ExcCodes | None:
        if unit in slow:
            await asyncio.sleep(slow[unit])
        if set_values is not None and unit in readonly \
                and address <= readonly[unit] < address + count:
            return ExcCodes.DEVICE_FAILURE
        if function_code in (5, 6) and set_values is None:
            return None  # a single write reads its value back for the answer: not a request
        print(f"request {unit} {function_code} {address} {count}", flush=True)
        return None

    async def main() -> None:
        devices = [simulated_device(unit, partial(action, unit))
                   for unit in map(int, args.units.split(","))]
        if args.serial:
            server = ModbusSerialServer(devices, framer=FramerType.RTU, port=args.serial,
                                        baudrate=115200)
        else:
            server = ModbusTcpServer(devices, address=("127.0.0.1", args.port))
        await server.serve_forever(background=True)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _request(line: str) -> tuple[int, int, int, int]:
    unit, function, address, count = map(int, line.split()[1:5])
    return unit, function, address, count


def _pair(text: str) -> tuple[int, float]:
    unit, _, value = text.partition(":")
    return int(unit), float(value)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--units", default="1")
    parser.add_argument("--serial", default="")
    parser.add_argument("--slow", action="append", default=[])
    parser.add_argument("--readonly", action="append", default=[])
    _serve(parser.parse_args())
