"""modbus-connection: one Modbus device (TCP, or RTU over a serial line), shared by the
modbus-in and modbus-out nodes that name it.

Each unit id has a queue of its own: over TCP its own socket (so a unit that does not
answer behind a gateway holds up nothing but itself), over RTU the line's turn. A unit
that does not answer is then left alone for a while (a backoff, doubling like the
reconnect's), so on a serial line it costs the others one timeout per try, not one per
poll. The state of each unit (connected, or why not) is what its nodes show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from portless.nodes.connection_fields import reconnect_fields
from portless.nodes.link_state import CONNECTED, LinkState, StateListener, StateListeners
from portless.nodes.modbus.modbus_reasons import ModbusFailure
from portless.nodes.modbus.modbus_types import MAX_READ_BITS, MAX_READ_REGISTERS
from portless.nodes.reconnect import Backoff
from portless.runtime import Node

if TYPE_CHECKING:  # pymodbus is imported when a connection starts (modbus_link.py)
    from pymodbus.client.base import ModbusBaseClient

    from portless.nodes.modbus.modbus_link import Link, Request

BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]
PARITY = {"none": "N", "even": "E", "odd": "O"}


class _Unit(StateListeners):
    """One unit id: its link, whether it answers, its state and who listens."""

    def __init__(self, unit: int, link: Link, backoff: Backoff) -> None:
        super().__init__()
        self.unit = unit
        self.link = link
        self.lock = asyncio.Lock()  # the unit's queue: one request at a time, in order
        self.silent_until = 0.0  # while it does not answer, no request before this
        self.silence = 0.0  # the current backoff
        self.backoff = backoff  # the silences after the next timeouts


class ModbusConnection(Node):
    type = "modbus-connection"
    category = "network"
    color = "#e2d96e"
    icon = "bridge"
    inputs = 0
    outputs = 0
    shared = True
    schema = {
        "title": "Modbus connection",
        "description": (
            "One Modbus device as a client: Modbus TCP (host, port) or Modbus RTU over a "
            "serial line (RS-485), shared by the modbus-in and modbus-out nodes that name "
            "it. The device is the server; portless listens on nothing. Reconnects with "
            "backoff and says why it is down (\"connection refused\", \"timeout unit 3\", "
            "\"serial port /dev/ttyUSB0 missing\"). Each unit id has its own queue (over "
            "TCP its own socket), so a unit that does not answer never delays the others; "
            "it is tried again after a backoff. Over TCP, after a few unanswered requests "
            "in a row the socket is closed and opened again (a device that vanished "
            "without closing it)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "transport": {"title": "Transport", "enum": ["tcp", "rtu"], "default": "tcp",
                          "description": "tcp: Modbus TCP; rtu: Modbus RTU on a serial port."},
            "host": {"title": "Host", "type": "string", "default": "", "maxLength": 253,
                     "x-destination": True,
                     "description": "TCP: the device's host name or address."},
            "port": {"title": "Port", "type": "integer", "minimum": 1, "maximum": 65535,
                     "default": 502, "x-destination": True, "description": "TCP port."},
            "serial_port": {"title": "Serial port", "type": "string", "default": "",
                            "maxLength": 4096, "pattern": "^(/[^\\u0000-\\u001f]*)?$",
                            "x-error": "must be the path of a serial device, such as "
                                       "/dev/ttyUSB0",
                            "description": "RTU: the serial device, e.g. /dev/ttyUSB0."},
            "baud_rate": {"title": "Baud rate", "enum": BAUD_RATES, "default": 9600,
                          "description": "RTU: bits per second."},
            "parity": {"title": "Parity", "enum": list(PARITY), "default": "even",
                       "description": "RTU: even is the Modbus default."},
            "data_bits": {"title": "Data bits", "enum": [7, 8], "default": 8,
                          "description": "RTU: 8 (Modbus RTU is 8 bits)."},
            "stop_bits": {"title": "Stop bits", "enum": [1, 2], "default": 1,
                          "description": "RTU: 1 with parity, 2 without (the standard)."},
            "frame_gap": {"title": "Gap between frames (s)", "type": "number", "minimum": 0,
                          "maximum": 1, "default": 0,
                          "description": "RTU: quiet time after each answer before the "
                                         "next request, for devices that need at least "
                                         "3.5 characters of silence (4 ms at 9,600 baud) "
                                         "or more; 0: the next request goes as soon as "
                                         "the answer is in."},
            "timeout": {"title": "Request timeout (s)", "type": "number",
                        "exclusiveMinimum": 0, "maximum": 60, "default": 1,
                        "description": "Wait this long for an answer (and for a TCP "
                                       "connection)."},
            "retries": {"title": "Retries", "type": "integer", "minimum": 0, "maximum": 10,
                        "default": 1,
                        "description": "Send an unanswered request again this many times."},
            **reconnect_fields("the first retry of a connection, or of a unit that did "
                               "not answer"),
            "max_read_registers": {"title": "Registers per read", "type": "integer",
                                   "minimum": 1, "maximum": MAX_READ_REGISTERS,
                                   "default": MAX_READ_REGISTERS,
                                   "description": "Most registers one read asks for "
                                                  "(Modbus allows 125; some devices "
                                                  "fewer)."},
            "max_read_bits": {"title": "Coils per read", "type": "integer", "minimum": 1,
                              "maximum": MAX_READ_BITS, "default": MAX_READ_BITS,
                              "description": "Most coils or discrete inputs one read asks "
                                             "for (Modbus allows 2,000)."},
        },
    }

    @classmethod
    def config_errors(cls, config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        if config["transport"] == "tcp" and not config["host"]:
            yield "/host", "a TCP connection needs a host"
        if config["transport"] == "rtu" and not config["serial_port"]:
            yield "/serial_port", "an RTU connection needs a serial port"
        if config["reconnect_max_delay"] < config["reconnect_min_delay"]:
            yield "/reconnect_max_delay", "must be at least the first reconnect delay"

    async def start(self) -> None:
        self._units: dict[int, _Unit] = {}
        self._links: dict[int | None, Link] = {}
        self.write_lock = asyncio.Lock()
        """One write at a time on this connection (modbus-out nodes take it)."""
        config = self.config
        self.max_read = {"registers": config["max_read_registers"],
                         "bits": config["max_read_bits"]}
        self.where = (config["serial_port"] if config["transport"] == "rtu"
                      else f"{config['host']}:{config['port']}")

    async def stop(self) -> None:
        await self._release()  # the link loops close their clients as they end

    # --- what modbus-in and modbus-out call --------------------------------------------
    def attach(self, unit: int, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every change of the unit's state (and now, once)."""
        return self._unit(unit).add_listener(listener)

    async def read(self, unit: int, table: str, address: int, count: int
                   ) -> Sequence[int] | Sequence[bool]:
        """The registers (or bits) at address..address+count-1; ModbusFailure if not."""
        def request(client: ModbusBaseClient) -> Any:
            call = {"coil": client.read_coils, "discrete-input": client.read_discrete_inputs,
                    "holding-register": client.read_holding_registers,
                    "input-register": client.read_input_registers}[table]
            return call(address, count=count, device_id=unit)

        response = await self.call(unit, request)
        values: Sequence[int] | Sequence[bool] = (
            response.bits if table in ("coil", "discrete-input") else response.registers)
        return values[:count]

    async def write(self, unit: int, table: str, address: int,
                    values: Sequence[int] | bool, always_multiple: bool = False) -> None:
        """Write a coil (a bool) or registers, confirmed by the device's answer."""
        def request(client: ModbusBaseClient) -> Any:
            if isinstance(values, bool):
                if always_multiple:
                    return client.write_coils(address, [values], device_id=unit)
                return client.write_coil(address, values, device_id=unit)
            if len(values) == 1 and not always_multiple:
                return client.write_register(address, values[0], device_id=unit)
            return client.write_registers(address, list(values), device_id=unit)

        await self.call(unit, request)

    async def call(self, unit: int, request: Request) -> Any:
        """Send one request to ``unit`` through its queue; ModbusFailure if unanswered."""
        state = self._unit(unit)
        loop = asyncio.get_running_loop()
        async with state.lock:
            if loop.time() < state.silent_until:
                # the words of the timeout it is waiting out, so a quality stays as it is
                raise ModbusFailure(f"no answer in {self.config['timeout']:g} s", timeout=True)
            try:
                response = await state.link.call(request, self.config["timeout"])
            except ModbusFailure as failure:
                if failure.timeout:
                    self._silent(state)
                raise
            if state.silence:
                state.silence = state.silent_until = 0.0
                state.backoff.reset()
                self._show()
            return response

    # --- units, links and what they show -------------------------------------------------
    def _unit(self, unit: int) -> _Unit:
        found = self._units.get(unit)
        if found is None:
            backoff = Backoff(self.config["reconnect_min_delay"],
                              self.config["reconnect_max_delay"])
            found = self._units[unit] = _Unit(unit, self._link(unit), backoff)
            self._show()
        return found

    def _link(self, unit: int) -> Link:
        config = self.config
        key = unit if config["transport"] == "tcp" else None
        link = self._links.get(key)
        if link is None:
            from portless.nodes.modbus.modbus_link import Link  # pymodbus: lazily
            link = self._links[key] = Link(self, self._client,
                                           self.where, self._show, config["frame_gap"])
            self.spawn(link.run(config["reconnect_min_delay"], config["reconnect_max_delay"],
                                config["timeout"]), f"link {key or 'rtu'}")
        return link

    def _client(self, on_connect: Callable[[bool], None]) -> ModbusBaseClient:
        from pymodbus import FramerType
        from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

        config = self.config
        common: dict[str, Any] = {"timeout": config["timeout"], "retries": config["retries"],
                                  "reconnect_delay": 0, "trace_connect": on_connect}
        if config["transport"] == "rtu":
            return AsyncModbusSerialClient(
                config["serial_port"], framer=FramerType.RTU, baudrate=config["baud_rate"],
                bytesize=config["data_bits"], parity=PARITY[config["parity"]],
                stopbits=config["stop_bits"], **common)
        return AsyncModbusTcpClient(config["host"], port=config["port"], **common)

    def _silent(self, state: _Unit) -> None:
        """The unit did not answer: leave it alone for a while, doubling each time."""
        state.silence = state.backoff.step()
        state.silent_until = asyncio.get_running_loop().time() + state.silence
        self._show()

    def _show(self) -> None:
        """Tell each unit's nodes its state, and show the connection's worst one."""
        for unit in self._units.values():
            unit.set(_state_of(unit))
        links = list(self._links.values())
        down = [link for link in links if not link.connected]
        silent = sorted(unit for unit, state in self._units.items() if state.silence)
        if down:
            self.status("red" if down[0].reason != "connecting" else "yellow",
                        down[0].reason, "ring")
        elif silent:
            self.status("red", ("timeout unit " if len(silent) == 1 else "timeout units ")
                        + ", ".join(map(str, silent)), "ring")
        elif links:
            self.status("green", "connected")


def _state_of(unit: _Unit) -> LinkState:
    link = unit.link
    if not link.connected:
        return LinkState("yellow" if link.reason == "connecting" else "red", link.reason)
    if unit.silence:
        return LinkState("red", f"timeout unit {unit.unit}", connected=True)
    return CONNECTED
