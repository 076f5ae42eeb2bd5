"""One Modbus transport (a TCP socket or a serial line) through pymodbus: connect,
reconnect with backoff and jitter, every failure in words, one request at a time.
Imported when a connection starts (pymodbus costs about 60 ms to import).

pymodbus's own reconnect is turned off (``reconnect_delay=0``) so the link says why it
is down and backs off as the MQTT link does; a connect failure's reason, which pymodbus
only logs, is taken from its transport factory. pymodbus logs each timeout and refused
connection itself; the link says them once, in words, so its logger is quieted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from portless.nodes.link_state import FailureLog
from portless.nodes.modbus.modbus_reasons import EXCEPTION_WORDS, ModbusFailure, describe_failure
from portless.nodes.reconnect import Backoff
from portless.runtime import Node

log = logging.getLogger("portless.modbus")
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

ClientFactory = Callable[[Callable[[bool], None]], ModbusBaseClient]
"""Makes a pymodbus client that calls its argument on connect (True) and loss (False)."""
Request = Callable[[ModbusBaseClient], Awaitable[ModbusPDU]]


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
        self._settled = asyncio.Event()  # the first connect attempt has ended
        self._lock = asyncio.Lock()
        self._answered = False  # a request answered on this link: back off less
        self._failures = FailureLog(log, node.id)

    async def run(self, min_delay: float, max_delay: float, timeout: float) -> None:
        """Connect, stay connected until the link drops, wait, again; until cancelled."""
        backoff = Backoff(min_delay, max_delay)
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
                    backoff.reset()
                await backoff.wait()
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
        self._settled.set()
        if connected:
            self._failures.connected()
        else:
            self._failures.failed(self.where, reason)
        self._on_change()

    async def call(self, request: Request, timeout: float) -> ModbusPDU:
        """Send one request (after any before it) and return its answer; ModbusFailure
        when it cannot be sent, gets no answer, or the device answers an exception."""
        if not self._settled.is_set():  # at start: wait for the first connect, not fail
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._settled.wait()
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
