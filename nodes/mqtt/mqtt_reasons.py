"""Why an MQTT connection failed or ended, in one line a user can act on.

The broker node shows these as its status and logs each change once; the codes are
CONNACK's (3.1.1 and 5) and those of a server's DISCONNECT (MQTT 5).
"""

from __future__ import annotations

import socket
import ssl

from gmqtt.mqtt.handler import MQTTConnectError

from portless.nodes.mqtt.mqtt_link import ClosedBeforeAccepting, LinkEnding

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
    if isinstance(exc, ClosedBeforeAccepting):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {host}:{port}"
    if isinstance(exc, TimeoutError):
        return f"no answer from {host}:{port} within {connect_timeout} s"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


SESSION_TAKEN_OVER = 0x8E

_DISCONNECTS = {
    0x81: "the broker found a malformed packet", 0x82: "protocol error",
    0x87: "not authorised", 0x89: "server busy", 0x8B: "the broker is shutting down",
    0x8D: "the broker's keepalive timed out", 0x93: "receive maximum exceeded",
    0x95: "packet too large for the broker", 0x97: "quota exceeded",
    0x98: "administrative action", 0x9C: "use another server", 0x9D: "server moved",
    0x9F: "connection rate exceeded", 0xA0: "maximum connect time",
}


QUICK_CLOSE = 10.0
"""A link the broker closes sooner than this after accepting it, without a reason, counts
towards "closed right after connecting, again"."""


def closed_quickly(ending: LinkEnding, up_for: float) -> bool:
    """The broker closed the link soon after accepting it and said nothing: what
    mosquitto does (also over MQTT 5) when another client takes the client id."""
    return (ending.closed_by_broker and not ending.reason and not ending.reason_code
            and up_for < QUICK_CLOSE)


def describe_ending(ending: LinkEnding, client_id: str, up_for: float,
                    quick_closes: int) -> str:
    """One line for a connection that was up (``up_for`` seconds) and ended, the
    ``quick_closes``-th in a row that ``closed_quickly``."""
    if ending.reason_code == SESSION_TAKEN_OVER:
        return (f"another client connected with the same client id {client_id}; "
                f"backing off")
    if ending.reason:
        return f"disconnected: {ending.reason}"
    if ending.reason_code:  # 0 is a normal disconnection, which says nothing more
        reason = _DISCONNECTS.get(ending.reason_code, f"reason code {ending.reason_code:#x}")
        return f"disconnected by the broker: {reason}"
    if quick_closes >= 2:
        return (f"disconnected by the broker {up_for:.1f} s after connecting, "
                f"{quick_closes} times in a row, without a reason: is another client "
                f"using the client id {client_id}? backing off")
    return "disconnected"
