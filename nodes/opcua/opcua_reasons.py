"""Why an OPC UA connection failed or ended, in words a user can act on."""

from __future__ import annotations

import re
import socket
from typing import Any

from asyncua import ua
from asyncua.ua.uaerrors import UaStatusCodeError

from portless.nodes.opcua.opcua_session import NoEndpoint, UntrustedServer

_CREDENTIALS = {"BadUserAccessDenied", "BadIdentityTokenRejected", "BadIdentityTokenInvalid",
                "BadUserSignatureInvalid"}
_OUR_CERTIFICATE = {"BadSecurityChecksFailed", "BadCertificateUntrusted",
                    "BadCertificateInvalid", "BadCertificateUriInvalid",
                    "BadCertificateUseNotAllowed", "BadCertificateTimeInvalid"}


def status_words(name: str) -> str:
    """``BadNodeIdUnknown`` as ``node id unknown``: a status code's name in words."""
    words = re.sub(r"^(Bad|Uncertain|Good)", "", name)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", words)
    return words.lower() or name.lower()


def status_name(exc: BaseException) -> str | None:
    """The status code name an asyncua error carries, if any."""
    code = getattr(exc, "code", None)
    if isinstance(exc, UaStatusCodeError) and isinstance(code, int):
        return ua.StatusCode(ua.UInt32(code)).name
    return None


def describe_failure(exc: BaseException, config: dict[str, Any]) -> str:
    """A failed connection attempt in words."""
    where = config["endpoint"]
    if isinstance(exc, UntrustedServer | NoEndpoint):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused ({where})"
    if isinstance(exc, socket.gaierror):
        return f"host not found ({where})"
    if isinstance(exc, TimeoutError):
        return f"no answer within {config['connect_timeout']:g} s ({where})"
    name = status_name(exc)
    if name in _CREDENTIALS:
        return (f"username or password refused ({name})" if config["username"]
                else f"the server refuses anonymous sessions ({name}): set a username")
    if name in _OUR_CERTIFICATE:
        return (f"the server refused this client's certificate ({name}): add it to the "
                f"server's trusted certificates")
    if name is not None:
        return f"{status_words(name)} ({name})"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({where})"
    return f"{type(exc).__name__}: {exc}"[:200]


def describe_error(exc: BaseException) -> str:
    """A failed request in words: its status code, or the exception."""
    name = status_name(exc)
    if name is not None:
        return f"{status_words(name)} ({name})"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return (str(exc) or type(exc).__name__)[:200]


def describe_ending(exc: BaseException | None) -> str:
    """Why a connected session ended."""
    if exc is None:
        return "connection lost"
    return f"connection lost: {describe_error(exc)}"
