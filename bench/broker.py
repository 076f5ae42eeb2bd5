"""The other side of the MQTT benchmarks: a private mosquitto and a subscriber process.

The broker is started as tests/mosquitto.py does it (a free 127.0.0.1 port, a config
file, stopped by its PID), never the machine's own broker on 1883. Persistence is off
and its queues are unbounded, so a burst of QoS 0 messages to a slow subscriber is not
dropped by mosquitto. Its receive maximum is mosquitto's default of 20 unless a scenario
raises it: that is the in-flight window every MQTT 5 publisher works with, and what a
real device meets (over 3.1.1 there is none; mosquitto takes what comes).

The subscriber is ``mosquitto_sub`` (C, a process of its own, so it takes no time from
the publisher's event loop and can run on the other core), writing ``<receive time> <payload>`` per
message to a file; the receive time is CLOCK_REALTIME, the clock of ``time.time()``.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from portless.devbroker import die_with_parent

from .core import BenchError, cpu_seconds

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
RECEIVE_MAXIMUM = 20
"""mosquitto's default ``max_inflight_messages``; it is also the receive maximum the
broker announces in CONNACK, so raising it would widen every publisher's window."""
PROBE_TOPIC = "bench/probe"
PROBE = "probe"
"""A retained message the subscriber gets once its subscriptions are in place."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """One private mosquitto; ``start`` and ``stop`` may be called more than once."""

    workdir: Path
    port: int = field(default_factory=free_port)
    receive_maximum: int = RECEIVE_MAXIMUM
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = self.workdir / "mosquitto.conf"
        self.config.write_text("\n".join([
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            # Stay who we are: started as root, mosquitto would switch to its own user,
            # which clears the parent-death signal (see die_with_parent).
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            "log_dest stderr",
            "log_type error", "log_type warning", "log_type notice",
            f"max_inflight_messages {self.receive_maximum}",
            "max_queued_messages 0",
            "max_queued_bytes 0",
        ]) + "\n")

    @property
    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto and wait until it accepts connections (blocks the caller)."""
        if self.process is not None and self.process.poll() is None:
            return
        self._log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 (kept open)
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=self._log,
                                        preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while not _accepts(self.port):
            if self.process.poll() is not None:
                raise BenchError(f"mosquitto exited at start: {self.log.strip()[-200:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"mosquitto did not listen on {self.port} in {timeout} s")
            time.sleep(0.01)  # polling a port that is coming up; bounded by the deadline

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def cpu_seconds(self) -> float:
        """CPU time mosquitto has used so far (user and system); 0 if not running."""
        return cpu_seconds(self.process.pid if self.process is not None else None)

    def publish_retained(self, topic: str, payload: str) -> None:
        run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(self.port), "-V", "5", "-q", "1",
             "-r", "-t", topic, "-m", payload])

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run(command: list[str], stdin: IO[bytes] | None = None, timeout: float = 30.0) -> None:
    """Run a mosquitto client to completion; BenchError if it fails."""
    try:
        done = subprocess.run(command, stdin=stdin, capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{Path(command[0]).name} did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchError(f"{Path(command[0]).name} exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace').strip()[-200:]}")


@dataclass(frozen=True)
class Arrivals:
    """What the subscriber got: receive times, and the payloads as text."""

    times: list[float]
    payloads: list[str]

    @property
    def count(self) -> int:
        return len(self.times)

    @property
    def rate(self) -> float:
        """Messages a second from the first arrival to the last."""
        if self.count < 2 or self.times[-1] <= self.times[0]:
            return 0.0
        return (self.count - 1) / (self.times[-1] - self.times[0])


class Subscriber:
    """``mosquitto_sub -C count`` on ``topic`` (MQTT 5, so the broker's window towards it
    is its receive maximum of 65535, not 20), in a process of its own."""

    def __init__(self, broker: Broker, topic: str, qos: int, count: int) -> None:
        self.broker, self.topic, self.qos, self.count = broker, topic, qos, count
        self.output = broker.workdir / f"received-{os.getpid()}-{time.monotonic_ns()}.txt"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Subscribe and return once the broker delivers to us (blocks the caller).

        A retained probe is published first; its arrival proves the subscriptions are
        in place, so the first measured message cannot be missed."""
        self.broker.publish_retained(PROBE_TOPIC, PROBE)
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(self.broker.port), "-V", "5",
                 "-q", str(self.qos), "-t", self.topic, "-t", PROBE_TOPIC,
                 "-C", str(self.count + 1), "-F", "%U %p", "-i", f"bench-sub-{os.getpid()}"],
                stdout=out, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while self.output.stat().st_size == 0:
            if self.process.poll() is not None:
                raise BenchError(f"mosquitto_sub exited at start: {self._stderr()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"mosquitto_sub got no probe within {timeout} s")
            time.sleep(0.005)  # waiting for a subprocess; bounded by the deadline

    async def finish(self, idle: float, timeout: float) -> Arrivals:
        """Wait until all ``count`` messages arrived, or none for ``idle`` seconds
        (some were lost), or ``timeout`` passed; then stop and read what arrived."""
        if self.process is None:
            raise BenchError("the subscriber was not started")
        deadline = time.monotonic() + timeout
        size, quiet_since = -1, time.monotonic()
        while self.process.poll() is None:
            now = time.monotonic()
            new_size = self.output.stat().st_size
            if new_size != size:
                size, quiet_since = new_size, now
            elif now - quiet_since > idle or now > deadline:
                break
            await asyncio.sleep(0.05)
        self.stop()
        return self.arrivals()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def arrivals(self) -> Arrivals:
        times: list[float] = []
        payloads: list[str] = []
        with open(self.output, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                stamp, _, payload = line.rstrip("\n").partition(" ")
                if payload == PROBE:
                    continue
                times.append(float(stamp))
                payloads.append(payload)
        return Arrivals(times, payloads)

    def __enter__(self) -> Subscriber:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _stderr(self) -> str:
        if self.process is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode(errors="replace").strip()[-200:]
