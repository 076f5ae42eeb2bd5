"""The OPC UA server the tests run (a real asyncua server in its own process).

Started by tests/opcua_server.py as ``python tests/opcua_server_main.py SETTINGS.json``;
prints ``listening`` once it accepts connections and serves until killed. Namespace 2
holds ``Valve1.Counter`` (an Int32 the server increments every ``tick`` seconds), one
writable variable per basic type (``Types.<Name>``), ``Valve1.Flow`` (a writable
Double) and ``Valve1.Locked`` (read-only).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509
from cryptography.hazmat.primitives import serialization

NAMESPACE = "urn:portless:test-plc"

TYPES: dict[str, tuple[ua.VariantType, Any]] = {
    "Boolean": (ua.VariantType.Boolean, False),
    "SByte": (ua.VariantType.SByte, 0),
    "Byte": (ua.VariantType.Byte, 0),
    "Int16": (ua.VariantType.Int16, 0),
    "UInt16": (ua.VariantType.UInt16, 0),
    "Int32": (ua.VariantType.Int32, 0),
    "UInt32": (ua.VariantType.UInt32, 0),
    "Int64": (ua.VariantType.Int64, 0),
    "UInt64": (ua.VariantType.UInt64, 0),
    "Float": (ua.VariantType.Float, 0.0),
    "Double": (ua.VariantType.Double, 0.0),
    "String": (ua.VariantType.String, ""),
}


class Users:
    """Accepts exactly the configured username and password."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def get_user(self, iserver: Any, username: str | None = None,
                 password: str | None = None, certificate: Any = None) -> User | None:
        if username is not None and self.users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class TrustedClients:
    """Accepts only the listed client certificates (PEM files)."""

    def __init__(self, paths: list[str]) -> None:
        self.trusted = {x509.load_pem_x509_certificate(Path(path).read_bytes())
                        .public_bytes(serialization.Encoding.DER) for path in paths}

    async def __call__(self, certificate: x509.Certificate, application: Any) -> None:
        if certificate.public_bytes(serialization.Encoding.DER) not in self.trusted:
            raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)


async def serve(settings: dict[str, Any]) -> None:
    server = Server(user_manager=Users(settings["users"]) if settings["users"] else None)
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{settings['port']}/")
    server.set_server_name("portless test PLC")
    if settings["security"]:
        await server.set_application_uri(settings["application_uri"])
        await server.load_certificate(settings["cert_file"])
        await server.load_private_key(settings["key_file"])
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                                    ua.SecurityPolicyType.Basic256Sha256_Sign])
        if settings["trusted_clients"] is not None:
            server.set_certificate_validator(TrustedClients(settings["trusted_clients"]))
    if settings["users"]:
        server.set_identity_tokens([ua.UserNameIdentityToken])
    index = await server.register_namespace(NAMESPACE)
    objects = server.nodes.objects
    valve = await objects.add_object(ua.NodeId("Valve1", index), ua.QualifiedName("Valve1", index))
    counter = await valve.add_variable(ua.NodeId("Valve1.Counter", index), "Counter",
                                       ua.Variant(0, ua.VariantType.Int32))
    flow = await valve.add_variable(ua.NodeId("Valve1.Flow", index), "Flow",
                                    ua.Variant(0.0, ua.VariantType.Double))
    await flow.set_writable()
    await valve.add_variable(ua.NodeId("Valve1.Locked", index), "Locked",
                             ua.Variant(7, ua.VariantType.Int32))
    types = await objects.add_object(ua.NodeId("Types", index), ua.QualifiedName("Types", index))
    for name, (variant_type, initial) in TYPES.items():
        variable = await types.add_variable(ua.NodeId(f"Types.{name}", index), name,
                                            ua.Variant(initial, variant_type))
        await variable.set_writable()
    async with server:
        print("listening", flush=True)
        count = 0
        while True:
            await asyncio.sleep(settings["tick"])
            count += 1
            await counter.write_value(ua.Variant(count, ua.VariantType.Int32))


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        asyncio.run(serve(json.load(file)))
