"""TLS for the broker connection: verification on by default, a CA file, a client
certificate, and the name to expect in the broker's certificate."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any

from portless.runtime import Node

log = logging.getLogger("portless.mqtt")


def make_ssl_context(tls: Any, node: Node) -> ssl.SSLContext | None:
    """The TLS context for the broker's ``tls`` config (None for plain TCP)."""
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
    (gmqtt passes no ``server_hostname``), for brokers reached by address or tunnel."""

    server_name: str | None = None

    def wrap_bio(self, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                 server_side: bool = False, server_hostname: str | bytes | None = None,
                 session: ssl.SSLSession | None = None) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side,
                                self.server_name or server_hostname, session)
