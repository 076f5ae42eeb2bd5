"""Config fields that several connection nodes share, written once: the username and
password (mqtt-broker, opcua-connection) and the reconnect backoff's delays
(mqtt-broker, modbus-connection, opcua-connection; see reconnect.py)."""

from __future__ import annotations

from typing import Any


def credential_fields(none: str, max_length: int | None = None) -> dict[str, Any]:
    """``username`` (``none``: what an empty one means) and ``password``, write-only, each
    at most ``max_length`` characters if given."""
    limit = {} if max_length is None else {"maxLength": max_length}
    return {
        "username": {"title": "Username", "type": "string", "default": "", **limit,
                     "description": f"{none} Use ${{ENV}} to keep it out of the flow "
                                    f"file."},
        "password": {"title": "Password", "type": "string", "default": "", **limit,
                     "writeOnly": True,
                     "description": "Use ${ENV}; never logged, never shown back."},
    }


def reconnect_fields(first_retry: str = "the first retry",
                     maximum: float | None = None) -> dict[str, Any]:
    """``reconnect_min_delay`` (the delay before ``first_retry``) and
    ``reconnect_max_delay``, each at most ``maximum`` seconds if given."""
    limit = {} if maximum is None else {"maximum": maximum}
    return {
        "reconnect_min_delay": {"title": "First reconnect delay (s)", "type": "number",
                                "exclusiveMinimum": 0, **limit, "default": 0.5,
                                "description": f"Delay before {first_retry}; doubles "
                                               f"with each failure, with jitter."},
        "reconnect_max_delay": {"title": "Longest reconnect delay (s)", "type": "number",
                                "exclusiveMinimum": 0, **limit, "default": 30,
                                "description": "The doubling stops here."},
    }
