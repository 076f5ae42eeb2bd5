"""Why a Modbus request or connection failed, in words; without pymodbus, so the node
modules load without it (it is imported when a connection starts: about 60 ms)."""

from __future__ import annotations

import asyncio
import errno
import socket

EXCEPTION_WORDS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                   4: "device failure", 5: "acknowledge (still working)", 6: "device busy",
                   7: "negative acknowledge", 8: "memory parity error",
                   10: "gateway path unavailable", 11: "gateway target did not respond"}
"""Modbus exception codes (application protocol 7), as a device answers them."""


class ModbusFailure(Exception):
    """A request that did not get its answer; ``reason`` in words. ``answered``: the
    device answered with an exception (it is there, it refused); ``timeout``: no answer."""

    def __init__(self, reason: str, answered: bool = False, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.answered = answered
        self.timeout = timeout


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
