"""One Modbus transport (a TCP socket or a serial line) through pymodbus: connect,
reconnect with backoff and jitter, every failure in words, one request at a time.

pymodbus's own reconnect is turned off (``reconnect_delay=0``) so the link says why it
is down and backs off as the MQTT link does; a connect failure's reason, which pymodbus
only logs, is taken from its transport factory. pymodbus logs each timeout and refused
connection itself; the link says them once, in words, so its logger is quieted.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from portless.runtime import Node

log = logging.getLogger("portless.modbus")
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

EXCEPTION_WORDS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                   4: "device failure", 5: "acknowledge (still working)", 6: "device busy",
                   7: "negative acknowledge", 8: "memory parity error",
                   10: "gateway path unavailable", 11: "gateway target did not respond"}
"""Modbus exception codes (application protocol 7), as a device answers them."""

ClientFactory = Callable[[Callable[[bool], None]], ModbusBaseClient]
"""Makes a pymodbus client that calls its argument on connect (True) and loss (False)."""
Request = Callable[[ModbusBaseClient], Awaitable[ModbusPDU]]


class ModbusFailure(Exception):
    """A request that did not get its answer; ``reason`` in words. ``answered``: the
    device answered with an exception (it is there, it refused)."""

    def __init__(self, reason: str, answered: bool = False, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.answered = answered
        self.timeout = timeout


class Link:
    """A pymodbus client kept connected: ``run`` is its connection loop (a task of the
    connection node), ``call`` sends one request and waits for its answer."""

    def __init__(self, node: Node, make_client: ClientFactory, where: str,
                 on_change: Callable[[], None], frame_gap: float = 0.0) -> None:
        self.node = node
        self.where = where  # host:port or the serial port, for the log and the words
        self.connected = False
        self.reason = "connecting"
        self._make_client = make_client
        self._on_change = on_change
        self._frame_gap = frame_gap
        self._client: ModbusBaseClient | None = None
        self._lost = asyncio.Event()
        self._lock = asyncio.Lock()
        self._answered = False  # a request answered on this link: back off less
        self._reported = ""

    async def run(self, min_delay: float, max_delay: float, timeout: float) -> None:
        """Connect, stay connected until the link drops, wait, again; until cancelled."""
        delay = min_delay
        try:
            while True:
                self._lost.clear()
                self._answered = False
                client = self._make_client(self._on_connect)
                failure = _record_failure(client)
                self._client = client
                if await client.connect():
                    self._set(True, "connected")
                    log.info("node %s: connected to %s", self.node.id, self.where)
                    await self._lost.wait()
                    self._set(False, "connection lost")
                else:
                    self._set(False, describe_failure(failure, self.where, timeout))
                client.close()
                self._client = None
                if self._answered:
                    delay = min_delay
                await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))  # equal jitter
                delay = min(delay * 2, max_delay)
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None
            self.connected = False

    def _on_connect(self, up: bool) -> None:
        if not up:
            self._lost.set()

    def _set(self, connected: bool, reason: str) -> None:
        self.connected, self.reason = connected, reason
        if not connected and reason != self._reported:
            self._reported = reason
            log.warning("node %s: %s: %s", self.node.id, self.where, reason)
        elif connected:
            self._reported = ""
        self._on_change()

    async def call(self, request: Request, timeout: float) -> ModbusPDU:
        """Send one request (after any before it) and return its answer; ModbusFailure
        when it cannot be sent, gets no answer, or the device answers an exception."""
        async with self._lock:
            client = self._client
            if client is None or not self.connected:
                raise ModbusFailure(self.reason if self.reason != "connected"
                                    else "connection lost")
            try:
                response = await request(client)
            except ModbusIOException as exc:
                if "No response" in str(exc):
                    raise ModbusFailure(f"no answer in {timeout:g} s", timeout=True) from None
                raise ModbusFailure(f"bad answer: {exc}") from None
            except ConnectionException:
                raise ModbusFailure("connection lost") from None
            finally:
                if self._frame_gap:
                    await asyncio.sleep(self._frame_gap)  # the line's quiet time
        if response.isError():
            code = getattr(response, "exception_code", 0)
            raise ModbusFailure(EXCEPTION_WORDS.get(code, f"exception {code}"), answered=True)
        self._answered = True
        return response


def _record_failure(client: ModbusBaseClient) -> list[BaseException]:
    """Keep the exception of a failed connect, which pymodbus swallows (and logs)."""
    failures: list[BaseException] = []
    context: Any = client.ctx
    create = context.call_create

    async def recorded() -> Any:
        try:
            return await create()
        except BaseException as exc:
            failures.append(exc)
            raise

    context.call_create = recorded
    return failures


def describe_failure(failures: list[BaseException], where: str, timeout: float) -> str:
    """Why a connect failed, in words: "connection refused", "serial port X missing"."""
    exc = failures[-1] if failures else TimeoutError()
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"host not found ({where})"
    if isinstance(exc, TimeoutError | asyncio.CancelledError):
        return f"no connection in {timeout:g} s"
    code = getattr(exc, "errno", None)
    if where.startswith("/") and code == errno.ENOENT:
        return f"serial port {where} missing"
    if code == errno.EACCES:
        return f"{where}: permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if not where.startswith("/") else f"{where}: {exc.strerror}"
    return f"cannot connect: {exc}"
