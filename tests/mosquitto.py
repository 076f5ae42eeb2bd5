"""A real mosquitto for tests: started on a free 127.0.0.1 port, stopped by its PID.

Optional TLS (a CA and server certificate made with trustme), password file, ACL and
persistence. mosquitto runs as the user that runs the tests (``user`` in its config):
started as root it would switch to its own user before it reads its persistence file,
and that user cannot reach the test's directory whenever a pytest session starting on
the same machine closes /tmp/pytest-of-USER to all but its owner. mosquitto then starts
silently empty, every persistent session gone (tests/test_mosquitto.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from portless.devbroker import die_with_parent

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path
    client_cert_file: Path
    client_key_file: Path


@dataclass
class Mosquitto:
    """One broker process; ``start``/``stop``/``kill`` may be called repeatedly."""

    workdir: Path
    users: Mapping[str, str] = field(default_factory=dict)
    acl: str | None = None
    tls: bool = False
    persistence: bool = True
    extra_config: list[str] = field(default_factory=list)  # more mosquitto.conf lines
    max_inflight_messages: int = 20
    """mosquitto's default; over MQTT 5 also the receive maximum it announces."""
    port: int = field(default_factory=free_port)
    tls_port: int = 0
    tls_files: TlsFiles | None = None
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.tls:
            self.tls_port = free_port()
            self.tls_files = _make_certificates(self.workdir)
        self._write_config()

    @property
    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.users else 'true'}",
            f"log_dest file {self.workdir / 'mosquitto.log'}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",  # see the module docstring
            "max_queued_messages 0",
            "max_queued_bytes 0",
            f"max_inflight_messages {self.max_inflight_messages}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            *self.extra_config,
        ]
        if self.users:
            passwords = self.workdir / "passwords"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password],
                               check=True, capture_output=True)
            lines.append(f"password_file {passwords}")
        if self.acl is not None:
            (self.workdir / "acl").write_text(self.acl)
            lines.append(f"acl_file {self.workdir / 'acl'}")
        if self.tls_files is not None:
            files = self.tls_files
            lines += [f"listener {self.tls_port} 127.0.0.1",
                      f"cafile {files.ca_file}", f"certfile {files.cert_file}",
                      f"keyfile {files.key_file}"]
        (self.workdir / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self._close_pipe()  # of a process that ended on its own
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.workdir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        ports = [self.port] + ([self.tls_port] if self.tls_port else [])
        while not all(_accepts(port) for port in ports):
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err}\n{self.log}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"mosquitto did not listen within {timeout} s\n{self.log}")
            time.sleep(0.01)  # polling a port that is coming up; bounded by the deadline

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: mosquitto saves its persistence file and exits."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        self._signal(signal.SIGKILL, 10.0)

    def _signal(self, signum: int, timeout: float) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_pipe()

    def _close_pipe(self) -> None:
        """Close the stderr pipe of an ended process (an open one is a ResourceWarning,
        an error under filterwarnings, in whichever later test the GC finds it)."""
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _make_certificates(directory: Path) -> TlsFiles:
    import trustme

    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("valve-1")
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key",
                     directory / "client.pem", directory / "client.key")
    ca.cert_pem.write_to_path(str(files.ca_file))
    server.cert_chain_pems[0].write_to_path(str(files.cert_file))
    server.private_key_pem.write_to_path(str(files.key_file))
    client.cert_chain_pems[0].write_to_path(str(files.client_cert_file))
    client.private_key_pem.write_to_path(str(files.client_key_file))
    return files
