"""A test-side Sparkplug host application: a plain MQTT client (tests/mqtt_client.py)
that decodes what an edge node publishes with the same .proto, keeps births' datatypes
to read data by alias, publishes STATE and sends commands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portless.nodes.sparkplug.payload import Decoded, Metric, decode_payload, encode_payload
from tests.mqtt_client import Received, Watcher


@dataclass
class Seen:
    """One Sparkplug message as the host read it."""

    topic: str
    verb: str
    edge_node: str
    device: str  # "" for node messages
    payload: Decoded
    qos: int
    retain: bool

    def metric(self, name: str) -> Metric:
        (found,) = [m for m in self.payload.metrics if m.name == name]
        return found

    @property
    def values(self) -> dict[str | int | None, Any]:
        """Metric values by name (births) or alias (data)."""
        return {m.name if m.name is not None else m.alias: m.value
                for m in self.payload.metrics}


class SparkplugHost:
    """Watches ``spBv1.0/<group>/#``; ``await wait_for(verb, n)`` never sleeps."""

    def __init__(self, port: int, group: str = "plant", host_id: str = "scada",
                 version: str = "5") -> None:
        self.group, self.host_id = group, host_id
        self.watcher = Watcher(port, f"spBv1.0/{group}/#", qos=1,
                               client_id=f"host-{host_id}", version=version)
        self._known: dict[tuple[str, str], dict[str | int, str]] = {}
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
            self._decoded.append(self._decode(received))
        self._read = len(self.watcher.received)
        return self._decoded

    def _decode(self, received: Received) -> Seen:
        parts = received.topic.split("/")
        verb, edge_node = parts[2], parts[3]
        device = parts[4] if len(parts) > 4 else ""
        known = self._known.setdefault((edge_node, device), {})
        payload = decode_payload(received.payload, known)
        if verb in ("NBIRTH", "DBIRTH"):
            known.clear()
            for metric in payload.metrics:
                if metric.alias is not None:
                    known[metric.alias] = metric.datatype
                known[metric.name or ""] = metric.datatype
        return Seen(received.topic, verb, edge_node, device, payload, received.qos,
                    received.retain)

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
