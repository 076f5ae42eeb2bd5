"""A test-side Sparkplug host application: a plain MQTT client (tests/mqtt_client.py)
that decodes what an edge node publishes with the same .proto, keeps births' datatypes
to read data by alias, publishes STATE and sends commands."""

from __future__ import annotations

import json

from portless.nodes.sparkplug.host_view import HostView, Seen
from portless.nodes.sparkplug.payload import Metric, encode_payload
from tests.mqtt_client import Watcher


class SparkplugHost:
    """Watches ``spBv1.0/<group>/#``; ``await wait_for(verb, n)`` never sleeps."""

    def __init__(self, port: int, group: str = "plant", host_id: str = "scada",
                 version: str = "5") -> None:
        self.group, self.host_id = group, host_id
        self.watcher = Watcher(port, f"spBv1.0/{group}/#", qos=1,
                               client_id=f"host-{host_id}", version=version)
        self._view = HostView()
        self._decoded: list[Seen] = []
        self._read = 0

    async def __aenter__(self) -> SparkplugHost:
        await self.watcher.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.watcher.__aexit__(*exc)

    @property
    def seen(self) -> list[Seen]:
        """Everything decoded so far, in arrival order (births teach datatypes)."""
        for received in self.watcher.received[self._read:]:
            seen = self._view.read(received.topic, received.payload, received.qos,
                                   received.retain)
            if seen is not None:
                self._decoded.append(seen)
        self._read = len(self.watcher.received)
        return self._decoded

    def of(self, *verbs: str) -> list[Seen]:
        return [s for s in self.seen if s.verb in verbs]

    async def wait_for(self, verb: str, count: int = 1, timeout: float = 10.0
                       ) -> list[Seen]:
        """Wait until ``count`` messages of ``verb`` have arrived; returns them all."""
        def enough() -> bool:
            return len(self.of(verb)) >= count
        await self.watcher.wait_until(enough, timeout)
        return self.of(verb)

    def command(self, edge_node: str, metrics: list[Metric], device: str = "") -> None:
        """NCMD (or DCMD to ``device``): QoS 0, no seq, as a host sends them."""
        verb = "DCMD" if device else "NCMD"
        topic = f"spBv1.0/{self.group}/{verb}/{edge_node}" + (f"/{device}" if device else "")
        self.watcher.publish(topic, encode_payload(metrics, 1, None), qos=0)

    def state(self, online: bool, timestamp: int, host_id: str | None = None) -> None:
        """The 3.0 STATE message: retained, QoS 1, JSON."""
        self.watcher.publish(f"spBv1.0/STATE/{host_id or self.host_id}",
                             json.dumps({"online": online, "timestamp": timestamp}),
                             qos=1, retain=True)
