"""Why an MQTT connection failed or ended, in one line a user can act on.

The broker node shows these as its status and logs each change once; the codes are
CONNACK's (3.1.1 and 5).
"""

from __future__ import annotations

import socket
import ssl

from gmqtt.mqtt.handler import MQTTConnectError

_REFUSALS = {
    1: "refused: protocol version not supported", 132: "refused: protocol version not "
    "supported", 2: "refused: client id rejected", 133: "refused: client id rejected",
    3: "refused: server unavailable", 136: "refused: server unavailable",
    137: "refused: server busy", 138: "refused: banned",
    4: "refused: bad username or password", 134: "refused: bad username or password",
    # mosquitto answers a wrong password with this too, never with "bad username".
    5: "refused: not authorised (check the username and password)",
    135: "refused: not authorised (check the username and password)",
}


def describe_failure(exc: BaseException, host: str, port: int,
                     connect_timeout: float) -> str:
    """One line a user can act on, for a failed connection attempt."""
    if isinstance(exc, MQTTConnectError):
        code = getattr(exc, "_code", None)
        return _REFUSALS.get(code, f"refused: {exc.message}") if isinstance(code, int) \
            else f"refused: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return f"DNS failure: cannot resolve {host}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {host}:{port}"
    if isinstance(exc, TimeoutError):
        return f"no answer from {host}:{port} within {connect_timeout} s"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"
