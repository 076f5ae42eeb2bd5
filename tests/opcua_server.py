"""A real asyncua OPC UA server for tests: its own process on a free 127.0.0.1 port,
stopped by its PID, so a test can kill it and start it again mid-stream.

Optional Basic256Sha256 (Sign and SignAndEncrypt) with certificates made here, and a
username and password. What the server holds is in tests/opcua_server_main.py.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from portless.devbroker import die_with_parent
from tests.mosquitto import free_port

MAIN = Path(__file__).with_name("opcua_server_main.py")
SERVER_URI = "urn:portless:test-plc:server"
CLIENT_URI = "urn:portless:test:client"


@dataclass
class Certificates:
    """A server's and a client's self-signed application certificates (PEM), and a
    second server certificate no one trusts."""

    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_server_cert: Path
    other_server_key: Path


def make_certificates(directory: Path) -> Certificates:
    """OPC UA application certificates (OPC 10000-6 6.2.2), made with cryptography
    through asyncua's generator: the application URI in the subject alternative name."""
    from asyncua.crypto import cert_gen
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    directory.mkdir(parents=True, exist_ok=True)

    def one(name: str, uri: str, usage: x509.ObjectIdentifier) -> tuple[Path, Path]:
        key = cert_gen.generate_private_key()
        cert = cert_gen.generate_self_signed_app_certificate(
            key, name, {}, [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost"),
                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
            [usage], days=2)
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
        return cert_path, key_path

    server = one("server", SERVER_URI, ExtendedKeyUsageOID.SERVER_AUTH)
    client = one("client", CLIENT_URI, ExtendedKeyUsageOID.CLIENT_AUTH)
    other = one("impostor", SERVER_URI, ExtendedKeyUsageOID.SERVER_AUTH)
    return Certificates(*server, *client, *other)


@dataclass
class OpcUaServer:
    """One server process; ``start``/``kill`` may be called repeatedly (same port)."""

    workdir: Path
    tick: float = 0.05
    """How often Valve1.Counter goes up (seconds)."""
    users: dict[str, str] = field(default_factory=dict)
    certificates: Certificates | None = None
    """Offer Basic256Sha256 with these (None: security None only)."""
    impostor: bool = False
    """Present the untrusted certificate instead of the server's own."""
    trusted_clients: list[Path] | None = None
    """Accept only these client certificates (None: any)."""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        certs = self.certificates
        settings = {"port": self.port, "tick": self.tick, "users": self.users,
                    "trusted_clients": None if self.trusted_clients is None
                    else [str(path) for path in self.trusted_clients],
                    "security": certs is not None, "application_uri": SERVER_URI,
                    "cert_file": str(certs.other_server_cert if self.impostor
                                     else certs.server_cert) if certs else "",
                    "key_file": str(certs.other_server_key if self.impostor
                                    else certs.server_key) if certs else ""}
        path = self.workdir / "server.json"
        path.write_text(json.dumps(settings))
        log = (self.workdir / "server.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, str(MAIN), str(path)], stdout=subprocess.PIPE, stderr=log,
            text=True, preexec_fn=die_with_parent)
        log.close()
        assert self.process.stdout is not None
        # The server prints one line when it listens; readline blocks until then, or
        # returns "" when the process exits first (pytest-timeout bounds the wait).
        line = self.process.stdout.readline()
        if line.strip() != "listening":
            self.kill()
            raise RuntimeError(f"OPC UA server did not start:\n{self.log}")

    @property
    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a PLC losing power: no goodbye to the clients."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            if self.process.stdout:
                self.process.stdout.close()
