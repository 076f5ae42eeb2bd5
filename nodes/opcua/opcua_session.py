"""One asyncua client session, built from an opcua-connection's config: security
policy and mode, the client certificate, the server's certificate checked against the
trust list before anything is sent to it, username and password, timeouts."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto import security_policies, uacrypto
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portless.nodes.opcua.opcua_trust import TrustList
from portless.runtime import Node

log = logging.getLogger("portless.opcua")

# asyncua narrates every publish at INFO and every outage at WARNING and ERROR (with
# tracebacks). The connection node says what matters once per change of its state, so
# asyncua's own lines are kept out of the device's log unless critical.
logging.getLogger("asyncua").setLevel(logging.CRITICAL)

MODES = {"Sign": ua.MessageSecurityMode.Sign,
         "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt}


class UntrustedServer(Exception):
    """The server's certificate is not in the trust list (the text says which it is)."""


class NoEndpoint(Exception):
    """The server offers no endpoint with the configured policy and mode."""


@dataclass(frozen=True)
class Security:
    """The loaded Basic256Sha256 settings: our certificate and key, whom to trust."""

    mode: ua.MessageSecurityMode
    mode_name: str
    certificate: x509.Certificate
    private_key: Any
    application_uri: str
    trust: TrustList | None  # None: verification turned off


class SessionFactory:
    """Makes a fresh Session for every connection attempt from one loaded config."""

    def __init__(self, config: dict[str, Any], security: Security | None) -> None:
        self.config = config
        self.security = security

    @classmethod
    async def load(cls, config: dict[str, Any], node: Node) -> SessionFactory:
        """Read the certificate, key and trust files once, at start; a file that cannot
        be read is an error naming its field."""
        settings = config["security"]
        if not settings:
            if config["password"]:
                node.warn("security is None: the password is sent unencrypted unless the "
                          "server encrypts the user token; use Basic256Sha256")
            return cls(config, None)
        certificate = _read("security.certificate_file", settings["certificate_file"],
                            _certificate)
        password = settings["private_key_password"].encode() or None
        private_key = _read("security.private_key_file", settings["private_key_file"],
                            lambda data: _private_key(data, password))
        trust = None
        if settings["verify"]:
            trust = TrustList.load(Path(settings["trust"]), "security.trust")
        else:
            log.warning("node %s: OPC UA SERVER CERTIFICATE VERIFICATION IS OFF: anyone on "
                        "the path can pose as the server and read what is sent. Use it "
                        "for tests only.", node.id)
            node.warn("server certificate verification is off")
        return cls(config, Security(MODES[settings["mode"]], settings["mode"], certificate,
                                    private_key, _application_uri(certificate), trust))

    def new(self) -> Session:
        return Session(self.config, self.security)


class Session:
    """One connection attempt and, once open, the session it gives."""

    def __init__(self, config: dict[str, Any], security: Security | None) -> None:
        self.config = config
        self.security = security
        self.client = Client(config["endpoint"], timeout=config["request_timeout"],
                             watchdog_intervall=config["keepalive"])
        self.client.name = self.client.description = "portless"
        self.client.session_timeout = int(config["session_timeout"] * 1000)
        if config["username"]:
            self.client.set_user(config["username"])
            self.client.set_password(config["password"])
        self.lost = asyncio.Event()
        self.ending: BaseException | None = None
        self.client.connection_lost_callback = self._on_lost
        self._variant_types: dict[str, ua.VariantType] = {}

    async def open(self) -> None:
        """Connect, check the server (with security), create and activate the session."""
        if self.security is not None:
            await self._secure()
        await self.client.connect()

    async def _secure(self) -> None:
        security = self.security
        assert security is not None
        policy = security_policies.SecurityPolicyBasic256Sha256
        endpoints = await self.client.connect_and_get_server_endpoints()
        try:
            endpoint = Client.find_endpoint(endpoints, security.mode, policy.URI)
        except UaError:
            offered = sorted({_offered(e) for e in endpoints})
            raise NoEndpoint(f"the server offers no Basic256Sha256 {security.mode_name} "
                             f"endpoint (it offers: {', '.join(offered)})") from None
        # The first certificate of the chain the endpoint sends (asyncua reads chains).
        server_certificate = uacrypto.x509_from_der(  # type: ignore[no-untyped-call]
            endpoint.ServerCertificate)
        if server_certificate is None:
            raise UntrustedServer("the server sent no certificate")
        if security.trust is not None:
            reason = security.trust.check(server_certificate)
            if reason:
                raise UntrustedServer(reason)
        self.client.application_uri = security.application_uri
        # What Client.set_security does, with the certificate already checked here.
        secured: Any = policy(  # type: ignore[no-untyped-call]
            server_certificate, security.certificate, security.private_key, security.mode)
        self.client.security_policy = secured
        self.client.uaclient.set_security(secured)

    async def _on_lost(self, exc: Exception) -> None:
        self.ending = exc
        self.lost.set()

    async def variant_type(self, node_id: str) -> ua.VariantType:
        """The built-in type of a variable's value (read once per session)."""
        known = self._variant_types.get(node_id)
        if known is None:
            known = await self.client.get_node(node_id).read_data_type_as_variant_type()
            self._variant_types[node_id] = known
        return known

    async def write(self, node_ids: list[str], values: list[ua.Variant]) -> list[ua.StatusCode]:
        """Write each value to its variable in one request; the server's result for each."""
        parameters = ua.WriteParameters()
        for node_id, value in zip(node_ids, values, strict=True):
            item = ua.WriteValue()
            item.NodeId = ua.NodeId.from_string(node_id)
            item.AttributeId = AttributeIds.Value
            item.Value = ua.DataValue(value)
            parameters.NodesToWrite.append(item)
        return await self.client.uaclient.write(parameters)

    async def close(self, alive: bool) -> None:
        """Close the session (``alive``: say goodbye to the server, briefly), else only
        drop the link and the client's own tasks."""
        try:
            async with asyncio.timeout(2.0 if alive else 0.5):
                await self.client.disconnect()
        except Exception as exc:  # the link is gone already: nothing more to close
            log.debug("closing an OPC UA session: %r", exc)
        self.client.disconnect_socket()


def _read(field: str, path: str, parse: Callable[[bytes], Any]) -> Any:
    """Read and parse a certificate or key file; a failure names the field and file."""
    try:
        return parse(Path(path).read_bytes())
    except OSError as exc:
        raise ValueError(f"{field} {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError):
        raise ValueError(f"{field} {path}: cannot be read as a PEM or DER certificate or "
                         f"key (or the key's password is wrong)") from None


def _offered(endpoint: ua.EndpointDescription) -> str:
    """An endpoint's security in words: "None", or "Basic256Sha256 Sign"."""
    policy = endpoint.SecurityPolicyUri.rpartition("#")[2]
    return policy if policy == "None" else f"{policy} {endpoint.SecurityMode.name}"


def _certificate(data: bytes) -> x509.Certificate:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _private_key(data: bytes, password: bytes | None) -> Any:
    if b"-----BEGIN" in data:
        return serialization.load_pem_private_key(data, password)
    return serialization.load_der_private_key(data, password)


def _application_uri(certificate: x509.Certificate) -> str:
    """The client's application URI: the one in its certificate (servers compare them),
    else one made from the host name."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return f"urn:{socket.gethostname()}:portless"
    uris = names.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else f"urn:{socket.gethostname()}:portless"
