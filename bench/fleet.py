"""Fleet rollout: one signed bundle to DEVICES simulated devices through a real mosquitto.

Each device is a real DeviceAgent with its own MQTT 5 session (client id
``portless-fleet-<id>``), deploy service, engine, flow file and state directory
(tests/fleet/simulated.py); all of them and the engineer's link share this one process
and its event loop, so the figure is what one core does for the whole fleet, not what a
fleet of devices with a core each would take. Bundles go out one after the other: the
first to devices just started (their connecting included), then REPEATS more to the same devices,
connected, whose median is the figure. The clock runs from the first publish of
``portless fleet publish``'s code (rollout.publish: read each device's desired state,
publish, wait for each PUBACK) until ``portless fleet watch``'s (rollout.watch) has seen
every device report ``healthy`` for the new version; each device verifies the Ed25519
signature, validates, stages and deploys it (atomic writes and a one-node restart), then
holds it through its health gate: tests/fleet/simulated.py's 0.2 s (the default is 30 s,
which would be most of the figure), all devices' gates running at once.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from portless.fleet import keys
from portless.fleet.bundle import Bundle, BundleFile, sign
from portless.fleet.engineer import Engineer
from portless.fleet.engineer_config import load_engineer_config
from portless.fleet.rollout import publish, reports, watch
from tests.fleet.simulated import FLOW_NAME, SimulatedDevice, engineer_config, flow, running
from tests.mosquitto import Mosquitto

from .core import BenchError, Options, Row

DEVICES = 200
REPEATS = 3
"""Rollouts after the first, the median of which is the figure."""
TARGET_SECONDS = 10.0
"""Publish to every device reporting healthy, for DEVICES devices on this machine."""


@dataclass(frozen=True)
class Rollout:
    devices: int
    first_seconds: float
    """Version 1 to devices just started: their connecting included."""
    seconds: list[float]
    """Each later version to the same devices, connected."""
    healthy: int
    """Devices whose retained report says they run the last version, read after."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


async def measure(count: int, workdir: Path, broker: Mosquitto, rollouts: int = 1
                  ) -> Rollout:
    """Start ``count`` devices on ``broker``, roll ``1 + rollouts`` bundles out to all
    one after the other, time each."""
    signing = workdir / "signing"
    trusted = keys.generate(signing)
    (workdir / "trusted").write_text(trusted.line() + "\n")
    config = load_engineer_config(engineer_config(workdir / "fleet.json", broker.port))
    names = [f"device-{i:04}" for i in range(count)]
    devices = [SimulatedDevice(workdir / "devices", name, workdir / "trusted", broker.port)
               for name in names]
    private = keys.load_private(signing)
    seconds = []
    async with running(devices), Engineer(config, timeout=60) as engineer:
        for version in range(1, rollouts + 2):
            nodes = [f"n{i}" for i in range(version + 1)]  # each version a new node
            bundle = sign(Bundle(version=version, files=(BundleFile(FLOW_NAME,
                                                                    flow(*nodes)),)),
                          private)
            start = time.perf_counter()
            refused = await publish(engineer, names, bundle, version, lambda line: None)
            progress = await watch(engineer, names, version, frozenset({"healthy"}), 60,
                                   lambda line: None)
            seconds.append(time.perf_counter() - start)
            if refused or not progress.done():
                raise BenchError(f"version {version}: {len(refused)} publishes refused, "
                                 f"{'all' if progress.done() else 'not all'} healthy")
        healthy = sum(r.state == "healthy" and r.running == rollouts + 1
                       for r in await reports(engineer))
    return Rollout(count, seconds[0], seconds[1:], healthy)


def benchmark(options: Options) -> list[Row]:
    count, rollouts = (20, 1) if options.quick else (DEVICES, REPEATS)
    with tempfile.TemporaryDirectory(prefix="portless-bench-fleet-") as directory:
        broker = Mosquitto(Path(directory) / "broker", persistence=False)
        broker.start()
        try:
            result = asyncio.run(measure(count, Path(directory), broker, rollouts))
        finally:
            broker.stop()
    runs = "/".join(f"{s:.2f}" for s in result.seconds)
    return [Row(f"fleet: one signed bundle to {count} simulated devices (real DeviceAgents, "
                f"each its own MQTT session, one process), publish to all healthy",
                f"{result.median:.2f} s median of {len(result.seconds)} (runs {runs} s), "
                f"{count / result.median:.0f} devices/s, {result.healthy} healthy; the "
                f"first bundle, to devices just started, connecting: "
                f"{result.first_seconds:.2f} s",
                f"<= {TARGET_SECONDS:g} s",
                result.median <= TARGET_SECONDS and result.healthy == count)]
