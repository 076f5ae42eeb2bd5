"""TLS for an outbound connection (mqtt-broker, http-request): one config schema and one
context builder, with verification on by default, a CA file, a client certificate, and
the name to expect in the peer's certificate."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any

from portless.runtime import Node

log = logging.getLogger("portless.tls")


def tls_schema(peer: str, plain: str) -> dict[str, Any]:
    """The ``tls`` config field: false for ``plain`` (the words for no TLS), or the TLS
    settings for a connection to ``peer`` (\"broker\", \"server\")."""
    return {
        "title": "TLS", "default": False, "x-destination": True,
        "description": f"false for {plain}, or the TLS settings. Certificates are "
                       f"verified by default.",
        "oneOf": [
            {"const": False},
            {"type": "object", "additionalProperties": False, "properties": {
                "ca_file": {"title": "CA file", "type": "string", "default": "",
                            "description": f"PEM file of the CA that signed the {peer}'s "
                                           f"certificate; empty: the system's CAs."},
                "cert_file": {"title": "Client certificate", "type": "string",
                              "default": "",
                              "description": f"PEM client certificate, if the {peer} "
                                             f"asks for one."},
                "key_file": {"title": "Client key", "type": "string", "default": "",
                             "description": "Its private key."},
                "verify": {"title": "Verify certificate", "type": "boolean",
                           "default": True,
                           "description": "Turning this off is for tests only; it logs a "
                                          "loud warning."},
                "server_name": {"title": "Server name", "type": "string", "default": "",
                                "description": f"Name to expect in the {peer}'s "
                                               f"certificate; empty: the host."},
            }},
        ],
    }


def make_ssl_context(tls: Any, node: Node) -> ssl.SSLContext | None:
    """The TLS context for a node's ``tls`` config (None for plain TCP)."""
    if not tls:
        return None
    context = _ServerNameContext(ssl.PROTOCOL_TLS_CLIENT)
    context.server_name = tls["server_name"] or None
    if tls["ca_file"]:
        _load("tls.ca_file", tls["ca_file"],
              lambda: context.load_verify_locations(cafile=tls["ca_file"]))
    else:
        context.load_default_certs()
    if tls["cert_file"]:
        _load("tls.cert_file", tls["cert_file"],
              lambda: context.load_cert_chain(tls["cert_file"], tls["key_file"] or None))
    if not tls["verify"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        log.warning("node %s: TLS CERTIFICATE VERIFICATION IS OFF: anyone on the path can "
                    "read and change this connection. Use it for tests only.", node.id)
        node.warn("TLS certificate verification is off")
    return context


def _load(field: str, path: str, load: Callable[[], None]) -> None:
    """Load a certificate file; a failure names the field and the file."""
    try:
        load()
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{field} {path}: {exc.strerror or exc}") from None


class _ServerNameContext(ssl.SSLContext):
    """Checks the certificate against ``server_name`` instead of the host connected to
    (gmqtt passes no ``server_hostname``), for peers reached by address or tunnel."""

    server_name: str | None = None

    def wrap_bio(self, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                 server_side: bool = False, server_hostname: str | bytes | None = None,
                 session: ssl.SSLSession | None = None) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side,
                                self.server_name or server_hostname, session)
