"""``portless run --dev-broker``: an MQTT broker on loopback for the demo and development.

Never started without the flag: a production ``portless run --no-editor`` listens on
nothing. For each mqtt-broker node of the flow that names a loopback host, it uses a
broker already listening on that port (and says so), else starts the ``mosquitto``
binary when it is on PATH (a well-kept broker speaking MQTT 5 and 3.1.1), else the
embedded amqtt broker from the ``demo`` extra (pure Python, starts in ~20 ms, MQTT 3.1.1
only). Both are bound to 127.0.0.1 and stopped with portless.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pwd
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from portless.runtime import Flow

log = logging.getLogger("portless.devbroker")
LOOPBACK_NAMES = {"127.0.0.1", "localhost"}
"""Hosts the dev broker serves; it listens on 127.0.0.1, so not ::1."""


BROKER_TYPES = ("mqtt-broker", "sparkplug-node")
"""Node types that connect to a broker (host, port, tls), which --dev-broker serves."""


class DevBrokerError(Exception):
    """No broker could be provided (nothing on PATH, amqtt not installed, bad host)."""


def broker_ports(flow: Flow) -> list[int]:
    """The ports of the flow's broker connections; each must name a loopback host."""
    ports = []
    for spec in flow.nodes:
        if spec.type not in BROKER_TYPES:
            continue
        if spec.config["host"] not in LOOPBACK_NAMES:
            raise DevBrokerError(
                f"node {spec.id}: --dev-broker serves only a loopback host (127.0.0.1 or "
                f"localhost), not {spec.config['host']!r}")
        if spec.config["tls"]:
            raise DevBrokerError(f"node {spec.id}: --dev-broker speaks plain MQTT; "
                                 f"turn tls off or run your own broker")
        ports.append(spec.config["port"] or 1883)
    return sorted(set(ports))


@contextlib.asynccontextmanager
async def dev_brokers(flow: Flow) -> AsyncIterator[None]:
    """Provide a broker on every port the flow's mqtt-broker nodes use, while inside."""
    async with contextlib.AsyncExitStack() as stack:
        for port in broker_ports(flow):
            if await listening(port):
                log.info("--dev-broker: using the broker already listening on 127.0.0.1:%d",
                         port)
                continue
            await stack.enter_async_context(_start(port))
        yield


@contextlib.asynccontextmanager
async def _start(port: int) -> AsyncIterator[None]:
    mosquitto = shutil.which("mosquitto") or shutil.which("/usr/sbin/mosquitto")
    if mosquitto:
        async with _mosquitto(mosquitto, port):
            yield
        return
    try:
        from amqtt.broker import Broker
    except ImportError:
        raise DevBrokerError(
            "--dev-broker needs a broker: install mosquitto (apt install mosquitto) or "
            "the demo extra (pip install 'portless[demo]')") from None
    for noisy in ("amqtt", "transitions"):  # they narrate every state change at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    broker = Broker(_amqtt_config(port))
    await broker.start()
    log.info("--dev-broker: started the embedded amqtt broker on 127.0.0.1:%d "
             "(MQTT 3.1.1 only)", port)
    try:
        yield
    finally:
        await broker.shutdown()


def _amqtt_config(port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                    {"allow_anonymous": True}},
    }


@contextlib.asynccontextmanager
async def _mosquitto(binary: str, port: int) -> AsyncIterator[None]:
    with tempfile.TemporaryDirectory(prefix="portless-dev-broker-") as workdir:
        config = _mosquitto_config(Path(workdir), port)
        process = await asyncio.create_subprocess_exec(
            binary, "-c", str(config), stdout=asyncio.subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        try:
            async with asyncio.timeout(5):
                while not await listening(port):
                    if process.returncode is not None:
                        raise DevBrokerError(f"mosquitto exited ({process.returncode}) "
                                             f"before listening on 127.0.0.1:{port}")
                    await asyncio.sleep(0.02)  # polling a port that is coming up
            log.info("--dev-broker: started mosquitto (pid %d) on 127.0.0.1:%d",
                     process.pid, port)
            yield
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):  # Ctrl-C reached it too
                    process.send_signal(signal.SIGTERM)
                await process.wait()


def die_with_parent() -> None:
    """In a child before exec: have Linux SIGTERM it when its parent dies, so a portless
    killed with SIGKILL leaves no broker behind (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _mosquitto_config(workdir: Path, port: int) -> Path:
    """A config for one loopback listener, no persistence, warnings to stderr."""
    config = workdir / "mosquitto.conf"
    # Run as ourselves: started as root, mosquitto would switch to its own user, which
    # clears the parent-death signal that stops it with portless.
    user = pwd.getpwuid(os.geteuid()).pw_name
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                      f"persistence false\nuser {user}\nlog_dest stderr\n"
                      f"log_type error\nlog_type warning\n")
    return config


async def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
